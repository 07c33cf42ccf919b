"""Size limits of the sandbox's media, checked before any engine sees a file (code 704).

Images: at most ``MAX_IMAGE_PIXELS`` pixels and ``MAX_IMAGE_SIDE`` on a side; only the file's
header is read, so a 12000x12000 PNG of 140 KB is refused without being decoded. Videos: at most
``MAX_VIDEO_LONG_SIDE`` x ``MAX_VIDEO_SHORT_SIDE`` pixels (either orientation) and
``MAX_VIDEO_SECONDS`` long, read with imageio-ffmpeg when it is installed (without it the sandbox
cannot read videos at all, and the engine answers 701).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image

from mio_nb.formats import FileFormat

MAX_IMAGE_PIXELS = 36_000_000
MAX_IMAGE_SIDE = 8192
MAX_VIDEO_LONG_SIDE = 3840
MAX_VIDEO_SHORT_SIDE = 2160
MAX_VIDEO_SECONDS = 300.0

IMAGE_LIMIT = (
    f"images up to {MAX_IMAGE_PIXELS // 1_000_000} megapixels and {MAX_IMAGE_SIDE} px a side"
)
VIDEO_LIMIT = (
    f"videos up to {MAX_VIDEO_LONG_SIDE}x{MAX_VIDEO_SHORT_SIDE} px and {MAX_VIDEO_SECONDS:.0f} s"
)


def refusal(path: Path, fmt: FileFormat) -> str | None:
    """Why the file at ``path`` (of format ``fmt``) is over the limits, or None when it is
    within them or cannot be read (the engine then answers 701)."""
    if fmt.kind == "image":
        return _image_refusal(path)
    return _video_refusal(path)


def _image_refusal(path: Path) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:  # reads the header only
                width, height = im.size
    except Image.DecompressionBombError:
        return f"{IMAGE_LIMIT} (this one has over {2 * Image.MAX_IMAGE_PIXELS} pixels)"
    except (OSError, ValueError, SyntaxError, EOFError):
        return None
    if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_IMAGE_SIDE:
        return f"{IMAGE_LIMIT} (this one is {width}x{height})"
    return None


def _video_refusal(path: Path) -> str | None:
    try:
        from mio_nb.sandbox.engine import media

        info = media.probe(path)
    except Exception:  # no imageio-ffmpeg, or unreadable: the engine says so (701)
        return None
    long_side, short_side = max(info.width, info.height), min(info.width, info.height)
    seconds = float(info.duration or 0.0)
    if (
        long_side > MAX_VIDEO_LONG_SIDE
        or short_side > MAX_VIDEO_SHORT_SIDE
        or seconds > MAX_VIDEO_SECONDS
    ):
        return f"{VIDEO_LIMIT} (this one is {info.width}x{info.height}, {seconds:.0f} s)"
    return None
