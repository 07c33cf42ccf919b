"""Drawing detected faces: crops with their five keypoints and their number.

Uses matplotlib's object API (``matplotlib.figure.Figure`` on the Agg canvas), never pyplot, so it
works headless, in threads and without touching the notebook's global figure state. The Figures it
returns (:func:`new_figure`) show themselves as a PNG in a notebook, whatever matplotlib backend is
set and whether or not pyplot was imported.
``render_face(crop, face.kps, number)`` -> RGBA image is what the widget shows (faces are
numbered from 1 on screen: ``faces[0]`` is badge 1).
"""

from __future__ import annotations

import functools
import io
import math
import os
import threading
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
    img: Image.Image | None,
    points: Sequence[tuple[float, float]],
    number: int,
    size: tuple[int, int] | None = None,
    marker: float = 45.0,
) -> None:
    """Draw ``img`` (if given) with its keypoints and the badge ``number`` on ``ax``, in the
    pixel coordinates of an image of ``size`` (default: ``img.size``)."""
    w, h = size or img.size  # type: ignore[union-attr]
    if img is not None:
        ax.imshow(img, interpolation="nearest")
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_axis_off()
    if points:
        xs, ys = zip(*points, strict=True)
        colors = list(KP_COLORS[: len(points)])
        ax.scatter(xs, ys, s=marker, c=colors, edgecolors="white", linewidths=1.0, zorder=3)
    ax.text(
        0.04,
        0.96,
        str(number),
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=14,
        fontweight="bold",
        color="white",
        bbox={"boxstyle": "round,pad=0.25", "facecolor": "#222222", "alpha": 0.8, "lw": 0},
        zorder=4,
    )


@functools.cache
def _notebook_figure_class() -> type[Figure]:
    from matplotlib.figure import Figure

    class NotebookFigure(Figure):
        """A Figure that shows itself as a PNG in any notebook front-end, with no pyplot."""

        def _repr_png_(self) -> bytes:
            """The PNG a notebook shows: at the Figure's dpi, lowered until it is light enough
            for a notebook (see ``mio_nb.display.IMAGE_OUTPUT_MAX_BYTES``)."""
            from .display import IMAGE_OUTPUT_MAX_BYTES

            dpi = self.dpi
            png = figure_png(self, dpi)
            while len(png) > IMAGE_OUTPUT_MAX_BYTES and dpi > 30:
                dpi *= 0.8
                png = figure_png(self, dpi)
            return png

    NotebookFigure.__module__ = __name__
    NotebookFigure.__qualname__ = "NotebookFigure"
    globals()["NotebookFigure"] = NotebookFigure  # so that pickle finds it
    return NotebookFigure


def __getattr__(name: str) -> Any:
    if name == "NotebookFigure":  # made on first use: importing this module loads no matplotlib
        return _notebook_figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def new_figure(**kwargs: Any) -> Figure:
    """A Figure on the Agg canvas that a notebook shows as a PNG (``kwargs`` go to Figure).

    matplotlib's own Figures show as text (``<Figure size ... with 3 Axes>``) unless pyplot was
    imported under the inline backend; these show a picture in every case."""
    return _canvas(_notebook_figure_class()(**kwargs))


def _canvas(fig: Figure) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Figure, dpi: float | None = None) -> bytes:
    """PNG bytes of a Figure (drawn on the Agg canvas)."""
    buf = io.BytesIO()
    _canvas(fig).savefig(buf, format="png", dpi=dpi or fig.dpi)
    return buf.getvalue()


def render_face(face_image: Any, kps: Any, number: int, *, max_side: int = 256) -> Image.Image:
    """An RGBA image of a face crop with its five keypoints and the badge ``number``.

    ``face_image``: PIL image, encoded bytes or a path; ``kps``: the API's
    ``{"1": {"x": .., "y": ..}, ...}`` (crop pixels) or ``[(x, y), ...]``. The crop is scaled
    to ``max_side`` pixels (up for small crops, so the number stays legible) by Pillow before
    drawing, so matplotlib draws it pixel for pixel.
    """
    from PIL import Image

    img = _image(face_image)
    w, h = img.size
    scale = max_side / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    shown = img.resize(size, Image.Resampling.BILINEAR) if size != img.size else img
    points = [(x * size[0] / w, y * size[1] / h) for x, y in keypoints(kps)]
    # matplotlib draws the marks on a transparent canvas; Pillow lays them over the crop, which
    # is faster than having matplotlib resample the crop itself.
    with _face_canvas_lock:
        fig, ax = _face_axes()
        fig.set_size_inches(size[0] / fig.dpi, size[1] / fig.dpi)
        for artist in [*ax.collections, *ax.texts]:
            artist.remove()
        _draw(ax, None, points, number, size=size)
        fig.canvas.draw()
        marks = Image.frombuffer("RGBA", fig.canvas.get_width_height(), fig.canvas.buffer_rgba())  # type: ignore[attr-defined]
        return Image.alpha_composite(shown.convert("RGBA"), marks)


