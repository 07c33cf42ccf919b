"""Checks made before the first request, so a mistake costs nothing: the output folder can be
written, every file decodes, arguments are in range.

Images are decoded by Pillow (at most :data:`MAX_PIXELS` pixels: a clear error, never a
decompression-bomb warning as the only signal); videos are probed for a readable video stream by
ffmpeg when imageio-ffmpeg is installed (the sandbox extra), and checked for a sane container
otherwise. Every message names the user's file and its role ("the original", "the new face").
"""

from __future__ import annotations

import contextlib
import io
import numbers
import os
import struct
import subprocess
import tempfile
import threading
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import CorruptFileError, InvalidArgumentError, OutputFolderError
from .formats import FileFormat
from .mediabounds import structure_problem

#: The most pixels an input image may have (100 megapixels).
MAX_PIXELS = 100_000_000
#: How long ffmpeg may take to find and decode the first frame of a video.
VIDEO_PROBE_SECONDS = 60.0

_PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}


# -- arguments ------------------------------------------------------------------------------


def check_hd(hd: object) -> bool:
    """``hd`` as a bool: True/False, or the API's ``is_hd`` values 1 (HD) and 2 (standard)."""
    if isinstance(hd, bool):
        return hd
    if isinstance(hd, numbers.Integral) and int(hd) in (1, 2):
        return int(hd) == 1
    raise InvalidArgumentError(
        f"hd must be True or False (or the API's is_hd values 1 = HD, 2 = standard), not {hd!r}."
    )


def check_timeout(value: object, name: str = "timeout") -> float | None:
    """A positive number of seconds, or None (the default)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgumentError(f"{name} must be a number of seconds, not {value!r}.")
    seconds = float(value)
    if not seconds > 0 or seconds == float("inf"):
        raise InvalidArgumentError(f"{name} must be more than 0 seconds, not {value!r}.")
    return seconds


def check_request_timeout(value: object, name: str = "timeout") -> float | tuple[float, float]:
    """An HTTP timeout: seconds, or ``(connect, read)`` seconds, all more than 0."""
    if isinstance(value, tuple):
        if len(value) != 2:
            raise InvalidArgumentError(f"{name} must be seconds or (connect, read), not {value!r}.")
        connect = check_timeout(value[0], f"{name}[0] (connect)")
        read = check_timeout(value[1], f"{name}[1] (read)")
        assert connect is not None and read is not None
        return (connect, read)
    seconds = check_timeout(value, name)
    if seconds is None:
        raise InvalidArgumentError(f"{name} must be a number of seconds, not None.")
    return seconds


# -- the output folder ----------------------------------------------------------------------


def check_output_dir(folder: Path) -> None:
    """Create ``folder`` if needed and write (then remove) a probe file in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputFolderError(
            f"The output folder '{folder}' cannot be created: a file of that name is in the way."
        ) from None
    except OSError as e:
        raise OutputFolderError(
            f"The output folder '{folder}' cannot be created: {e.strerror or e}."
        ) from None
    probe = folder / f".mio-probe-{uuid.uuid4().hex}"
    try:
        with open(probe, "xb") as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise OutputFolderError(
            f"The output folder '{folder}' cannot be written: {e.strerror or e}."
        ) from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


# -- media ----------------------------------------------------------------------------------


def check_media(
    label: str,
    fmt: FileFormat,
    path: Path | None = None,
    data: bytes | None = None,
    stamp: tuple[int, int] | None = None,
) -> None:
    """CorruptFileError unless the file (``path`` or ``data``) decodes as ``fmt``.

    ``stamp``: the file's (size, mtime_ns); a file checked before with the same stamp is not
    decoded again (a batch checks each input when fingerprinting it and when submitting).
    """
    key = (str(path), *stamp) if path is not None and stamp is not None else None
    with _checked_lock:
        if key is not None and key in _checked:
            return
    if fmt.kind == "image":
        _check_image(label, fmt, path, data)
    else:
        _check_video(label, fmt, path, data)
    if key is not None:
        with _checked_lock:
            if len(_checked) >= _CHECKED_MAX:
                _checked.clear()
            _checked.add(key)


_CHECKED_MAX = 4096
_checked: set[tuple[str, int, int]] = set()
_checked_lock = threading.Lock()


