"""Pictures whose face positions are known, and face crops cut from them the way a face-swap
service plausibly cuts them (the face's box plus a margin, maybe resized, JPEG-encoded).

Faces are the tiles of :mod:`mio_nb.samples` (the two public-domain portraits, mirrored and
tinted so that no two of 8 are alike). In a tile of side ``t`` the face's box is its middle
third (``samples`` cuts each tile at 1.5 face-box sides around the face's centre).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from mio_nb import samples

BACKGROUND = (236, 232, 224)


@dataclass(frozen=True)
class Placed:
    """A face tile pasted at (x, y) with side ``side``: its face box is the middle third."""

    x: int
    y: int
    side: int

    def face_box(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the face's box grown by ``margin`` of its side on each side."""
        third = self.side / 3
        grow = margin * third
        return (
            self.x + third - grow,
            self.y + third - grow,
            self.x + 2 * third + grow,
            self.y + 2 * third + grow,
        )


def group_picture(
    faces: int,
    size: tuple[int, int] = (1400, 1000),
    side: int = 256,
    *,
    columns: int = 4,
    jitter: int = 23,
) -> tuple[Image.Image, list[Placed]]:
    """A picture of ``size`` with ``faces`` (1 to 8) distinct face tiles of ``side`` pixels in a
    grid, each nudged by a known amount (so positions are not multiples of anything)."""
    canvas = Image.new("RGB", size, BACKGROUND)
    columns = min(columns, faces)
    rows = (faces + columns - 1) // columns
    gap_x = (size[0] - columns * side) // (columns + 1)
    gap_y = (size[1] - rows * side) // (rows + 1)
    if gap_x < jitter or gap_y < jitter:
        raise ValueError("the faces do not fit")
    placed = []
    for i in range(faces):
        row, col = divmod(i, columns)
        x = gap_x + col * (side + gap_x) + (i * 7) % jitter
        y = gap_y + row * (side + gap_y) + (i * 11) % jitter
        tile = samples._face_tile(i)
        if tile.width != side:
            tile = tile.resize((side, side), Image.Resampling.LANCZOS)
        canvas.paste(tile, (x, y))
        placed.append(Placed(x, y, side))
    return canvas, placed


def jpeg(image: Image.Image, quality: int = 80) -> Image.Image:
    """``image`` after a round trip through JPEG at ``quality``."""
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as out:
        return out.convert("RGB")


def service_crop(
    picture: Image.Image,
    face: Placed,
    *,
    margin: float = 0.4,
    resize: float = 1.0,
    quality: int | None = None,
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The crop of ``face`` (its box plus ``margin``, on whole pixels) resized by ``resize`` and
    JPEG-encoded at ``quality`` (if given); also the box it was cut from (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = (round(v) for v in face.face_box(margin))
    crop = picture.crop((x0, y0, x1, y1))
    if resize != 1.0:
        crop = crop.resize(
            (round(crop.width * resize), round(crop.height * resize)), Image.Resampling.LANCZOS
        )
    if quality is not None:
        crop = jpeg(crop, quality)
    return crop, (x0, y0, x1, y1)
