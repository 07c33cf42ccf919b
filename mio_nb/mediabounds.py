"""Bounded structure checks of pictures, made before any decoder sees them.

Pillow parses a JPEG's segments before its first scan one by one, and some of that work grows
with the square of their number (800 EXIF segments: 10 s); a PNG can hold any number of chunks.
``structure_problem`` walks a file's segments or chunks by their lengths alone (no decoding, a
bounded number of seeks) and says why a file is refused when there are more than any real
picture has. The client refuses such an input with CorruptFileError (701) before uploading it;
the sandbox refuses the upload with 701.
"""

from __future__ import annotations

import struct
from typing import IO

#: JPEG segments before the first scan (real files: 10-40; ICC profiles split over a few more).
MAX_JPEG_SEGMENTS = 100
#: PNG chunks in all (IDAT included) and chunks other than image data.
MAX_PNG_CHUNKS = 65_536
MAX_PNG_ANCILLARY = 256

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DATA = frozenset({b"IDAT", b"fdAT"})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def structure_problem(name: str, f: IO[bytes]) -> str | None:
    """Why the picture in ``f`` (format ``name``: "jpg", "png"...) is refused, or None."""
    if name == "jpg":
        return _jpeg_problem(f)
    if name == "png":
        return _png_problem(f)
    return None


def _jpeg_problem(f: IO[bytes]) -> str | None:
    f.seek(0)
    if f.read(2) != b"\xff\xd8":
        return None  # not a JPEG: the format check says so
    segments = 0
    while True:
        byte = f.read(1)
        if not byte:
            return None  # cut short: the decoder says so
        if byte != b"\xff":
            return None  # not at a marker: leave it to the decoder
        marker = f.read(1)
        while marker == b"\xff":  # fill bytes
            marker = f.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in _STANDALONE or code == 0xD8:
            continue
        if code == 0xD9:  # EOI before any scan
            return None
        head = f.read(2)
        if len(head) < 2:
            return None
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            return (
                f"it has more than {MAX_JPEG_SEGMENTS} segments before its picture data (real "
                "photos have a few dozen): refused unread, as it would take a decoder minutes"
            )
        if code == 0xDA:  # start of scan: the picture data follows
            return None
        (length,) = struct.unpack(">H", head)
        if length < 2:
            return None
        f.seek(length - 2, 1)


def _png_problem(f: IO[bytes]) -> str | None:
    f.seek(0)
    if f.read(8) != _PNG_SIGNATURE:
        return None
    chunks = ancillary = 0
    while True:
        head = f.read(8)
        if len(head) < 8:
            return None
        length, kind = struct.unpack(">I4s", head)
        chunks += 1
        if kind not in _PNG_DATA:
            ancillary += 1
        if chunks > MAX_PNG_CHUNKS or ancillary > MAX_PNG_ANCILLARY:
            if chunks > MAX_PNG_CHUNKS:
                what = f"{MAX_PNG_CHUNKS} chunks"
            else:
                what = f"{MAX_PNG_ANCILLARY} chunks besides its picture data"
            return f"it has more than {what} (real pictures have a few): refused unread"
        if kind == b"IEND":
            return None
        f.seek(length + 4, 1)
