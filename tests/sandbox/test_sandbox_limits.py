"""Bounded resources: idle connections cost no thread and are closed, stalled requests are
abandoned, a full server answers 503 with Retry-After, the listen backlog fits a burst, and a
flood of 300 idle connections under ``ulimit -n 256`` does not stop normal clients."""

from __future__ import annotations

import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from sandbox_helpers import Api, full_swap

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.sandbox import Faults, Limits, Sandbox

TOKEN = "limits-token"


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed ``sock`` (None if still open after ``seconds``)."""
    t0 = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - t0


def answer_of(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(10)
    answer = b""
    while piece := sock.recv(65536):
        answer += piece
    return answer


def test_idle_connections_are_closed_after_the_idle_timeout(tmp_path: Path) -> None:
    limits = Limits(idle_timeout=0.5, io_timeout=0.5, defer_accept=False)
    with Sandbox(engine="instant", data_dir=tmp_path, limits=limits) as sb:
        never_used = socket.create_connection(("127.0.0.1", sb.port))
        kept_alive = requests.Session()
        kept_alive.get(sb.base_url + P.TASK_DETAIL_PATH, timeout=5)
        took = closed_within(never_used, 5)
        assert took is not None and took < 2, took
        time.sleep(1.0)
        assert sb._httpd.connections.open_connections == 0  # the keep-alive one went too


@pytest.mark.skipif(not hasattr(socket, "TCP_DEFER_ACCEPT"), reason="Linux only")
def test_connections_that_send_nothing_stay_with_the_kernel(sb: Sandbox) -> None:
    silent = [socket.create_connection(("127.0.0.1", sb.port)) for _ in range(20)]
    time.sleep(0.3)
    assert sb._httpd.connections.open_connections == 0
    assert Api(sb).detail(1)["code"] == 400
    for s in silent:
        s.close()


def test_a_body_shorter_than_its_length_is_dropped_quickly(tmp_path: Path) -> None:
    limits = Limits(io_timeout=1.0)
    with Sandbox(engine="instant", data_dir=tmp_path, limits=limits) as sb:
        got = Api(sb).ok(P.UPLOAD_URL_PATH, {"file_name": "a.png"})
        target = got["upload_url"].split(str(sb.port), 1)[1]
        sock = socket.create_connection(("127.0.0.1", sb.port))
        head = f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
        sock.sendall(head.encode() + samples.astronaut().read_bytes()[:1000])
        t0 = time.monotonic()
        answer = answer_of(sock)
        assert time.monotonic() - t0 < 3
        assert answer.startswith(b"HTTP/1.1 400") and b"<Code>RequestTimeout</Code>" in answer
        assert not any((sb.data_dir / "tmp").iterdir())  # the partial upload is gone
        api_sock = socket.create_connection(("127.0.0.1", sb.port))
        api_sock.sendall(
            f"POST {P.UPLOAD_URL_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{{".encode()
        )
        answer = answer_of(api_sock)
        assert answer.startswith(b"HTTP/1.1 408") and b'"code": 400' in answer


def test_slow_request_heads_hold_no_thread_and_get_408(tmp_path: Path) -> None:
    """Twenty clients sending a request head byte by byte, against two request threads: the
    others are served at once, and each slow head gets a 408 when its deadline (counted from
    its first byte, not per byte) passes."""
    limits = Limits(workers=2, io_timeout=2.0)
    with Sandbox(engine="instant", data_dir=tmp_path, limits=limits) as sb:
        slow = [socket.create_connection(("127.0.0.1", sb.port)) for _ in range(20)]
        first_byte = time.monotonic()
        for s in slow:
            s.sendall(b"GET /v1/task/deta")
        api = Api(sb)
        for _ in range(10):
            assert api.detail(1)["code"] == 400
        assert time.monotonic() - first_byte < 1.5  # served at once
        for byte in b"il?id=1":  # a byte every 0.2 s for 1.4 s: does not extend the deadline
            slow[0].sendall(bytes([byte]))
            time.sleep(0.2)
        for s in slow:
            answer = answer_of(s)
            assert answer.startswith(b"HTTP/1.1 408") and b'"code": 400' in answer, answer
        assert time.monotonic() - first_byte < 3.5


def test_a_full_server_answers_503_with_retry_after(tmp_path: Path) -> None:
    limits = Limits(workers=1, queue=0, retry_after=2)
    faults = Faults(latency=1.5, only_paths=(P.UPLOAD_URL_PATH,))
    with Sandbox(engine="instant", data_dir=tmp_path, limits=limits, faults=faults) as sb:
        body = {"file_name": "a.png"}
        slow = threading.Thread(target=lambda: Api(sb).ok(P.UPLOAD_URL_PATH, body))
        slow.start()
        time.sleep(0.3)  # the only worker is now busy for 1.5 s
        r = requests.get(sb.base_url + P.TASK_DETAIL_PATH, params={"id": 1}, timeout=5)
        assert r.status_code == 503 and r.headers["Retry-After"] == "2"
        assert r.json()["code"] == 500 and "busy" in r.json()["message"]
        slow.join()
        time.sleep(0.1)
        r = requests.get(sb.base_url + P.TASK_DETAIL_PATH, params={"id": 1}, timeout=5)
        assert r.status_code == 200  # free again


def test_at_the_connection_cap_the_longest_idle_connection_makes_room(tmp_path: Path) -> None:
    limits = Limits(max_connections=8)
    with Sandbox(engine="instant", data_dir=tmp_path, limits=limits) as sb:
        idle = []
        for _ in range(8):  # 8 keep-alive connections, each idle after one request
            s = socket.create_connection(("127.0.0.1", sb.port))
            s.sendall(f"GET {P.TASK_DETAIL_PATH}?id=1 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
            idle.append(s)
            time.sleep(0.1)  # parked again before the next one: idle[0] is the oldest
        time.sleep(0.3)
        assert sb._httpd.connections.open_connections == 8
        api = Api(sb)
        for _ in range(5):
            assert api.detail(1)["code"] == 400  # served at once, through the idle crowd
        assert sb._httpd.connections.open_connections <= 8
        assert closed_within(idle[0], 2) is not None  # the one idle the longest was closed
        for s in idle:
            s.close()


def test_listen_backlog_fits_a_burst(sb: Sandbox) -> None:
    out = subprocess.run(["ss", "-ltnH", f"sport = :{sb.port}"], capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.strip():
        pytest.skip("ss is not available")
    backlog = int(out.stdout.split()[2])  # Send-Q of a listening socket: its backlog
    somaxconn = Path("/proc/sys/net/core/somaxconn")
    cap = int(somaxconn.read_text()) if somaxconn.exists() else 1024
    assert backlog >= min(1024, cap) and backlog >= 128


#: Keeps N connections open to a port, sending nothing, reopening any the server closes, until
#: its stdin closes; then prints how many it held and reopened. Its own process, so that its
#: busy loop does not slow the test's clients down.
FLOOD = """
import selectors, socket, sys, threading
port, count = int(sys.argv[1]), int(sys.argv[2])
sel = selectors.DefaultSelector()
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
def open_one():
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    sel.register(s, selectors.EVENT_READ)
for _ in range(count):
    open_one()
