"""Size limits of the sandbox's media, checked before any engine sees a file (code 704).

Images: at most ``MAX_IMAGE_PIXELS`` pixels and ``MAX_IMAGE_SIDE`` on a side; only the file's
header is read, so a 12000x12000 PNG of 140 KB is refused without being decoded. Videos: at most
``MAX_VIDEO_LONG_SIDE`` x ``MAX_VIDEO_SHORT_SIDE`` pixels (either orientation) and
``MAX_VIDEO_SECONDS`` long, read with imageio-ffmpeg when it is installed (without it the sandbox
cannot read videos at all, and the engine answers 701). A video's length is not taken from its
header (which can claim 10 s for 400 s of frames): every packet of its video stream is read
(``ffmpeg -c copy``, no decoding, stopped just past the limits), and its frames and time counted.
"""

from __future__ import annotations

import re
import subprocess
import warnings
from pathlib import Path

from PIL import Image

from mio_nb.formats import FileFormat

MAX_IMAGE_PIXELS = 36_000_000
MAX_IMAGE_SIDE = 8192
MAX_VIDEO_LONG_SIDE = 3840
MAX_VIDEO_SHORT_SIDE = 2160
MAX_VIDEO_SECONDS = 300.0
#: Frames of a video at most: its seconds at 60 frames a second.
MAX_VIDEO_FRAMES = int(MAX_VIDEO_SECONDS * 60)
#: Seconds the packet scan of one video may take.
SCAN_SECONDS = 60.0

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
    scanned = _scan(path)
    if isinstance(scanned, str):
        return scanned
    frames, counted = scanned
    if frames > MAX_VIDEO_FRAMES:
        return f"{VIDEO_LIMIT} and {MAX_VIDEO_FRAMES} frames (this one has more)"
    seconds = max(seconds, counted)
    if (
        long_side > MAX_VIDEO_LONG_SIDE
        or short_side > MAX_VIDEO_SHORT_SIDE
        or seconds > MAX_VIDEO_SECONDS
    ):
        return f"{VIDEO_LIMIT} (this one is {info.width}x{info.height}, {seconds:.0f} s)"
    return None


_PROGRESS = re.compile(r"frame=\s*(\d+).*?time=\s*(-?[\d:.]+)")


def _scan(path: Path) -> tuple[int, float] | str:
    """(frames, seconds) of the video stream of ``path`` counted packet by packet (stopped just
    past the limits), or why the file is refused."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path)]
    cmd += ["-map", "0:v:0", "-c", "copy", "-t", f"{MAX_VIDEO_SECONDS + 1:g}"]
    cmd += ["-frames:v", str(MAX_VIDEO_FRAMES + 1), "-f", "null", "-"]
    try:
        run = subprocess.run(cmd, capture_output=True, timeout=SCAN_SECONDS)
    except subprocess.TimeoutExpired:
        return f"{VIDEO_LIMIT} (this one could not be read within {SCAN_SECONDS:g} s)"
    found = _PROGRESS.findall(run.stderr.decode("utf-8", "replace"))
    if not found:
        return 0, 0.0
    frames, clock = found[-1]
    seconds = 0.0
    for part in clock.lstrip("-").split(":"):
        try:
            seconds = seconds * 60 + float(part)
        except ValueError:
            return int(frames), 0.0
    return int(frames), seconds
