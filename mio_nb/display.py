"""What results look like in a notebook: light pictures and self-contained video players.

Every output is built to work in any front-end (JupyterLab, Notebook 7, VS Code, Colab, nbviewer):
no URL of the kernel's file server, no relative path, no CDN. Pictures are display-sized copies
(at most :data:`IMAGE_OUTPUT_MAX_BYTES` per output; the full-size file stays on disk). A video is
embedded as a ``data:`` URL with a poster image when it is at most :data:`VIDEO_EMBED_MAX_BYTES`;
a larger one shows its poster and where the file is, so a saved notebook never carries more than
that cap of video bytes (and a Colab or VS Code browser, which cannot fetch the kernel's files,
still plays every embedded one).
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .formats import human_bytes

#: The most one displayed picture may weigh (its base64 in the notebook stays under 250 KB).
IMAGE_OUTPUT_MAX_BYTES = 180_000
#: The longest side of a displayed picture (notebook cells are ~1000 px wide).
IMAGE_DISPLAY_MAX_SIDE = 960
#: The most video bytes an output embeds; a larger video shows its poster and its path.
VIDEO_EMBED_MAX_BYTES = 2_000_000
#: The longest side of a video's poster, and the most it may weigh.
POSTER_MAX_SIDE = 640
POSTER_MAX_BYTES = 64_000

Bundle = dict[str, Any]


def _encode(img: Any, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(buf, "JPEG", quality=85, optimize=True)
    else:
        img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def image_preview(
    path: str | os.PathLike[str],
    *,
    max_side: int = IMAGE_DISPLAY_MAX_SIDE,
    max_bytes: int = IMAGE_OUTPUT_MAX_BYTES,
) -> tuple[str, bytes]:
    """``(mime, data)``: a display-sized copy of the picture at ``path``, at most ``max_bytes``.

    PNG when that is small enough (drawings, crops), else JPEG (photos); shrunk until it fits.
    """
    from PIL import Image

    with Image.open(path) as opened:
        opened.load()
        img: Image.Image = opened
    if img.mode not in ("RGB", "RGBA", "L"):
        img = img.convert("RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB")
    side = max_side
    while True:
        shown = img.copy()
        shown.thumbnail((side, side))
        data = _encode(shown, "PNG")
        if len(data) <= max_bytes:
            return "image/png", data
        data = _encode(shown, "JPEG")
        if len(data) <= max_bytes or side <= 64:
            return "image/jpeg", data
        side = int(side * 0.75)


def image_bundle(path: str | os.PathLike[str], text: str) -> Bundle:
    """A MIME bundle showing the picture at ``path`` (light copy), with ``text`` as fallback."""
    mime, data = image_preview(path)
    return {mime: data, "text/plain": text}


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def video_bundle(
    path: str | os.PathLike[str],
    poster: str | os.PathLike[str] | None,
    text: str,
    *,
    width: int = 640,
    max_bytes: int = VIDEO_EMBED_MAX_BYTES,
) -> Bundle:
    """A MIME bundle that plays the MP4 at ``path`` inline, embedded, with ``poster`` as its
    poster. A video over ``max_bytes`` is not embedded: the bundle shows the poster alone (say
    where the file is next to it, see :func:`video_caption_note`)."""
    path = Path(path)
    bundle: Bundle = {"text/plain": text}
    poster_attr = ""
    if poster is not None and Path(poster).is_file():
        mime, data = image_preview(poster, max_side=POSTER_MAX_SIDE, max_bytes=POSTER_MAX_BYTES)
        bundle[mime] = data  # what a front-end without HTML (or a too large video) shows
        poster_attr = f' poster="{_data_url(mime, data)}"'
    if path.stat().st_size <= max_bytes:
        src = _data_url("video/mp4", path.read_bytes())
        bundle["text/html"] = (
            f'<video controls preload="auto" style="max-width:100%" width="{width}"'
            f'{poster_attr} src="{src}"></video>'
        )
    return bundle


def video_caption_note(path: str | os.PathLike[str], max_bytes: int = VIDEO_EMBED_MAX_BYTES) -> str:
    """What to add to a video's caption when it is too large to embed ("" otherwise)."""
    size = Path(path).stat().st_size
    if size <= max_bytes:
        return ""
    return (
        f"; over the {human_bytes(max_bytes)} a notebook embeds, so only its cover shows here: "
        "open the file to play it"
    )


def publish(bundle: Mapping[str, Any], caption: str | None = None) -> None:
    """Display ``bundle`` in the running notebook, then ``caption`` as a line of text."""
    from IPython.display import display

    data = {
        mime: base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
        for mime, value in bundle.items()
    }
    display(data, raw=True)
    if caption:
        display({"text/plain": caption}, raw=True)