print("ready", flush=True)
reopened = 0
while not stop.is_set():
    for key, _ in sel.select(0.1):
        try:
            data = key.fileobj.recv(4096)
        except OSError:
            data = b""
        if not data:
            sel.unregister(key.fileobj)
            key.fileobj.close()
            reopened += 1
            open_one()
print("held", len(sel.get_map()), "reopened", reopened, flush=True)
"""


#: The sandbox as ``mio-nb sandbox`` runs it, but with TCP_DEFER_ACCEPT off: as on macOS, every
#: connection reaches the server, which must then close idle ones to make room.
NO_DEFER_SERVER = """
import signal, sys, threading
from mio_nb.sandbox import Limits, Sandbox
sb = Sandbox(engine="instant", data_dir=sys.argv[1], token=sys.argv[2],
             limits=Limits(defer_accept=False))
print("MIOCREATE_BASE_URL=" + sb.base_url, flush=True)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: done.set())
done.wait()
sb.stop()
"""


def _server(tmp: Path, nofile: int, defer_accept: bool) -> tuple[subprocess.Popen, str]:
    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    if defer_accept:
        cmd = [sys.executable, "-m", "mio_nb.cli", "sandbox", "--port", "0"]
        cmd += ["--engine", "instant", "--data-dir", str(tmp / "data"), "--token", TOKEN]
    else:
        cmd = [sys.executable, "-c", NO_DEFER_SERVER, str(tmp / "data"), TOKEN]
    log = open(tmp / "server.log", "w")  # noqa: SIM115 (kept open by the child)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=log, text=True, preexec_fn=limit_files
    )
    line = proc.stdout.readline().strip()  # type: ignore[union-attr]
    assert line.startswith("MIOCREATE_BASE_URL="), (tmp / "server.log").read_text()
    return proc, line.split("=", 1)[1]


def _swaps(base_url: str, clients: int, each: int) -> tuple[list[float], list[str]]:
    main = samples.grace_hopper().read_bytes()
    face = samples.astronaut().read_bytes()
    times: list[float] = []
    errors: list[str] = []

    def client() -> None:
        api = Api(SimpleNamespace(base_url=base_url, token=TOKEN))  # type: ignore[arg-type]
        for _ in range(each):
            try:
                times.append(full_swap(api, main, face))
            except Exception as exc:  # counted, then asserted to be none
                errors.append(repr(exc))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors


def _threads_and_fds(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    threads = int(next(line for line in status.splitlines() if line.startswith("Threads:"))[8:])
    return threads, len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize("defer_accept", [True, False], ids=["defer-accept", "no-defer-accept"])
def test_300_idle_connections_under_ulimit_256_do_not_stop_normal_clients(
    tmp_path: Path, defer_accept: bool
) -> None:
    """300 connections that send nothing, reopened as soon as the server closes one, against a
    server limited to 256 file descriptors; four clients swap meanwhile."""
    proc, base_url = _server(tmp_path, nofile=256, defer_accept=defer_accept)
    flood: subprocess.Popen | None = None
    try:
        _swaps(base_url, 2, 1)  # warm up
        before, errors = _swaps(base_url, 4, 4)
        assert not errors, errors
        port = base_url.rsplit(":", 1)[1]
        flood = subprocess.Popen(
            [sys.executable, "-c", FLOOD, port, "300"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert flood.stdout.readline().strip() == "ready"  # type: ignore[union-attr]
        time.sleep(1.0)
        during, errors = _swaps(base_url, 4, 4)
        threads, fds = _threads_and_fds(proc.pid)
        out, _ = flood.communicate("", timeout=30)
        _, held, _, reopened = out.split()
        if defer_accept:
            assert not errors, errors
        else:
            # Without defer-accept, a new connection whose request has not arrived yet when the
            # flood needs its slot can be closed: rare, a dropped connection (never an HTTP
            # error), which a client retries (mio-nb's client does).
            assert len(errors) <= 1, errors
            assert all("Connection aborted" in e or "reset" in e for e in errors), errors
        assert held == "300"
        after, errors = _swaps(base_url, 4, 4)  # the machine's load may change meanwhile
        assert not errors, errors
        base, loaded = statistics.median(before + after), statistics.median(during)
        print(f"swap median {base:.3f} s alone, {loaded:.3f} s with 300 idle connections; ")
        print(f"server: {threads} threads, {fds} fds; {reopened} idle ones closed")
        # Linux (defer-accept, the default): no slowdown beyond 2x. Without it (macOS), every
        # reconnection costs the server an accept and a close: on a loaded 2-core machine up
        # to ~2.5x was measured.
        assert loaded <= (2 if defer_accept else 3) * base, (base, loaded)
        assert fds < 256 and threads < 60, (threads, fds)
        assert proc.poll() is None
    finally:
        if flood is not None and flood.poll() is None:
            flood.kill()
            flood.wait(10)
        proc.terminate()
        proc.wait(15)
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