_face_canvas_lock = threading.Lock()
_face_canvas: tuple[Figure, Any] | None = None


def _face_axes() -> tuple[Figure, Any]:
    """The Figure and full-bleed Axes of :func:`render_face`, made once per process: making
    Axes (and the first text layout) costs far more than drawing a face, and a gallery draws
    many. Callers hold ``_face_canvas_lock``."""
    global _face_canvas
    if _face_canvas is None:
        from matplotlib.figure import Figure

        fig = Figure(dpi=100)
        fig.patch.set_alpha(0.0)
        _canvas(fig)
        _face_canvas = (fig, fig.add_axes((0, 0, 1, 1)))
    return _face_canvas


_warming = threading.Event()


def warm_up_soon() -> None:
    """:func:`warm_up` in a thread of its own, once per process."""
    if not _warming.is_set():
        _warming.set()
        threading.Thread(target=warm_up, name="mio-nb-warm-up", daemon=True).start()


def warm_up() -> None:
    """Do the one-time work of drawing faces now (fonts, canvas), e.g. while a widget waits
    for its first file, so that the first gallery appears at full speed."""
    from PIL import Image

    render_face(Image.new("RGB", (8, 8)), {}, 0, max_side=8)


def draw_face(face_image: Any, kps: Any, number: int, *, max_side: int = 256) -> bytes:
    """PNG bytes of :func:`render_face`: a face crop with its keypoints and badge ``number``."""
    buf = io.BytesIO()
    render_face(face_image, kps, number, max_side=max_side).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def plot_faces(faces: Iterable[Face], *, columns: int | None = None, size: float = 2.2) -> Figure:
    """A Figure with one panel per face: crop, five keypoints, number (see FaceSet.plot)."""
    faces = list(faces)
    n = max(1, len(faces))
    cols = columns or min(n, 6)
    rows = math.ceil(n / cols)
    fig = new_figure(figsize=(cols * size, rows * size * 1.15), dpi=100, layout="constrained")
    for i in range(rows * cols):
        ax = fig.add_subplot(rows, cols, i + 1)
        if i >= len(faces):
            ax.set_axis_off()
            continue
        face = faces[i]
        # The badge is the number shown everywhere; the title adds the Python index.
        _draw(ax, face.image(), keypoints(face.kps), face.number)
        ax.set_title(f"face {face.number} (faces[{face.index}])", fontsize=9)
    if not faces:
        fig.text(0.5, 0.5, "no faces", ha="center", va="center")
    return fig


def plot_faces_on_photo(
    faces: Iterable[Face], original: Any, *, width: float = 8.0, max_side: int = 1600
) -> Figure:
    """The original photo with every located face outlined by a numbered box and its five
    keypoints where they are (``faces.plot(on=original)``). Faces whose crop could not be found
    in the photo (``face.box`` None) are listed under it, not drawn: nothing is guessed.

    ``original``: path, PIL image or bytes of the image the faces were detected in; it is shown
    downscaled to ``max_side`` pixels (boxes are drawn in its own pixels)."""
    from matplotlib.patches import Rectangle
    from PIL import Image

    img = _image(original)
    w, h = img.size
    scale = min(1.0, max_side / max(w, h))
    shown = img.resize((round(w * scale), round(h * scale)), Image.Resampling.BILINEAR)
    faces = list(faces)
    fig = new_figure(figsize=(width, width * h / w + 0.3), dpi=100, layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(shown, extent=(-0.5, w - 0.5, h - 0.5, -0.5), interpolation="antialiased")
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_axis_off()
    missing = []
    for face in faces:
        if face.box is None:
            missing.append(face.number)
            continue
        x, y, bw, bh = face.box
        ax.add_patch(
            Rectangle((x - 0.5, y - 0.5), bw, bh, fill=False, edgecolor="#ffcc00", linewidth=2.0)
        )
        ax.add_patch(
            Rectangle((x - 0.5, y - 0.5), bw, bh, fill=False, edgecolor="#222222", linewidth=0.6)
        )
        points = keypoints(face.kps_in_original() or {})
        if points:
            xs, ys = zip(*points, strict=True)
            ax.scatter(
                xs, ys, s=28, c=list(KP_COLORS[: len(points)]), edgecolors="white",
                linewidths=0.8, zorder=3,
            )  # fmt: skip
        ax.text(
            x, y, str(face.number), ha="left", va="bottom", fontsize=12, fontweight="bold",
            color="white", zorder=4,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "#222222", "alpha": 0.85, "lw": 0},
        )  # fmt: skip
    if missing:
        names = ", ".join(str(n) for n in missing)
        fig.text(
            0.01, 0.0, f"Not found on the photo (see the crops): face {names}",
            ha="left", va="bottom", fontsize=9,
        )  # fmt: skip
    return fig
