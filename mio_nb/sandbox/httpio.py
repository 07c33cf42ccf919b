"""HTTP helpers for the sandbox: bounded body reading (length or chunked), Range parsing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

#: Bodies are read in pieces of this size, so memory stays bounded whatever the upload size.
CHUNK = 1 << 20


class BodyError(Exception):
    """A malformed request body (bad chunk framing, early end)."""


#: A chunk size: 1 to 15 hex digits (no sign, no "0x", no underscores).
_CHUNK_SIZE = re.compile(rb"^[0-9A-Fa-f]{1,15}$")
#: A Content-Length: ASCII digits only, at most 15 of them.
_LENGTH = re.compile(r"^[0-9]{1,15}$")


def parse_content_length(value: str | None) -> int | None:
    """The value of a Content-Length header, None when absent; BodyError when malformed."""
    if value is None:
        return None
    if not _LENGTH.match(value.strip()):
        raise BodyError("bad Content-Length")
    return int(value.strip())


def iter_body(
    rfile: BinaryIO, content_length: int | None, chunked: bool, buffer: bytearray | None = None
) -> Iterator[memoryview]:
    """The request body in pieces of at most ``CHUNK`` bytes. Each piece is a view into one
    reused buffer: consume it before asking for the next."""
    buf = buffer if buffer is not None else bytearray(CHUNK)
    view = memoryview(buf)
    if chunked:
        while True:
            line = rfile.readline(1026)
            if not line.endswith(b"\n"):
                raise BodyError("bad chunk header")
            digits = line.split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.match(digits):
                raise BodyError("bad chunk size")
            size = int(digits, 16)
            if size == 0:
                while rfile.readline(8192).strip():  # trailers
                    pass
                return
            yield from _exact(rfile, size, view)
            if rfile.readline(3).strip():
                raise BodyError("missing CRLF after chunk")
    elif content_length:
        yield from _exact(rfile, content_length, view)


def _exact(rfile: BinaryIO, count: int, view: memoryview) -> Iterator[memoryview]:
    while count > 0:
        want = min(count, len(view))
        n = rfile.readinto(view[:want])  # type: ignore[attr-defined]
        if not n:
            raise BodyError("body ended early")
        count -= n
        yield view[:n]


def read_small_body(
    rfile: BinaryIO, content_length: int | None, chunked: bool, limit: int
) -> bytes | None:
    """A whole (API) body, or None when it is larger than ``limit``."""
    if content_length is not None and content_length > limit:
        return None
    out = bytearray()
    for piece in iter_body(rfile, content_length, chunked, bytearray(64 * 1024)):
        out += piece
        if len(out) > limit:
            return None
    return bytes(out)


_RANGE = re.compile(r"^bytes=([0-9]{0,18})-([0-9]{0,18})$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """``(start, end_inclusive)`` for a single satisfiable byte range, None to send the whole
    object (no header, several ranges or an unparsable one), "unsatisfiable" otherwise."""
    if not header:
        return None
    m = _RANGE.match(header.strip().replace(" ", ""))
    if not m:
        return None
    first, last = m.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - n), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or (last and end < start):
        return "unsatisfiable"
    return start, min(end, size - 1)
