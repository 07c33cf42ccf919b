"""A hostile server cannot hang the client, flood its memory or disk, or make it save what was
not asked for, and no storage URL makes it connect off the machine.

Each case runs against a real HTTP server on loopback that misbehaves on purpose
(:mod:`hostile`); a guard records (and refuses) every connection to a non-loopback address.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import psutil
import pytest
from client_testkit import FAST_RETRY, portrait
from hostile import (
    HostileServer,
    detail,
    endless,
    guard_connections,
    send_bytes,
    send_json,
    trickle,
)

from mio_nb.client import Client
from mio_nb.errors import (
    ResponseTooLargeError,
    ResultCheckError,
    TaskTimeoutError,
    UnsafeURLError,
)

DETAIL = "/v1/task/detail"
TIMEOUT = 3.0


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def client(hostile: HostileServer, tmp_path: Path) -> Iterator[Client]:
    with Client(
        base_url=hostile.base_url,
        token="t0k3n",
        output_dir=tmp_path / "out",
        progress=False,
        retry=FAST_RETRY,
    ) as c:
        yield c


def _png() -> bytes:
    buf = io.BytesIO()
    portrait().save(buf, format="PNG")
    return buf.getvalue()


def _left_behind(client: Client) -> list[str]:
    """Files in the output folder besides the journal and its lock."""
    folder = client.output_dir
    if not folder.exists():
        return []
    return sorted(
        p.name
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith("journal.jsonl") and ".mio-claims" not in str(p)
    )


def _timed_wait(client: Client, task_id: int = 7) -> tuple[BaseException, float]:
    start = time.monotonic()
    with pytest.raises(Exception) as caught:
        client.task(task_id).wait(timeout=TIMEOUT, progress=False)
    return caught.value, time.monotonic() - start


# -- deadlines -------------------------------------------------------------------------------


def _trickled_body(h: BaseHTTPRequestHandler) -> None:
    trickle(h, json.dumps({"code": 200, "data": {"status": 2}}).encode(), every=0.5)


def _hung_before_headers(h: BaseHTTPRequestHandler) -> None:
    time.sleep(30)


def _trickled_headers(h: BaseHTTPRequestHandler) -> None:
    h.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(100):
        h.wfile.write(b"X")
        h.wfile.flush()
        time.sleep(0.3)


def _retry_after_503(h: BaseHTTPRequestHandler) -> None:
    h.send_response(503)
    h.send_header("Retry-After", "6")
    h.send_header("Content-Length", "0")
    h.end_headers()


def _retry_after_802(h: BaseHTTPRequestHandler) -> None:
    body = json.dumps({"code": 802, "message": "slow down", "data": None}).encode()
    h.send_response(200)
    h.send_header("Retry-After", "20")
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _envelope_500(h: BaseHTTPRequestHandler) -> None:
    body = json.dumps({"code": 500, "message": "busy", "data": None}).encode()
    h.send_response(200)
    h.send_header("Retry-After", "8")
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


@pytest.mark.parametrize(
    "handler",
    [
        _trickled_body,
        _hung_before_headers,
        _trickled_headers,
        _retry_after_503,
        _retry_after_802,
        _envelope_500,
    ],
)
def test_wait_ends_within_its_timeout_whatever_the_detail_answer(
    client: Client, hostile: HostileServer, handler
) -> None:
    hostile.routes[DETAIL] = handler
    error, elapsed = _timed_wait(client)
    assert isinstance(error, TaskTimeoutError), repr(error)
    assert error.task_id == 7
    assert elapsed < TIMEOUT + 1.0, f"{handler.__name__}: {elapsed:.1f} s"


@pytest.mark.parametrize("mode", ["hung", "trickled", "slow-redirect"])
def test_wait_ends_within_its_timeout_when_the_download_hangs(
    client: Client, hostile: HostileServer, mode: str
) -> None:
    def result(h: BaseHTTPRequestHandler) -> None:
        if mode == "hung":
            h.send_response(200)
            h.send_header("Content-Length", "100000")
            h.end_headers()
            h.wfile.flush()
            time.sleep(30)
        else:
            trickle(h, _png(), every=0.2)

    def redirect(h: BaseHTTPRequestHandler) -> None:
        time.sleep(1.0)
        h.send_response(302)
        h.send_header("Location", "/files/out.png")
        h.send_header("Content-Length", "0")
        h.end_headers()

    hostile.routes["/files/out.png"] = result
    hostile.routes["/files/redirect"] = redirect
    path = "/files/redirect" if mode == "slow-redirect" else "/files/out.png"
    hostile.routes[DETAIL] = lambda h: send_json(h, detail(hostile.base_url + path))
    error, elapsed = _timed_wait(client)
    assert isinstance(error, TaskTimeoutError), repr(error)
    assert elapsed < TIMEOUT + 1.0
    assert _left_behind(client) == []  # no .part file
    assert all(e.status != "done" for e in client.history())


# -- caps ------------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [200_000, 5_000_000])
def test_an_endless_result_stops_near_its_declared_size(
    client: Client, hostile: HostileServer, declared: int
) -> None:
    hostile.routes["/files/out.png"] = endless
    hostile.routes[DETAIL] = lambda h: send_json(
        h, detail(hostile.base_url + "/files/out.png", size=declared)
    )
    with pytest.raises(ResponseTooLargeError):
        client.task(7).wait(timeout=30, progress=False)
    assert _left_behind(client) == []
    assert all(e.status != "done" for e in client.history())


@pytest.mark.parametrize("megabytes", [20, 300])
def test_an_endless_api_answer_is_cut_with_bounded_memory(
    client: Client, hostile: HostileServer, megabytes: int
) -> None:
    def huge(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(megabytes << 20))
        h.end_headers()
        h.wfile.write(b'{"code": 200, "data": {"status": 2, "pad": "')
        chunk = b"x" * (1 << 20)
        for _ in range(megabytes):
            h.wfile.write(chunk)

    hostile.routes[DETAIL] = huge
    me = psutil.Process(os.getpid())
    before = me.memory_info().rss
    with pytest.raises(ResponseTooLargeError):
        client.task(7).refresh()
    grown = (me.memory_info().rss - before) / 1e6
    assert grown < 40, f"memory grew {grown:.0f} MB for a {megabytes} MB answer"


# -- what is saved ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "declared"),
    [
        (b"<!DOCTYPE html><html><title>Sign in</title></html>", None),
        (b"<html><body>404</body></html>", 29),
        ("PNG_CUT", None),
        ("PNG_CUT", "FULL"),
        (b"", None),
        (b"\x00\x00\x00\x18ftypmp42" + b"\0" * 64, None),  # a video where a picture is due
    ],
    ids=["html", "html-declared", "png-cut", "png-cut-declared", "empty", "video-for-image"],
)
def test_a_result_that_is_not_the_picture_asked_for_is_refused_and_not_recorded(
    client: Client, hostile: HostileServer, body: bytes | str, declared: int | str | None
) -> None:
    png = _png()
    data = png[: len(png) // 2] if body == "PNG_CUT" else body
    assert isinstance(data, bytes)
    size = len(png) if declared == "FULL" else declared
    hostile.routes["/files/out.png"] = lambda h: send_bytes(h, data)
    hostile.routes[DETAIL] = lambda h: send_json(
        h,
        detail(hostile.base_url + "/files/out.png", size=size),  # type: ignore[arg-type]
    )
    with pytest.raises(ResultCheckError) as caught:
        client.task(7).wait(timeout=10, progress=False)
    assert caught.value.task_id == 7
    assert _left_behind(client) == []
    assert all(e.status != "done" for e in client.history())


@pytest.mark.parametrize("key", ["results/out.html", "results/out.exe", "results/out", "a.jpg"])
def test_the_saved_extension_comes_from_the_content(
    client: Client, hostile: HostileServer, key: str
) -> None:
    png = _png()
    hostile.routes["/files/x"] = lambda h: send_bytes(h, png, "text/html")
    hostile.routes[DETAIL] = lambda h: send_json(
        h, detail(hostile.base_url + "/files/x", size=len(png), merge_key=key)
    )
    result = client.task(7).wait(timeout=10, progress=False)
    assert result.path.suffix == ".png"
    assert result.path.read_bytes() == png
    assert [e.status for e in client.history()] == ["done"]


# -- where results come from -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/",
        "http://10.0.0.7/result.png",
        "http://192.168.1.1/result.png",
        "http://[::ffff:169.254.169.254]/",
        "file:///etc/passwd",
        "ftp://127.0.0.1/result.png",
        "gopher://127.0.0.1:70/x",
    ],
)
def test_storage_urls_on_internal_addresses_are_refused_before_any_connection(
    client: Client, hostile: HostileServer, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    hostile.routes[DETAIL] = lambda h: send_json(h, detail(url))
    with guard_connections(monkeypatch) as guard, pytest.raises(UnsafeURLError):
        client.task(7).wait(timeout=10, progress=False)
    assert guard.refused == []  # not even tried
    assert all(e.status != "done" for e in client.history())


@pytest.mark.parametrize(
    "target",
    ["http://10.1.2.3/x.png", "http://169.254.169.254/x", "http://localhost:{port}/files/ok"],
)
def test_redirects_to_another_host_are_refused_before_any_connection(
    client: Client, hostile: HostileServer, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    port = hostile.base_url.rsplit(":", 1)[1]
    png = _png()

    def redirect(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", target.format(port=port))
        h.send_header("Content-Length", "0")
        h.end_headers()

    hostile.routes["/files/r"] = redirect
    hostile.routes["/files/ok"] = lambda h: send_bytes(h, png)
    hostile.routes[DETAIL] = lambda h: send_json(h, detail(hostile.base_url + "/files/r"))
    with guard_connections(monkeypatch) as guard, pytest.raises(UnsafeURLError):
        client.task(7).wait(timeout=10, progress=False)
    assert guard.refused == []
    assert hostile.hits.get("/files/ok", 0) == 0


def test_a_redirect_on_the_same_host_is_followed(client: Client, hostile: HostileServer) -> None:
    png = _png()

    def redirect(h: BaseHTTPRequestHandler) -> None:
        h.send_response(307)
        h.send_header("Location", "/files/ok")
        h.send_header("Content-Length", "0")
        h.end_headers()

    hostile.routes["/files/r"] = redirect
    hostile.routes["/files/ok"] = lambda h: send_bytes(h, png)
    hostile.routes[DETAIL] = lambda h: send_json(h, detail(hostile.base_url + "/files/r"))
    assert client.task(7).wait(timeout=10, progress=False).path.read_bytes() == png


@pytest.mark.parametrize("cut_at", [0, 100, 1000])
def test_a_connection_broken_while_saving_is_a_network_error_not_a_folder_error(
    client: Client, hostile: HostileServer, cut_at: int
) -> None:
    from mio_nb.errors import NetworkError

    png = _png()

    def broken(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(png)))
        h.end_headers()
        h.wfile.write(png[:cut_at])
        h.wfile.flush()
        h.close_connection = True
        h.connection.shutdown(2)

    hostile.routes["/files/out.png"] = broken
    hostile.routes[DETAIL] = lambda h: send_json(
        h, detail(hostile.base_url + "/files/out.png", size=len(png))
    )
    with pytest.raises(NetworkError) as caught:
        client.task(7).wait(timeout=10, progress=False)
    assert "space" not in str(caught.value)
    assert _left_behind(client) == []
    assert all(e.status != "done" for e in client.history())


def test_parts_abandoned_by_a_killed_process_are_swept_at_the_next_save(
    client: Client, hostile: HostileServer
) -> None:
    png = _png()
    client.output_dir.mkdir(parents=True)
    (client.output_dir / "faces-abc-1").mkdir()
    stale = [client.output_dir / ".part-dead1", client.output_dir / "faces-abc-1" / ".part-x"]
    fresh = client.output_dir / ".part-alive"
    for path in [*stale, fresh]:
        path.write_bytes(b"half a download")
    for path in stale:
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    hostile.routes["/files/ok"] = lambda h: send_bytes(h, png)
    hostile.routes[DETAIL] = lambda h: send_json(h, detail(hostile.base_url + "/files/ok"))
    client.task(7).wait(timeout=10, progress=False)
    assert not any(p.exists() for p in stale)
    assert fresh.exists()  # another process may be writing it


@pytest.mark.parametrize(
    "body",
    [
        b'{"code": 200, "data": {"status": 1e400}}',
        b'{"code": 1e400, "data": null}',
        b'{"code": 200, "data": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b"[" * 100_000,
        b'{"code": 200, "data": {"status": 3, "additional_data": {"merge_url": 5}}}',
        b'{"code": 200, "data": {"status": 3, "additional_data": [{"url": 1}]}}',
        b'{"code": 200, "data": "text"}',
        b"\xff\xfe not json",
    ],
    ids=[
        "status-inf",
        "code-inf",
        "nested-data",
        "nested",
        "url-number",
        "face-junk",
        "text",
        "bytes",
    ],
)
def test_odd_answers_end_in_a_mio_error_not_a_python_one(
    client: Client, hostile: HostileServer, body: bytes
) -> None:
    from mio_nb.errors import MioError

    hostile.routes[DETAIL] = lambda h: send_bytes(h, body, "application/json")
    with pytest.raises(MioError):
        client.task(7).wait(timeout=2, progress=False)
