"""Media helpers for the sandbox: what a file is (probe), its cover, thumbnails, the mark.

Images are read with Pillow. Videos are read with imageio-ffmpeg (``pip install
imageio-ffmpeg``), imported only when a video is handled, so this module imports with
Pillow alone.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, ImageOps

from mio_nb.formats import sniff_file
from mio_nb.sandbox.engine import EngineError

__all__ = [
    "MARK_TEXT",
    "MediaInfo",
    "cover",
    "first_frame",
    "kind_of",
    "mark",
    "mark_box",
    "mark_patch",
    "open_image",
    "probe",
    "save_png",
    "thumbnail",
]

MARK_TEXT = "sandbox"
#: Colours of the mark's box and text (RGB).
MARK_BOX = (20, 20, 20)
MARK_INK = (255, 214, 0)


@dataclass(frozen=True)
class MediaInfo:
    """What a media file is: ``kind`` "image" or "video", size in pixels, and for videos the
    duration in seconds and frames per second (None for images)."""

    kind: Literal["image", "video"]
    width: int
    height: int
    duration: float | None = None
    fps: float | None = None


def kind_of(path: Path) -> Literal["image", "video"]:
    """ "image" or "video" by the file's magic bytes; EngineError 701 when neither."""
    fmt = sniff_file(path)
    if fmt is None:
        raise EngineError(701, "File error: unsupported or unreadable file.")
    return "video" if fmt.kind == "video" else "image"


def open_image(path: Path) -> Image.Image:
    """The image at ``path`` as RGB, EXIF orientation applied; EngineError 701 if unreadable.

    Animated images (GIF, WEBP) give their first frame."""
    try:
        with Image.open(path) as im:
            im.seek(0)
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA", "P"):
                im = im.convert("RGBA")
                background = Image.new("RGBA", im.size, (255, 255, 255, 255))
                im = Image.alpha_composite(background, im)
            return im.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise EngineError(701, f"File error: the image cannot be decoded ({exc}).") from exc


def _ffmpeg():  # type: ignore[no-untyped-def]
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise EngineError(
            701, "File error: reading videos needs imageio-ffmpeg: pip install imageio-ffmpeg"
        ) from exc
    return imageio_ffmpeg


def _video_meta(path: Path) -> dict:
    imageio_ffmpeg = _ffmpeg()

    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        try:
            meta = reader.__next__()
        finally:
            reader.close()
    except (OSError, RuntimeError, StopIteration) as exc:
        raise EngineError(701, "File error: the video cannot be decoded.") from exc
    size = meta.get("size") or (0, 0)
    if not size[0] or not size[1]:
        raise EngineError(701, "File error: the video has no picture.")
    return meta


def probe(path: Path) -> MediaInfo:
    """Size (and for videos duration and fps) of an image or video; EngineError 701 if the file
    cannot be decoded."""
    path = Path(path)
    if kind_of(path) == "image":
        try:
            with Image.open(path) as im:
                width, height = ImageOps.exif_transpose(im).size
        except (OSError, ValueError) as exc:
            raise EngineError(701, "File error: the image cannot be decoded.") from exc
        return MediaInfo("image", width, height)
    meta = _video_meta(path)
    width, height = meta["size"]
    fps = float(meta.get("fps") or 0.0) or None
    duration = meta.get("duration")
    return MediaInfo(
        "video",
        int(width),
        int(height),
        float(duration) if duration is not None else None,
        fps,
    )


def first_frame(path: Path) -> Image.Image:
    """The first frame of a video as an RGB image; EngineError 701 if none can be decoded."""
    imageio_ffmpeg = _ffmpeg()

    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        try:
            meta = reader.__next__()
            frame = reader.__next__()
        finally:
            reader.close()
    except (OSError, RuntimeError, StopIteration) as exc:
        raise EngineError(701, "File error: the video cannot be decoded.") from exc
    width, height = meta["size"]
    return Image.frombytes("RGB", (width, height), bytes(frame))


