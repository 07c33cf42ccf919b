"""Presigned object requests of the sandbox: streaming PUT to disk and GET with Range.

A mixin of the HTTP handler (:mod:`mio_nb.sandbox.server`), which provides the plumbing it
uses: ``_send``, ``_send_xml``, ``_send_json``, ``_drain``, ``_fault``, ``_content_length``,
``_chunked`` and ``server.storage``. Errors answer like S3 (XML bodies), except the API's own
upload checks: 703 (not a supported format by magic bytes) and 704 (over MAX_UPLOAD_BYTES, or
over the pixel/duration limits of :mod:`mio_nb.sandbox.media_limits`), answered HTTP 400 with a
JSON envelope.
"""

from __future__ import annotations

import email.utils
import logging
import time
from typing import Any
from urllib.parse import unquote

from mio_nb.formats import HEAD_BYTES, MAX_UPLOAD_BYTES, sniff
from mio_nb.mediabounds import structure_problem
from mio_nb.protocol import Code
from mio_nb.sandbox import media_limits
from mio_nb.sandbox.api import MESSAGES, envelope
from mio_nb.sandbox.faults import Outcome
from mio_nb.sandbox.httpio import iter_body, parse_range
from mio_nb.sandbox.storage import STORAGE_PREFIX, valid_key

log = logging.getLogger("mio_nb.sandbox")

QUOTA_MESSAGE = (
    "The sandbox's disk quota for uploads is full; wait for old uploads to expire, or start "
    "the sandbox with a larger --upload-quota-gb."
)


class ObjectRequests:
    """PUT, GET, HEAD and OPTIONS on ``/storage/<key>?X-Expires=..&X-Signature=..``."""

    server: Any
    command: str
    headers: Any
    rfile: Any
    connection: Any
    close_connection: bool

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
        storage = self.server.storage
        if not storage.begin_upload(key):
            self._refuse_put_or(
                True, length, 403, "AccessDenied", "This upload URL was used already."
            )
            return
        stored = False
        try:
            refusal, total, reason = self._receive(key, length, chunked)
            stored = refusal is None
        finally:
            storage.end_upload(key, stored)
        if refusal is not None:
            self._refuse_upload(refusal, _left(length, total), reason)
            return
        log.info("stored %s (%d bytes)", key, total)
        if after_outcome != "ok":
            self._fault(after_outcome)
            return
        self._send(200, b"", "text/plain", {"ETag": f'"{total:x}-{int(time.time())}"', **_cors()})

    def _receive(
        self, key: str, length: int | None, chunked: bool
    ) -> tuple[int | None, int, str | None]:
        """Stream the body to a temporary file, check it, then store it as ``key``.
        Returns (refusal code or None, bytes read, why)."""
        storage = self.server.storage
        total = 0
        head = b""
        with storage.temp_file() as tmp:
            with open(tmp, "wb") as out:
                for piece in iter_body(self.rfile, length, chunked):
                    total += len(piece)
                    if not storage.reserve(key, len(piece)):
                        log.warning("refused %s: the upload quota is full", key)
                        return Code.FILE_TOO_LARGE, total, QUOTA_MESSAGE
                    if len(head) < HEAD_BYTES:
                        head += bytes(piece[: HEAD_BYTES - len(head)])
                        if len(head) >= HEAD_BYTES and sniff(head) is None:
                            return Code.UNSUPPORTED_FORMAT, total, None
                    if total > MAX_UPLOAD_BYTES:
                        return Code.FILE_TOO_LARGE, total, None
                    out.write(piece)
            fmt = sniff(head)
            if fmt is None:
                return Code.UNSUPPORTED_FORMAT, total, None
            with open(tmp, "rb") as f:
                problem = structure_problem(fmt.name, f)
            if problem is not None:
                log.info("refused %s: %s", key, problem)
                return Code.FILE_ERROR, total, f"The file cannot be used: {problem}"
            reason = media_limits.refusal(tmp, fmt)
            if reason is not None:
                log.info("refused %s: %s", key, reason)
                return Code.FILE_TOO_LARGE, total, f"{MESSAGES[Code.FILE_TOO_LARGE]}; {reason}"
            storage.commit(tmp, key)
            storage.remember_refusal(key, None)
        return None, total, None

    def _refuse_upload(self, code: int, remaining: int | None, message: str | None = None) -> None:
        self.close_connection = True
        self._send_json(400, envelope(code, message))
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
