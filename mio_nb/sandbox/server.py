"""The sandbox's HTTP layer: routing, fault injection, streaming storage PUT and GET.

Built on the standard library's ``ThreadingHTTPServer`` (one thread per connection, HTTP/1.1
keep-alive). JSON endpoints live in :mod:`mio_nb.sandbox.api`.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from mio_nb.formats import HEAD_BYTES, MAX_UPLOAD_BYTES, sniff
from mio_nb.protocol import Code
from mio_nb.sandbox.api import API_PATHS, Api, envelope
from mio_nb.sandbox.faults import FaultState, Outcome
from mio_nb.sandbox.httpio import CHUNK, BodyError, iter_body, parse_range, read_small_body
from mio_nb.sandbox.storage import STORAGE_PREFIX, Storage, valid_key

log = logging.getLogger("mio_nb.sandbox")

API_BODY_LIMIT = 1 << 20
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its open connections, to close them all at stop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: Api, storage: Storage, faults: FaultState):
        self.api = api
        self.storage = storage
        self.faults = faults
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Idle keep-alive connections (and stalled uploads) are closed after this many seconds.
    timeout = 300
    server_version = "mio-nb-sandbox"
    server: SandboxHTTPServer

    # -- plumbing --------------------------------------------------------------------------
    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        # Never the query string (signatures) nor any header (tokens).
        log.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def _base_url(self) -> str:
        host = self.headers.get("Host", "")
        if host and _HOST.match(host):
            return f"http://{host}"
        addr, port = self.server.server_address[:2]
        return f"http://{addr}:{port}"

    def _content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        if value is None:
            return None
        if not value.strip().isdigit():
            raise BodyError("bad Content-Length")
        return int(value)

    def _chunked(self) -> bool:
        return "chunked" in self.headers.get("Transfer-Encoding", "").lower()

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _send_xml(self, status: int, code: str, message: str, headers: dict | None = None) -> None:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        ).encode()
        self._send(status, body, "application/xml", headers)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _fault(self, outcome: Outcome) -> None:
        self.close_connection = True
        if outcome == "drop":
            self._drop()
        elif outcome == "error":
            self._send_json(500, envelope(Code.SERVER_ERROR))
        else:
            self._send(502, _BAD_GATEWAY, "text/html")

    def _drain(self, remaining: int | None, seconds: float = 30.0) -> None:
        """After an early answer to a PUT, read and discard what the client still sends (up to
        a time limit) so it gets to read the answer instead of a connection reset."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.settimeout(2.0)
            deadline = time.monotonic() + seconds
            buf = bytearray(CHUNK)
            while time.monotonic() < deadline and (remaining is None or remaining > 0):
                want = CHUNK if remaining is None else min(CHUNK, remaining)
                n = self.rfile.readinto(memoryview(buf)[:want])  # type: ignore[attr-defined]
                if not n:
                    break
                if remaining is not None:
                    remaining -= n
        except OSError:
            pass

    # -- dispatch --------------------------------------------------------------------------
    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        path, query = split.path, split.query
        is_storage = path.startswith(STORAGE_PREFIX)
        is_api = path in API_PATHS
        faults = self.server.faults
        outcome = faults.draw(path, is_api=is_api)
        latency = faults.latency_for(path, is_api=is_api)
        after = faults.faults.fault_phase == "after" and self.command in ("POST", "PUT")
        try:
            if not after:
                if latency:
                    time.sleep(latency)
                if outcome != "ok":
                    self._fault(outcome)
                    return
            if is_storage:
                self._storage(path, query, after_outcome=outcome if after else "ok")
                return
            status, payload = self._api(path, query)
            if after:
                if latency:
                    time.sleep(latency)
                if outcome != "ok":
                    log.info("fault after handling %s: %s", path, outcome)
                    self._fault(outcome)
                    return
            self._send_json(status, payload)
        except BodyError as exc:
            self.close_connection = True
            self._send_json(400, envelope(Code.BAD_PARAMETER, f"Request parameter error: {exc}"))
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            log.exception("sandbox request %s %s failed", self.command, path)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send_json(500, envelope(Code.SERVER_ERROR))

    def _api(self, path: str, query: str) -> tuple[int, dict[str, Any]]:
        raw = b""
        if self.command in ("POST", "PUT", "DELETE"):
            body = read_small_body(
                self.rfile, self._content_length(), self._chunked(), API_BODY_LIMIT
            )
            if body is None:
                self.close_connection = True
                return 200, envelope(Code.BAD_PARAMETER, "Request parameter error: body too large")
            raw = body
        if path in API_PATHS and not self.server.faults.allow_request():
            return 200, envelope(Code.RATE_LIMITED)
        status, payload, _created = self.server.api.handle(
            self.command, path, query, self.headers.get("Authorization"), raw, self._base_url()
        )
        return status, payload

    # -- storage ---------------------------------------------------------------------------
    def _storage(self, path: str, query: str, after_outcome: Outcome) -> None:
        key = unquote(path[len(STORAGE_PREFIX) :])
        method = self.command
        if method == "OPTIONS":
            self._send(204, b"", "text/plain", _cors(preflight=True))
            return
        is_put = method == "PUT"
        body_length = self._content_length() if is_put else None
        if self.headers.get("Authorization") is not None:
            self._refuse_put_or(
                is_put,
                body_length,
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Signature query parameter "
                "should be specified",
            )
            return
        if method not in ("GET", "HEAD", "PUT"):
            self._refuse_put_or(is_put, body_length, 405, "MethodNotAllowed", "Not allowed")
            return
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        verdict = "bad"
        if valid_key(key):
            verdict = self.server.storage.verify(
                "PUT" if is_put else "GET",
                key,
                unquote(params.get("X-Expires", "")),
                unquote(params.get("X-Signature", "")),
            )
        if verdict == "expired":
            self._refuse_put_or(is_put, body_length, 403, "AccessDenied", "Request has expired")
            return
        if verdict != "ok":
            self._refuse_put_or(
                is_put,
                body_length,
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
            return
        if is_put:
            self._put(key, body_length, after_outcome)
        else:
            self._get(key)

    def _refuse_put_or(
        self, is_put: bool, body_length: int | None, status: int, code: str, message: str
    ) -> None:
        if is_put:
            self.close_connection = True
        self._send_xml(status, code, message)
        if is_put:
            self._drain(body_length)

    def _put(self, key: str, length: int | None, after_outcome: Outcome) -> None:
        chunked = self._chunked()
        if length is None and not chunked:
            self.close_connection = True
            self._send_xml(411, "MissingContentLength", "You must provide the Content-Length.")
            return
        if length is not None and length > MAX_UPLOAD_BYTES:
            self._refuse_upload(Code.FILE_TOO_LARGE, length)
            return
        refusal, total = self._receive(key, length, chunked)
        if refusal is not None:
            self._refuse_upload(refusal, _left(length, total))
            return
        log.info("stored %s (%d bytes)", key, total)
        if after_outcome != "ok":
            self._fault(after_outcome)
            return
        self._send(200, b"", "text/plain", {"ETag": f'"{total:x}-{int(time.time())}"', **_cors()})

    def _receive(self, key: str, length: int | None, chunked: bool) -> tuple[int | None, int]:
        """Stream the body to a temporary file, then store it as ``key``.
        Returns (refusal code or None, bytes read)."""
        storage = self.server.storage
        total = 0
        head = b""
        with storage.temp_file() as tmp:
            with open(tmp, "wb") as out:
                for piece in iter_body(self.rfile, length, chunked):
                    total += len(piece)
                    if len(head) < HEAD_BYTES:
                        head += bytes(piece[: HEAD_BYTES - len(head)])
                        if len(head) >= HEAD_BYTES and sniff(head) is None:
                            return Code.UNSUPPORTED_FORMAT, total
                    if total > MAX_UPLOAD_BYTES:
                        return Code.FILE_TOO_LARGE, total
                    out.write(piece)
            if sniff(head) is None:
                return Code.UNSUPPORTED_FORMAT, total
            storage.commit(tmp, key)
        return None, total

    def _refuse_upload(self, code: int, remaining: int | None) -> None:
        self.close_connection = True
        self._send_json(400, envelope(code))
        self._drain(remaining)

    def _get(self, key: str) -> None:
        storage = self.server.storage
        if not storage.exists(key):
            self._send_xml(404, "NoSuchKey", "The specified key does not exist.")
            return
        path = storage.path(key)
        fmt = storage.format_of(key)
        stat = path.stat()
        size = stat.st_size
        headers = {
            "Accept-Ranges": "bytes",
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
            "ETag": f'"{size:x}-{int(stat.st_mtime_ns):x}"',
            "Cache-Control": "private, max-age=3600",
            **_cors(),
        }
        rng = parse_range(self.headers.get("Range"), size)
        if rng == "unsatisfiable":
            self._send_xml(
                416,
                "InvalidRange",
                "The requested range is not satisfiable",
                {"Content-Range": f"bytes */{size}"},
            )
            return
        start, end = (0, size - 1) if rng is None else rng  # type: ignore[misc]
        length = max(0, end - start + 1)
        self.send_response(200 if rng is None else 206)
        self.send_header("Content-Type", fmt.mime if fmt else "application/octet-stream")
        self.send_header("Content-Length", str(length))
        if rng is not None:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD" or length == 0:
            return
        with open(path, "rb") as f:
            self.connection.sendfile(f, start, length)


def _left(length: int | None, done: int) -> int | None:
    return None if length is None else max(0, length - done)


def _cors(preflight: bool = False) -> dict[str, str]:
    headers = {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "Content-Length, Content-Range, ETag",
    }
    if preflight:
        headers["Access-Control-Allow-Methods"] = "GET, HEAD, PUT"
        headers["Access-Control-Allow-Headers"] = "Content-Type, Range"
        headers["Access-Control-Max-Age"] = "600"
    return headers


def default_workers() -> int:
    return max(2, min(4, os.cpu_count() or 2))
