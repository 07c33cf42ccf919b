"""Drawing detected faces: crops with their five keypoints and their number.

Uses matplotlib's object API (``matplotlib.figure.Figure`` on the Agg canvas), never pyplot, so it
works headless, in threads and without touching the notebook's global figure state.
``draw_face(crop, face.kps, face.index)`` -> PNG bytes is what the widget shows.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from PIL import Image

    from .results import Face

#: Colours of keypoints 1..5 (left eye, right eye, nose tip, left and right mouth corner).
KP_COLORS = ("#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd")
KP_NAMES = ("left eye", "right eye", "nose tip", "left mouth corner", "right mouth corner")


def _image(face_image: Any) -> Image.Image:
    from PIL import Image

    if isinstance(face_image, Image.Image):
        img = face_image
    elif isinstance(face_image, (bytes, bytearray, memoryview)):
        img = Image.open(io.BytesIO(bytes(face_image)))
    elif isinstance(face_image, (str, os.PathLike)):
        with Image.open(face_image) as opened:
            opened.load()
            img = opened
    else:
        raise TypeError(f"Expected a PIL image, bytes or a path, got {type(face_image).__name__}")
    return img if img.mode in ("RGB", "RGBA", "L") else img.convert("RGB")


def keypoints(kps: Any) -> list[tuple[float, float]]:
    """Keypoints as ``[(x, y)] * 5`` from the API's ``{"1": {"x", "y"}, ...}`` or a sequence."""
    if isinstance(kps, Mapping):
        items = sorted(kps.items(), key=lambda kv: str(kv[0]))
        return [(float(p["x"]), float(p["y"])) for _, p in items]
    points: list[tuple[float, float]] = []
    for p in kps or ():
        if isinstance(p, Mapping):
            points.append((float(p["x"]), float(p["y"])))
        else:
            x, y = p
            points.append((float(x), float(y)))
    return points


def _draw(
    ax: Any,
    img: Image.Image,
    points: Sequence[tuple[float, float]],
    index: int,
    marker: float = 45.0,
) -> None:
    w, h = img.size
    ax.imshow(img, interpolation="bilinear")
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_axis_off()
    for (x, y), color in zip(points, KP_COLORS, strict=False):
        ax.scatter([x], [y], s=marker, c=color, edgecolors="white", linewidths=1.0, zorder=3)
    ax.text(
        0.04,
        0.96,
        str(index),
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=14,
        fontweight="bold",
        color="white",
        bbox={"boxstyle": "round,pad=0.25", "facecolor": "#222222", "alpha": 0.8, "lw": 0},
        zorder=4,
    )


def _canvas(fig: Figure) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Figure, dpi: float | None = None) -> bytes:
    """PNG bytes of a Figure (drawn on the Agg canvas)."""
    buf = io.BytesIO()
    _canvas(fig).savefig(buf, format="png", dpi=dpi or fig.dpi)
    return buf.getvalue()


def draw_face(face_image: Any, kps: Any, index: int, *, max_side: int = 256) -> bytes:
    """PNG bytes of a face crop with its five keypoints and its number ``index``.

    ``face_image``: PIL image, encoded bytes or a path; ``kps``: the API's
    ``{"1": {"x": .., "y": ..}, ...}`` (crop pixels) or ``[(x, y), ...]``. Small crops are
    scaled up to ``max_side`` pixels so the number stays legible.
    """
    from matplotlib.figure import Figure

    img = _image(face_image)
    w, h = img.size
    scale = max(1.0, max_side / max(w, h)) if max(w, h) < max_side else max_side / max(w, h)
    dpi = 100
    fig = Figure(figsize=(w * scale / dpi, h * scale / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    _draw(ax, img, keypoints(kps), index)
    return figure_png(fig)


def plot_faces(faces: Iterable[Face], *, columns: int | None = None, size: float = 2.2) -> Figure:
    """A Figure with one panel per face: crop, five keypoints, number (see FaceSet.plot)."""
    from matplotlib.figure import Figure

    faces = list(faces)
    n = max(1, len(faces))
    cols = columns or min(n, 6)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(cols * size, rows * size * 1.15), dpi=100, layout="constrained")
    _canvas(fig)
    for i in range(rows * cols):
        ax = fig.add_subplot(rows, cols, i + 1)
        if i >= len(faces):
            ax.set_axis_off()
            continue
        face = faces[i]
        _draw(ax, face.image(), keypoints(face.kps), face.index)
        ax.set_title(f"faces[{face.index}]", fontsize=9)
    if not faces:
        fig.text(0.5, 0.5, "no faces", ha="center", va="center")
    return fig
