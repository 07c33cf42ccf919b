"""A hostile server on loopback (answers trickled, endless, lying, redirecting) and a guard that
records and refuses every connection to a non-loopback address made in this process."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[BaseHTTPRequestHandler], None]


class HostileServer:
    """``routes[path] = handler(request)``; ``hits[path]`` counts requests per path."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: dict[str, int] = {}
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _route(self) -> None:
                path = self.path.split("?")[0]
                outer.hits[path] = outer.hits.get(path, 0) + 1
                handler = outer.routes.get(path)
                if handler is None:
                    send_json(self, {"code": 400, "message": "no such path", "data": None})
                    return
                with suppress(BrokenPipeError, ConnectionResetError, OSError):
                    handler(self)

            do_GET = do_POST = do_PUT = _route

        self.httpd = ThreadingHTTPServer((host, 0), _H)
        self.httpd.daemon_threads = True
        self.base_url = f"http://{host}:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def send_json(h: BaseHTTPRequestHandler, payload: Any, status: int = 200) -> None:
    body = json.dumps(payload).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def send_bytes(h: BaseHTTPRequestHandler, body: bytes, ctype: str = "image/png") -> None:
    h.send_response(200)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def detail(merge_url: str, size: int | None = None, **extra: Any) -> dict[str, Any]:
    """A finished face-swap task's detail envelope."""
    data: dict[str, Any] = {"merge_url": merge_url, "merge_key": "results/out.png", **extra}
    if size is not None:
        data["size"] = size
    return {"code": 200, "message": "", "data": {"status": 3, "additional_data": data}}


def trickle(
    h: BaseHTTPRequestHandler, body: bytes, every: float, length: int | None = None
) -> None:
    """Headers at once, then the body one byte every ``every`` seconds."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(length if length is not None else len(body)))
    h.end_headers()
    h.wfile.flush()
    for b in body:
        h.wfile.write(bytes([b]))
        h.wfile.flush()
        time.sleep(every)


def endless(h: BaseHTTPRequestHandler, chunk: int = 1 << 16, ctype: str = "image/png") -> None:
    """A body that never ends (no length, chunks of PNG-looking bytes)."""
    h.send_response(200)
    h.send_header("Content-Type", ctype)
    h.send_header("Connection", "close")
    h.end_headers()
    piece = b"\x89PNG\r\n\x1a\n" + b"\0" * (chunk - 8)
    while True:
        h.wfile.write(piece)


class ConnectionGuard:
    """Records every connect() made in this process and refuses those to non-loopback
    addresses (no traffic ever leaves the machine)."""

    def __init__(self) -> None:
        self.refused: list[Any] = []
        self.loopback: list[Any] = []


@contextmanager
def guard_connections(monkeypatch: Any) -> Iterator[ConnectionGuard]:
    guard = ConnectionGuard()
    original = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        try:
            loop = ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            loop = False
        if not loop:
            guard.refused.append(address)
            raise ConnectionRefusedError(f"test guard: no connection to {address}")
        guard.loopback.append(address)
        return original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield guard
