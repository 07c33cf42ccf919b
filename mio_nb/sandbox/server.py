"""The sandbox's HTTP layer: routing, fault injection and the plumbing of answers.

Requests are parsed by the standard library's ``BaseHTTPRequestHandler``; connections are
managed by :mod:`mio_nb.sandbox.connections` (bounded, no thread per idle connection, short
timeouts). Fault injection acts on the socket (drops) or the answer. JSON endpoints live in
:mod:`mio_nb.sandbox.api`, presigned object requests in :mod:`mio_nb.sandbox.objects`.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import re
import socket
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from mio_nb.protocol import Code
from mio_nb.sandbox.api import API_PATHS, Api, envelope
from mio_nb.sandbox.connections import Connection, ConnectionServer, Limits
from mio_nb.sandbox.faults import FaultState, Outcome
from mio_nb.sandbox.httpio import CHUNK, BodyError, parse_content_length, read_small_body
from mio_nb.sandbox.objects import ObjectRequests
from mio_nb.sandbox.storage import STORAGE_PREFIX, Storage

log = logging.getLogger("mio_nb.sandbox")

API_BODY_LIMIT = 1 << 20
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")
#: S3's error codes for the refusals http.server makes itself.
_S3_CODES = {
    HTTPStatus.REQUEST_URI_TOO_LONG: "RequestURITooLong",
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "RequestHeaderSectionTooLarge",
    HTTPStatus.METHOD_NOT_ALLOWED: "MethodNotAllowed",
}
_BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class SandboxHTTPServer:
    """The sandbox's HTTP server: :class:`ConnectionServer` (bounded connections, threads and
    timeouts) speaking HTTP/1.1 through :class:`Handler`."""

    def __init__(
        self,
        address: tuple[str, int],
        api: Api,
        storage: Storage,
        faults: FaultState,
        limits: Limits | None = None,
    ) -> None:
        self.api = api
        self.storage = storage
        self.faults = faults
        self.limits = limits or Limits()
        #: The class that speaks HTTP on each connection (socketserver's name; tests wrap it).
        self.RequestHandlerClass: type[Handler] = Handler
        self.connections = ConnectionServer(address, self.limits, self._serve)
        self.server_address = self.connections.server_address

    def _serve(self, conn: Connection) -> bool:
        if conn.handler is None:
            conn.handler = self.RequestHandlerClass(conn.sock, conn.address, self, conn.head)
        return conn.handler.serve()

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self.connections.serve_forever(poll_interval)

    def shutdown(self) -> None:
        self.connections.shutdown()

    def close_connections(self) -> None:
        self.connections.close_connections()

    def server_close(self) -> None:
        self.connections.server_close()


class ReadAheadFirst(io.RawIOBase):
    """A socket's bytes, after those already read ahead into ``head`` (which it empties)."""

    def __init__(self, head: bytearray, raw: io.RawIOBase) -> None:
        super().__init__()
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            del self._head[:n]
            return n
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class Handler(ObjectRequests, BaseHTTPRequestHandler):
    """One connection's requests. Made once per connection; :meth:`serve` handles the requests
    that have arrived, then the connection waits, without a thread, for the next one."""

    protocol_version = "HTTP/1.1"
    #: A request line that cannot be parsed still gets a status line and headers.
    default_request_version = "HTTP/1.0"
    server_version = "mio-nb-sandbox"
    server: SandboxHTTPServer
    #: Extra headers for the next JSON answer (e.g. Retry-After with an 802).
    _json_headers: dict[str, str] | None = None
    #: Whether the current request's answer has started.
    _answered = False

    def __init__(
        self, request: socket.socket, client_address: Any, server: Any, head: bytearray
    ) -> None:
        # Not BaseRequestHandler's __init__, which would serve the connection to its end.
        self.request = request
        self.client_address = client_address
        self.server = server
        self._head = head
        #: A request whose body stalls this long is abandoned.
        self.timeout = server.limits.io_timeout
        self.setup()

    def setup(self) -> None:
        super().setup()
        # Read what the selector thread has read ahead (the request's head) before the socket.
        self.rfile.close()
        raw = self.connection.makefile("rb", buffering=0)
        self.rfile = io.BufferedReader(ReadAheadFirst(self._head, raw))  # type: ignore[arg-type]

    def serve(self) -> bool:
        """Handle the request that has arrived (and any sent right behind it); True when the
        connection stays open for more."""
        while True:
            self.path = None  # type: ignore[assignment]
            self._json_headers = None
            self._answered = False
            try:
                self.handle_one_request()
            except OSError:
                return False
            if self.close_connection:
                return False
            if not self._more_buffered():
                return True

    def _more_buffered(self) -> bool:
        """Whether the next request's bytes are already here (pipelining)."""
        try:
            self.connection.settimeout(0)
            return bool(self.rfile.peek(1))
        except OSError:
            return False
        finally:
            with contextlib.suppress(OSError):
                self.connection.settimeout(self.timeout)

    # -- plumbing --------------------------------------------------------------------------

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        # Never the query string (signatures) nor any header (tokens).
        path = urlsplit(getattr(self, "path", "") or "").path
        log.debug("%s %s -> %s", self.command, path, code)

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
        return parse_content_length(self.headers.get("Content-Length"))

    def _target(self) -> str:
        """The request's path, even when the request line could not be parsed."""
        path = getattr(self, "path", None)
        if path is None:
            words = getattr(self, "raw_requestline", b"").split(b" ", 2)
            path = words[1].decode("latin-1") if len(words) > 1 else ""
        return urlsplit(path).path

    def parse_request(self) -> bool:
        ok = super().parse_request()
        if ok and self.request_version == "HTTP/0.9":
            self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/0.9 is not supported")
            return False
        return ok

    def __getattr__(self, name: str) -> Any:
        # Any method name reaches the dispatcher, which answers 405 for those it does not serve
        # (http.server would answer an HTML 501).
        if name.startswith("do_") and name[3:].isalpha():
            return self._dispatch
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line or header, a line too long, a
        bad version): a 4xx with an envelope, or S3-style XML for storage, and the connection
        closed."""
        if code == HTTPStatus.NOT_IMPLEMENTED:
            code = HTTPStatus.METHOD_NOT_ALLOWED
        elif code >= 500:
            code = HTTPStatus.BAD_REQUEST
        self.close_connection = True
        if getattr(self, "request_version", "") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # answer with a status line and headers
        detail = message or HTTPStatus(code).phrase
        with contextlib.suppress(OSError):
            if self._target().startswith(STORAGE_PREFIX):
                self._send_xml(code, _S3_CODES.get(code, "InvalidRequest"), detail)
            else:
                self._send_json(code, envelope(Code.BAD_PARAMETER, f"Request error: {detail}"))

    def _chunked(self) -> bool:
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            return False
        if self.headers.get("Content-Length") is None:
            return True
        # Both headers: requests sends them for a generator body given a Content-Length, and
        # then sends the body unframed. A chunked body starts with a hex digit; media never do.
        try:
            first = self.rfile.peek(1)[:1]  # type: ignore[attr-defined]
        except (AttributeError, OSError):
            return True
        return first in b"0123456789abcdefABCDEF" and first != b""

    def send_response(self, code: int, message: str | None = None) -> None:
        self._answered = True
        super().send_response(code, message)

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
        if self.command != "HEAD" and len(body) <= CHUNK and hasattr(self, "_headers_buffer"):
            self._headers_buffer.append(b"\r\n" + body)  # head and body in one write
            self.flush_headers()
            return
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        headers, self._json_headers = self._json_headers, None
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

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
                if after and latency:
                    time.sleep(latency)
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
            if is_storage:
                self._send_xml(400, "IncompleteBody", f"Malformed request body: {exc}")
            else:
                self._send_json(
                    400, envelope(Code.BAD_PARAMETER, f"Request parameter error: {exc}")
                )
        except TimeoutError:
            self.close_connection = True
            if not self._answered:  # a stalled request body: say so (a stalled download: not)
                with contextlib.suppress(OSError):
                    if is_storage:
                        self._send_xml(400, "RequestTimeout", "The request body stalled.")
                    else:
                        self._send_json(408, envelope(Code.BAD_PARAMETER, "Request timeout"))
        except ConnectionError:
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
        if path in API_PATHS and (wait := self.server.faults.allow_request()) is not None:
            # As rate limiters commonly do, say when to come back (whole seconds, rounded up).
            self._json_headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            return 200, envelope(Code.RATE_LIMITED)
        status, payload, _created = self.server.api.handle(
            self.command, path, query, self.headers.get("Authorization"), raw, self._base_url()
        )
        return status, payload
