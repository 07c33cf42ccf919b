"""The pictures FaceSwapWidget sends to the browser, and what the view needs to know of them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

__all__ = [
    "FACE_SIDE",
    "NEW_FACE_SIDE",
    "PREVIEW_SIDE",
    "face_state",
    "image_size",
    "label_for",
    "webp",
]

#: Longest side of the pictures sent to the browser (the result itself is sent whole).
FACE_SIDE = 256
NEW_FACE_SIDE = 256
PREVIEW_SIDE = 1600


def label_for(i: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA" (as the front end's labelFor)."""
    label = ""
    n = i
    while True:
        label = chr(65 + n % 26) + label
        n = n // 26 - 1
        if n < 0:
            return label


def webp(png_or_image: Any, side: int) -> bytes:
    """A small WebP of an image (bytes, path or PIL image), longest side at most ``side``."""
    from PIL import Image, ImageOps, WebPImagePlugin

    del WebPImagePlugin  # registered by its import: saving WEBP then skips Image.init() (0.2 s)
    if isinstance(png_or_image, Image.Image):
        img = png_or_image
    else:
        src = io.BytesIO(png_or_image) if isinstance(png_or_image, bytes) else png_or_image
        with Image.open(src) as opened:
            opened.seek(0)
            img = ImageOps.exif_transpose(opened)
            img.load()
    img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    img.thumbnail((side, side))
    buf = io.BytesIO()
    img.save(buf, format="WEBP", quality=80, method=2)
    return buf.getvalue()


def face_state(face: Any, media: str) -> dict[str, Any]:
    """What the view needs of a detected face: its number, picture, and where it is on the
    photo (``box`` [x, y, w, h] and ``kps`` [[x, y] * 5] in original pixels) when located."""
    state: dict[str, Any] = {
        "index": face.index + 1,
        "media": media,
        "width": face.width,
        "height": face.height,
    }
    box = getattr(face, "box", None)
    if box is not None:
        state["box"] = [round(float(v), 1) for v in box]
        kps = face.kps_in_original() or {}
        state["kps"] = [[round(p["x"], 1), round(p["y"], 1)] for _, p in sorted(kps.items())]
    return state


def image_size(path: Path) -> tuple[int, int] | None:
    """The size of the image as shown (EXIF orientation applied), or None."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            width, height = img.size
            orientation = img.getexif().get(0x0112, 1)
    except Exception:
        return None
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)
