"""A strict stand-in of the public reference, in front of a sandbox, configured one way at a time.

The public material allows several readings; the sandbox accepts all of them. This loopback
proxy accepts exactly one, as a real service would:

- ``auth="bearer"``: only ``Authorization: Bearer <token>``; ``"bare"``: only the bare token
  (anything else: HTTP 200 with ``{"code": 401}``, as the service was seen answering);
- ``token_path``: the only path of the token endpoint (the sandbox's own path answers an HTML 404,
  as an unknown path of a web server does);
- ``strings=True``: numbers in ``data`` sent as strings (as the reference's examples show);
- ``clock_offset``: seconds added to the ``Date`` header;
- success as status 0 or 3: the sandbox's ``success_status``;
- ``amz=True``: presigned URLs shaped as S3's (``X-Amz-Credential``, ``X-Amz-Signature``...),
  on this host, translated back to the sandbox's when used.

Without ``amz``, storage is not proxied: the presigned URLs point at the sandbox, another
host:port than the API, as the real storage host is not the API host.
"""

from __future__ import annotations

import calendar
import http.client
import json
import ssl
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from mio_nb import protocol
from mio_nb.sandbox import Sandbox

NOT_FOUND = b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>"


@dataclass(frozen=True)
class Reading:
    """One way to read the public material."""

    auth: Literal["bearer", "bare"] = "bearer"
    token_path: str = protocol.TOKEN_PATH
    strings: bool = False
    clock_offset: float = 0.0
    amz: bool = False


#: The access key id in the stand-in's S3-shaped URLs (a recording must never show it).
AMZ_CREDENTIAL = "AKIAMIONBSTANDIN7Q3X"


def _amz_url(url: str, here: str, sandbox: str) -> str:
    """The sandbox's presigned URL, shaped as S3's on the stand-in's host."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != sandbox or not parts.path.startswith("/storage"):
        return url
    q = dict(parse_qsl(parts.query))
    now = int(time.time())
    query = urlencode(
        {
            "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD",
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{AMZ_CREDENTIAL}/20261205/auto/s3/aws4_request",
            "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)),
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Expires": str(int(q.get("X-Expires", now)) - now),
            "X-Amz-Signature": q.get("X-Signature", ""),
        }
    )
    return f"{here}{parts.path}?{query}"


def _sandbox_query(query: str) -> str:
    """S3's signing time + lifetime back to the sandbox's expiry time."""
    q = dict(parse_qsl(query))
    signed = calendar.timegm(time.strptime(q.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ"))
    expires = signed + int(q.get("X-Amz-Expires", "0"))
    return urlencode({"X-Expires": str(expires), "X-Signature": q.get("X-Amz-Signature", "")})


def _map_strings(value: Any, fn: Any) -> Any:
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    return fn(value) if isinstance(value, str) else value


def _stringify(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    return value


class StandIn:
    """``StandIn(sandbox, Reading(...))``: an API on ``base_url`` that reads the reference one
    way; ``requests`` counts the API requests it received."""

    def __init__(
        self,
        sandbox: Sandbox,
        reading: Reading,
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.reading = reading
        self.requests = 0
        target = urlsplit(sandbox.base_url)
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def date_time_string(self, timestamp: float | None = None) -> str:
                return formatdate(time.time() + standin.reading.clock_offset, usegmt=True)

            def _answer(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _envelope(self, code: int, message: str) -> None:
                body = json.dumps({"code": code, "message": message, "data": None}).encode()
                self._answer(200, body, "application/json")

            def _handle(self) -> None:
                standin.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                path = split.path
                reading = standin.reading
                if path == reading.token_path:
                    path = protocol.TOKEN_PATH
                elif path.startswith("/storage") and reading.amz:
                    split = split._replace(query=_sandbox_query(split.query))
                elif path == protocol.TOKEN_PATH or path.startswith("/storage"):
                    self._answer(404, NOT_FOUND, "text/html")
                    return
                else:
                    header = self.headers.get("Authorization") or ""
                    scheme, _, rest = header.partition(" ")
                    ok = (
                        scheme == "Bearer" and bool(rest.strip())
                        if reading.auth == "bearer"
                        else bool(header) and " " not in header.strip()
                    )
                    if not ok:
                        self._envelope(401, "Your request was made with invalid credentials.")
                        return
                headers = {"Content-Type": self.headers.get("Content-Type") or "application/json"}
                if self.headers.get("Authorization"):
                    headers["Authorization"] = self.headers["Authorization"]
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                try:
                    query = f"?{split.query}" if split.query else ""
                    conn.request(self.command, path + query, body=raw or None, headers=headers)
                    resp = conn.getresponse()
                    body = resp.read()
                    ctype = resp.getheader("Content-Type") or "application/json"
                    status = resp.status
                finally:
                    conn.close()
                json_body = ctype.startswith("application/json")
                if json_body and (reading.strings or reading.amz):
                    payload = json.loads(body)
                    data = payload.get("data")
                    if reading.amz:
                        data = _map_strings(
                            data, lambda v: _amz_url(v, standin.base_url, standin.sandbox.base_url)
                        )
                    if reading.strings:
                        data = _stringify(data)
                    payload["data"] = data
                    body = json.dumps(payload).encode()
                self._answer(status, body, ctype)

            do_GET = do_POST = do_PUT = _handle

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        if tls is not None:  # HTTPS with the given certificate
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        #: On 127.0.0.2 the client takes it for a remote API (its banner says "MioCreate API").
        self.base_url = f"{scheme}://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
