"""What a file is, by its content: the formats the Face Swap API accepts, told by magic bytes.

Both the client (checks before uploading) and the sandbox (code 703 on upload) use this, so they
agree to the byte. ``sniff(b"\\x89PNG\\r\\n\\x1a\\n...")`` -> ``FileFormat(name="png", ...)``.

It is also the one source of what each slot accepts (the original: pictures and videos; a new
face: pictures only), of the size limit in words, and of the sentences that refuse a file by
what it is (``refusal("notes.jpg", b"Dear...", "new_face")`` -> "notes.jpg is text, not a
picture: ...") or by its size (``size_refusal``); the client's checks (:mod:`mio_nb.uploads`),
the widget's kernel side (:mod:`mio_nb.transfer`) and the error hints (:mod:`mio_nb.errors`) use
them, and the widget's JavaScript gets them generated from here (:mod:`mio_nb.widget.shared`).
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


def human_bytes(n: int) -> str:
    """1234567 -> "1.2 MB" (decimal units, as the API's limit; same as js/src/text.js)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}" if value < 10 or unit == "GB" else f"{value:.0f} {unit}"
    return f"{n} B"


def _in_words(names: list[str], last: str) -> str:
    return ", ".join(names[:-1]) + f" {last} " + names[-1]


#: The size limit in words: "500 MB".
MAX_UPLOAD_WORDS = human_bytes(MAX_UPLOAD_BYTES)
#: The formats as the API's own 703 message lists them (M4V before MP4); the sandbox repeats it.
SUPPORTED_NAMES = _in_words(
    [f.name.upper() for f in (JPG, PNG, WEBP, GIF, M4V, MP4, MOV, WEBM)], "and"
)
#: File name suffixes of the supported formats, lower case with the dot.
VIDEO_SUFFIXES: tuple[str, ...] = tuple(f".{f.name}" for f in SUPPORTED if f.kind == "video")
IMAGE_SUFFIXES: tuple[str, ...] = (
    *(f".{f.name}" for f in SUPPORTED if f.kind == "image"),
    ".jpeg",
)

#: What each slot takes: the original is a picture or a video, a new face a picture.
ROLE_KINDS: dict[str, tuple[Kind, ...]] = {"main": ("image", "video"), "new_face": ("image",)}
#: How a slot's files are called in sentences.
ROLE_WORDS = {"main": "a picture or a video", "new_face": "a picture"}

# Files a person may pick by mistake, told by their first bytes so that a refusal says what the
# file is: (offset, magic bytes, what it is, whether it is a picture in a format not taken).
OTHER_FILES: tuple[tuple[int, bytes, str, bool], ...] = (
    (0, b"%PDF", "a PDF document", False),
    (0, b"PK\x03\x04", "a ZIP archive (or an Office document)", False),
    (0, b"\x1f\x8b", "a gzip archive", False),
    (0, b"Rar!", "a RAR archive", False),
    (0, b"7z\xbc\xaf", "a 7z archive", False),
    (0, b"ID3", "an MP3 sound file", False),
    (0, b"OggS", "an Ogg sound or video file", False),
    (0, b"fLaC", "a FLAC sound file", False),
    (8, b"WAVE", "a WAV sound file", False),
    (8, b"AVI ", "an AVI video, a format the service does not take", False),
    (0, b"\x1a\x45\xdf\xa3", "a Matroska (MKV) video, a format the service does not take", False),
    (0, b"BM", "a BMP picture", True),
    (0, b"II*\x00", "a TIFF picture", True),
    (0, b"MM\x00*", "a TIFF picture", True),
    (0, b"8BPS", "a Photoshop file", True),
    (0, b"\x00\x00\x01\x00", "an icon file", True),
    (4, b"ftypheic", "a HEIC photo", True),
    (4, b"ftypheix", "a HEIC photo", True),
    (4, b"ftypmif1", "a HEIC photo", True),
    (4, b"ftypavif", "an AVIF picture", True),
    (0, b"<svg", "an SVG drawing", True),
    (0, b"\x7fELF", "a program", False),
    (0, b"MZ", "a program", False),
)
#: Brands of ISO media files that are pictures (HEIC, AVIF), not MP4 videos.
PICTURE_BRANDS = (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis")

#: Sentences for refused files; ``{name}``, ``{what}``, ``{accepted}``, ``{slot}`` filled in.
SENTENCES = {
    "empty": "{name} is empty: choose another file.",
    "too_large": "{name} is {size}, over the {limit} limit: use a shorter or smaller file.",
    "video_as_face": "{name} is a video, not a picture: a new face must be a picture ({accepted}).",
    "text": "{name} is text, not {slot}: use {accepted}.",
    "web_page": "{name} is a web page (HTML), not {slot}: use {accepted}.",
    "other_picture": "{name} is {what}, a format the service does not take: use {accepted}.",
    "other": "{name} is {what}, not {slot}: use {accepted}.",
    "unknown": "{name} is not {slot} the service can read: use {accepted}.",
}

# QuickTime files may begin with one of these atoms instead of "ftyp".
QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


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
        if brand in PICTURE_BRANDS:
            return None  # HEIC/AVIF: ISO media files, but pictures the API does not take
        if brand == b"qt  ":
            return MOV
        if brand in (b"M4V ", b"M4VH", b"M4VP"):
            return M4V
        return MP4
    if head[4:8] in QUICKTIME_ATOMS:
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


def accepted_names(role: str) -> str:
    """The formats a slot takes, in words: "JPG, PNG, WEBP or GIF" for a new face."""
    kinds = ROLE_KINDS.get(role, ("image", "video"))
    return _in_words([f.name.upper() for f in SUPPORTED if f.kind in kinds], "or")


def accept_attribute(role: str) -> str:
    """The ``accept`` attribute of a slot's file input: MIME types and extensions."""
    kinds = ROLE_KINDS.get(role, ("image", "video"))
    formats = [f for f in SUPPORTED if f.kind in kinds]
    suffixes = [f".{f.name}" for f in formats] + ([".jpeg"] if JPG in formats else [])
    return ",".join([*(f.mime for f in formats), *suffixes])


def looks_like_text(head: bytes) -> bool:
    """True when ``head`` reads as text (UTF-8 or ASCII, no control bytes but tab/newline)."""
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 3:  # only a character cut at the end is forgiven
            return False
        text = head[: e.start].decode("utf-8")
    return all(c.isprintable() or c in "\t\r\n\f" for c in text)


def describe(head: bytes) -> tuple[str, str]:
    """What a file whose first bytes are ``head`` is: (sentence key, words), e.g.
    ``("text", "text")``, ``("other", "a PDF document")``, ``("unknown", "")``."""
    if not head:
        return "empty", "empty"
    text = looks_like_text(head)
    for offset, magic, what, picture in OTHER_FILES:
        if len(magic) <= 2 and text:
            continue  # "BM..." or "MZ..." that reads as text is text
        if head[offset : offset + len(magic)] == magic:
            return ("other_picture" if picture else "other"), what
    start = head.lstrip()[:64].lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "web_page", "a web page"
    if b"<svg" in start:
        return "other_picture", "an SVG drawing"
    if text:
        return "text", "text"
    return "unknown", ""


def refusal(name: str, head: bytes, role: str) -> str | None:
    """Why a file whose first bytes are ``head`` cannot go in slot ``role`` ("main" or
    "new_face"), as a sentence naming what the file is; None when it can."""
    kinds = ROLE_KINDS.get(role, ("image", "video"))
    fmt = sniff(head)
    fill = {"name": name, "accepted": accepted_names(role), "slot": ROLE_WORDS.get(role, "")}
    if fmt is not None:
        if fmt.kind in kinds:
            return None
        return SENTENCES["video_as_face"].format(**fill)
    key, what = describe(head)
    return SENTENCES[key].format(what=what, **fill)


def size_refusal(name: str, size: int, limit: int = MAX_UPLOAD_BYTES) -> str | None:
    """Why a file of ``size`` bytes cannot be sent (empty, or over ``limit``, never above
    ``MAX_UPLOAD_BYTES``), as a sentence naming it; None when it can."""
    limit = min(limit, MAX_UPLOAD_BYTES)
    if size <= 0:
        return SENTENCES["empty"].format(name=name)
    if size > limit:
        return SENTENCES["too_large"].format(
            name=name, size=human_bytes(size), limit=human_bytes(limit)
        )
    return None
