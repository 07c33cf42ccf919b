"""What a file is, by its content: the formats the Face Swap API accepts, told by magic bytes.

Both the client (checks before uploading) and the sandbox (code 703 on upload) use this, so they
agree to the byte. ``sniff(b"\\x89PNG\\r\\n\\x1a\\n...")`` -> ``FileFormat(name="png", ...)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

#: The API's size limit (code 704). "500 MB" read strictly: 500 * 10**6 bytes.
MAX_UPLOAD_BYTES = 500_000_000
#: How many leading bytes ``sniff`` needs to tell every supported format apart.
HEAD_BYTES = 64

Kind = Literal["image", "video"]


@dataclass(frozen=True)
class FileFormat:
    """A supported format: ``name`` is also the file extension used for keys."""

    name: str
    kind: Kind
    mime: str


JPG = FileFormat("jpg", "image", "image/jpeg")
PNG = FileFormat("png", "image", "image/png")
WEBP = FileFormat("webp", "image", "image/webp")
GIF = FileFormat("gif", "image", "image/gif")
MP4 = FileFormat("mp4", "video", "video/mp4")
M4V = FileFormat("m4v", "video", "video/x-m4v")
MOV = FileFormat("mov", "video", "video/quicktime")
WEBM = FileFormat("webm", "video", "video/webm")

SUPPORTED: tuple[FileFormat, ...] = (JPG, PNG, WEBP, GIF, MP4, M4V, MOV, WEBM)
SUPPORTED_NAMES = "JPG, PNG, WEBP, GIF, M4V, MP4, MOV and WEBM"
#: File name suffixes of the supported formats, lower case with the dot.
VIDEO_SUFFIXES: tuple[str, ...] = tuple(f".{f.name}" for f in SUPPORTED if f.kind == "video")
IMAGE_SUFFIXES: tuple[str, ...] = (
    *(f".{f.name}" for f in SUPPORTED if f.kind == "image"),
    ".jpeg",
)

# QuickTime files may begin with one of these atoms instead of "ftyp".
_QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def sniff(head: bytes) -> FileFormat | None:
    """The supported format of a file whose first bytes are ``head``, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return MOV
        if brand in (b"M4V ", b"M4VH", b"M4VP"):
            return M4V
        return MP4
    if head[4:8] in _QUICKTIME_ATOMS:
        return MOV
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head:
        return WEBM
    return None


def sniff_file(path: str | os.PathLike[str]) -> FileFormat | None:
    """The supported format of the file at ``path``, or None (reads ``HEAD_BYTES`` bytes)."""
    with open(path, "rb") as f:
        return sniff(f.read(HEAD_BYTES))


def format_for_name(file_name: str) -> FileFormat | None:
    """The supported format a file name's extension claims (``.jpeg`` counts as jpg), or None."""
    ext = os.path.splitext(file_name)[1].lower().lstrip(".")
    ext = {"jpeg": "jpg"}.get(ext, ext)
    return next((f for f in SUPPORTED if f.name == ext), None)


def kind_for_name(file_name: str) -> Kind | None:
    """ "image" or "video" by a file name's extension, or None."""
    fmt = format_for_name(file_name.split("?")[0])
    return fmt.kind if fmt else None
