"""Bounded resources: idle connections cost no thread and are closed, stalled requests are
abandoned, a full server answers 503 with Retry-After, the listen backlog fits a burst, and a
flood of 300 idle connections under ``ulimit -n 256`` does not stop normal clients."""

from __future__ import annotations

import os
import resource
import selectors
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
    limits = Limits(idle_timeout=0.5, io_timeout=0.5)
    with Sandbox(engine="instant", data_dir=tmp_path, limits=limits) as sb:
        never_used = socket.create_connection(("127.0.0.1", sb.port))
        kept_alive = requests.Session()
        kept_alive.get(sb.base_url + P.TASK_DETAIL_PATH, timeout=5)
        took = closed_within(never_used, 5)
        assert took is not None and took < 2, took
        time.sleep(1.0)
        assert sb._httpd.connections.open_connections == 0  # the keep-alive one went too


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
        idle = [socket.create_connection(("127.0.0.1", sb.port)) for _ in range(8)]
        time.sleep(0.3)
        api = Api(sb)
        for _ in range(5):
            assert api.detail(1)["code"] == 400  # served at once, through the idle crowd
        assert sb._httpd.connections.open_connections <= 8
        assert closed_within(idle[0], 2) is not None  # the oldest idle one was closed
        for s in idle:
            s.close()


def test_listen_backlog_fits_a_burst(sb: Sandbox) -> None:
    out = subprocess.run(["ss", "-ltnH", f"sport = :{sb.port}"], capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.strip():
        pytest.skip("ss is not available")
    backlog = int(out.stdout.split()[2])  # Send-Q of a listening socket: its backlog
    assert backlog >= 128


class IdleFlood(threading.Thread):
    """Keeps ``count`` connections open to a server, sending nothing, reopening any it closes."""

    def __init__(self, port: int, count: int) -> None:
        super().__init__(daemon=True)
        self.port, self.count = port, count
        self.stop = threading.Event()
        self.reopened = 0
        self.held = 0
        self.connected = threading.Event()

    def _open(self, sel: selectors.BaseSelector) -> None:
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", self.port))
        sel.register(s, selectors.EVENT_READ)

    def run(self) -> None:
        sel = selectors.DefaultSelector()
        for _ in range(self.count):
            self._open(sel)
        self.connected.set()
        while not self.stop.is_set():
            self.held = len(sel.get_map())
            for key, _ in sel.select(0.1):
                sock = key.fileobj
                try:
                    data = sock.recv(4096)  # type: ignore[union-attr]
                except OSError:
                    data = b""
                if not data:  # closed by the server: open another one
                    sel.unregister(sock)
                    sock.close()  # type: ignore[union-attr]
                    self.reopened += 1
                    self._open(sel)
        for key in list(sel.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        sel.close()


def _server(tmp: Path, nofile: int) -> tuple[subprocess.Popen, str]:
    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    cmd = [sys.executable, "-m", "mio_nb.cli", "sandbox", "--port", "0", "--engine", "instant"]
    cmd += ["--data-dir", str(tmp / "data"), "--token", TOKEN]
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
def test_300_idle_connections_under_ulimit_256_do_not_stop_normal_clients(
    tmp_path: Path,
) -> None:
    proc, base_url = _server(tmp_path, nofile=256)
    try:
        _swaps(base_url, 2, 1)  # warm up
        before, errors = _swaps(base_url, 4, 4)
        assert not errors, errors
        flood = IdleFlood(int(base_url.rsplit(":", 1)[1]), 300)
        flood.start()
        flood.connected.wait(10)
        time.sleep(1.0)
        during, errors = _swaps(base_url, 4, 4)
        threads, fds = _threads_and_fds(proc.pid)
        flood.stop.set()
        flood.join(10)
        assert not errors, errors
        assert flood.held == 300
        base, loaded = statistics.median(before), statistics.median(during)
        print(f"swap median {base:.3f} s alone, {loaded:.3f} s with 300 idle connections; ")
        print(f"server: {threads} threads, {fds} fds; {flood.reopened} idle ones closed")
        assert loaded <= 2 * base, (base, loaded)
        assert fds < 256 and threads < 60, (threads, fds)
        assert proc.poll() is None
        assert "Traceback" not in (tmp_path / "server.log").read_text()
    finally:
        proc.terminate()
        proc.wait(15)