def check_pixels(label: str, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise CorruptFileError(f"{label} is {width}x{height} pixels: there is no picture in it.")
    if width * height > MAX_PIXELS:
        raise CorruptFileError(
            f"{label} is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"at most {MAX_PIXELS / 1e6:.0f} megapixels are accepted.",
            hint="Scale the image down (e.g. with PIL's Image.thumbnail) and try again.",
        )


def _open(path: Path | None, data: bytes | None) -> IO[bytes]:
    if path is not None:
        return open(path, "rb")
    assert data is not None
    return io.BytesIO(data)


def _check_image(label: str, fmt: FileFormat, path: Path | None, data: bytes | None) -> None:
    from PIL import Image

    what = fmt.name.upper()
    with _open(path, data) as f:
        problem = structure_problem(fmt.name, f)
    if problem:
        raise CorruptFileError(
            f"{label} is not a usable {what} picture: {problem}.",
            hint="Re-save the picture with an image editor (which drops the extra segments), "
            "then try again.",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with _open(path, data) as f, Image.open(f, formats=[_PIL_FORMATS[fmt.name]]) as img:
                check_pixels(label, *img.size)
                if fmt.name == "jpg":  # decode at 1/8 scale: every byte is still read
                    img.draft(img.mode, (max(1, img.width // 8), max(1, img.height // 8)))
                img.load()
            if fmt.name == "png":  # the checksums of every chunk (load() skips some)
                with _open(path, data) as f, Image.open(f, formats=["PNG"]) as img:
                    img.verify()
        except Image.DecompressionBombError:
            raise CorruptFileError(
                f"{label} claims more than {MAX_PIXELS / 1e6:.0f} megapixels in its header "
                "(too large, or not really an image).",
                hint="Scale the image down and try again.",
            ) from None
        except CorruptFileError:
            raise
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as e:
            raise CorruptFileError(
                f"{label} starts like a {what} file but cannot be decoded ({_reason(e)})."
            ) from None


def _reason(e: BaseException) -> str:
    text = str(e).split("\n")[0].strip()
    if text.startswith("cannot identify image file"):  # Pillow adds the file object's repr
        return "Pillow does not recognise its content"
    return text[:120] or type(e).__name__


def _check_video(label: str, fmt: FileFormat, path: Path | None, data: bytes | None) -> None:
    with _open(path, data) as f:
        problem = _container_problem(fmt, f)
    if problem:
        raise CorruptFileError(f"{label} is not a playable {fmt.name.upper()} video: {problem}.")
    try:
        import imageio_ffmpeg
    except ImportError:
        return
    with _as_file(path, data, fmt) as file:
        problem = _ffmpeg_problem(imageio_ffmpeg.get_ffmpeg_exe(), file)
    if problem:
        raise CorruptFileError(f"{label} is not a playable {fmt.name.upper()} video: {problem}.")


@contextlib.contextmanager
def _as_file(path: Path | None, data: bytes | None, fmt: FileFormat) -> Iterator[Path]:
    if path is not None:
        yield path
        return
    assert data is not None
    fd, name = tempfile.mkstemp(suffix=f".{fmt.name}")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _ffmpeg_problem(ffmpeg: str, file: Path) -> str | None:
    """None if ffmpeg decodes a first video frame of ``file``, else what went wrong."""
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", str(file), "-map", "0:v:0"]
    cmd += ["-frames:v", "1", "-f", "null", "-"]
    try:
        run = subprocess.run(cmd, capture_output=True, timeout=VIDEO_PROBE_SECONDS)
    except subprocess.TimeoutExpired:
        return f"ffmpeg found no frame within {VIDEO_PROBE_SECONDS:g} s"
    if run.returncode == 0:
        return None
    err = run.stderr.decode("utf-8", "replace")
    if "matches no streams" in err or "does not contain any stream" in err:
        return "it has no video stream"
    last = [line for line in err.splitlines() if line.strip()]
    detail = last[-1].replace(str(file), "the file") if last else f"exit {run.returncode}"
    return f"ffmpeg cannot read it ({detail[:120]})"


def _container_problem(fmt: FileFormat, f: IO[bytes]) -> str | None:
    if fmt.name == "webm":
        return _ebml_problem(f)
    return _iso_problem(f)


def _iso_problem(f: IO[bytes]) -> str | None:
    """MP4/MOV/M4V: top-level boxes that add up, with a 'moov' (the index of the streams)."""
    end = f.seek(0, io.SEEK_END)
    pos = 0
    seen: list[bytes] = []
    while pos + 8 <= end:
        f.seek(pos)
        head = f.read(16)
        size, kind = struct.unpack(">I4s", head[:8])
        if size == 1 and len(head) == 16:
            size = struct.unpack(">Q", head[8:16])[0]
        elif size == 0:
            size = end - pos
        if size < 8:
            return f"a broken '{kind.decode('latin-1')}' box at byte {pos}"
        seen.append(kind)
        pos += size
    if pos > end:
        name = seen[-1].decode("latin-1")
        return f"it is cut short (its '{name}' box ends {pos - end} bytes past the end)"
    if b"moov" not in seen:
        return "it has no 'moov' box (no stream index: a header only, or cut short)"
    return None


def _vint(f: IO[bytes]) -> tuple[int, int] | None:
    """An EBML variable-length integer: (value without its marker, length), or None."""
    first = f.read(1)
    if not first:
        return None
    b = first[0]
    length = next((i + 1 for i in range(8) if b & (0x80 >> i)), 0)
    if not length:
        return None
    value = b & ((0x80 >> (length - 1)) - 1)
    rest = f.read(length - 1)
    if len(rest) != length - 1:
        return None
    for byte in rest:
        value = (value << 8) | byte
    return value, length


def _ebml_problem(f: IO[bytes]) -> str | None:
    """WEBM: the EBML header followed by a Segment with content."""
    f.seek(0)
    if f.read(4) != b"\x1a\x45\xdf\xa3":
        return "no EBML header"
    size = _vint(f)
    if size is None:
        return "a broken EBML header"
    f.seek(size[0], io.SEEK_CUR)
    if f.read(4) != b"\x18\x53\x80\x67":
        return "no Segment after the header (a header only, or cut short)"
    seg = _vint(f)
    start = f.tell()
    end = f.seek(0, io.SEEK_END)
    if seg is None or end - start < 64:
        return "an empty Segment (no tracks, no frames)"
    return None