def cover(path: Path, *, marked: bool = True) -> Image.Image:
    """The first frame of a video, or the image itself (RGB), with the "sandbox" mark unless
    ``marked`` is false. (Covers are made for results, which all carry the mark; marking a
    frame that has it already changes nothing.)"""
    path = Path(path)
    image = first_frame(path) if kind_of(path) == "video" else open_image(path)
    return mark(image) if marked else image


def thumbnail(image: Image.Image, max_side: int = 540) -> Image.Image:
    """A copy of ``image`` scaled down so that its longer side is at most ``max_side`` (box
    filtered: a preview, made fast)."""
    thumb = image.convert("RGB") if image.mode != "RGB" else image.copy()
    thumb.thumbnail((max_side, max_side), Image.Resampling.BOX, reducing_gap=2.0)
    return thumb


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()


@dataclass(frozen=True)
class _MarkLayout:
    box: tuple[int, int, int, int]
    font_size: int
    pad: int


def _layout(width: int, height: int) -> _MarkLayout:
    size = max(9, round(min(width, height) / 28))
    left, top, right, bottom = _font(size).getbbox(MARK_TEXT)
    pad = max(2, size // 4)
    box_w = right - left + 2 * pad
    box_h = bottom - top + 2 * pad
    margin = max(2, size // 3)
    x1 = min(width, max(box_w, width - margin))
    y1 = min(height, max(box_h, height - margin))
    return _MarkLayout((max(0, x1 - box_w), max(0, y1 - box_h), x1, y1), size, pad)


def mark_box(width: int, height: int) -> tuple[int, int, int, int]:
    """Where the mark goes on a ``width`` x ``height`` picture: (x0, y0, x1, y1)."""
    return _layout(width, height).box


def _draw_mark(patch: Image.Image, layout: _MarkLayout) -> None:
    font = _font(layout.font_size)
    left, top, _, _ = font.getbbox(MARK_TEXT)
    draw = ImageDraw.Draw(patch)
    draw.rectangle((0, 0, patch.width - 1, patch.height - 1), fill=MARK_BOX)
    draw.text((layout.pad - left, layout.pad - top), MARK_TEXT, fill=MARK_INK, font=font)


def mark(image: Image.Image) -> Image.Image:
    """``image`` (an RGB copy) with a small "sandbox" box in its bottom-right corner."""
    out = image.convert("RGB") if image.mode != "RGB" else image.copy()
    layout = _layout(*out.size)
    x0, y0, x1, y1 = layout.box
    patch = Image.new("RGB", (x1 - x0, y1 - y0))
    _draw_mark(patch, layout)
    out.paste(patch, (x0, y0))
    return out


def mark_patch(width: int, height: int) -> tuple[tuple[int, int, int, int], Image.Image]:
    """The mark for a ``width`` x ``height`` picture as (box, RGB patch), to paste on every
    frame of a video without redrawing the text."""
    layout = _layout(width, height)
    x0, y0, x1, y1 = layout.box
    patch = Image.new("RGB", (x1 - x0, y1 - y0))
    _draw_mark(patch, layout)
    return layout.box, patch


def save_png(image: Image.Image, out: Path, *, compress_level: int = 1) -> None:
    """Save ``image`` as a PNG at ``out`` (light compression by default: fast, still lossless).

    ``compress_level=0`` writes an RGB(A) image stored, with no filter and no compression: the
    fastest, for the instant engine's throw-away results (Pillow still chooses a filter per row
    at level 0, which costs ten times as much). Any PNG reader reads it."""
    if compress_level == 0 and image.mode in ("RGB", "RGBA"):
        _save_stored_png(image, out)
        return
    image.save(out, format="PNG", compress_level=compress_level)


def _save_stored_png(image: Image.Image, out: Path) -> None:
    width, height = image.size
    raw = image.tobytes()
    stride = width * len(image.mode)
    rows = b"".join(b"\x00" + raw[y * stride : (y + 1) * stride] for y in range(height))
    colour_type = 6 if image.mode == "RGBA" else 2

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    with open(out, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", header))
        f.write(chunk(b"IDAT", zlib.compress(rows, 0)))
        f.write(chunk(b"IEND", b""))
