"""What the client hands back: uploaded assets, detected faces and swap results.

Results are saved to the client's output folder (``./mio_outputs/`` by default) before they are
returned, so nothing paid for lives only behind a URL that expires in 3 days. In a notebook an
:class:`ImageResult` shows a light, display-sized copy of itself and a :class:`VideoResult` an
inline player, each with a line saying where the full file is saved (see :mod:`mio_nb.display`:
no URL of the kernel's file server, so they show in JupyterLab, Notebook 7, VS Code and Colab).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .display import image_bundle, publish, video_bundle, video_caption_note
from .formats import format_for_name, human_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from PIL import Image


Kind = Literal["image", "video"]


def _int(value: Any) -> int | None:
    """Numbers may come as strings ("121"); None stays None."""
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Asset:
    """A file uploaded to the service: pass it (or its ``key``) wherever a file is expected.

    ``size`` is None for an asset built from a bare key.
    """

    key: str
    name: str
    size: int | None = None
    kind: Kind | None = None

    @classmethod
    def from_key(cls, key: str) -> Asset:
        """An asset for a key uploaded earlier (kind guessed from its extension)."""
        fmt = format_for_name(key)
        return cls(key=key, name=key.rsplit("/", 1)[-1], size=None, kind=fmt.kind if fmt else None)


def _kps(raw: Any) -> dict[str, dict[str, int]]:
    """Keypoints as ``{"1": {"x": .., "y": ..}, ... "5": ...}`` with int coordinates."""
    out: dict[str, dict[str, int]] = {}
    if isinstance(raw, Mapping):
        for name, point in raw.items():
            if isinstance(point, Mapping):
                out[str(name)] = {"x": _int(point.get("x")) or 0, "y": _int(point.get("y")) or 0}
    return dict(sorted(out.items(), key=lambda kv: kv[0]))


@dataclass(frozen=True)
class Face:
    """One face found by :meth:`Client.detect_faces`: its crop and five keypoints.

    ``index`` is its position in the FaceSet (``faces[index]``, 0-based, as Python counts);
    ``number`` (``index + 1``) is what the widget, plots, the CLI and reprs call it ("face 1"):
    faces are numbered in reading order (rows top to bottom, left to right). ``key`` identifies
    the crop on the server (the API's ``avatar_part_key``); ``kps`` maps "1".."5" (left eye,
    right eye, nose tip, left and right mouth corner, as seen in the image) to ``{"x", "y"}`` in
    crop pixels;
    ``path`` is the crop saved locally. ``box`` is where the crop lies in the original image,
    ``(x, y, width, height)`` in original pixels, found by matching the crop against the original
    (:mod:`mio_nb.locate`); None when it could not be located with confidence (or for videos).
    """

    index: int
    key: str
    url: str = field(compare=False, repr=False)
    width: int | None = None
    height: int | None = None
    kps: dict[str, dict[str, int]] = field(default_factory=dict, compare=False)
    size: int | None = field(default=None, compare=False)
    task_id: int | None = None
    path: Path | None = field(default=None, compare=False)
    box: tuple[float, float, float, float] | None = field(default=None, compare=False)

    @classmethod
    def from_api(cls, index: int, raw: Mapping[str, Any], task_id: int | None) -> Face:
        return cls(
            index=index,
            key=str(raw.get("avatar_part_key") or ""),
            url=str(raw.get("avatar_part_url") or ""),
            width=_int(raw.get("width")),
            height=_int(raw.get("height")),
            kps=_kps(raw.get("kps")),
            size=_int(raw.get("size")),
            task_id=task_id,
        )

    @property
    def number(self) -> int:
        """The face's number as shown everywhere (1, 2, ...): ``faces[0].number == 1``."""
        return self.index + 1

    @property
    def points(self) -> list[tuple[int, int]]:
        """The keypoints as ``[(x, y), ...]`` in the order 1..5."""
        return [(p["x"], p["y"]) for _, p in sorted(self.kps.items())]

    def kps_in_original(self) -> dict[str, dict[str, float]] | None:
        """The keypoints in original-image pixels (``{"1": {"x", "y"}, ...}``, floats), or None
        when the face's ``box`` is not known."""
        if self.box is None:
            return None
        width, height = self.width, self.height
        if not width or not height:
            width, height = self.image().size
        x, y, w, h = self.box
        sx, sy = w / width, h / height
        return {
            name: {"x": x + (p["x"] + 0.5) * sx - 0.5, "y": y + (p["y"] + 0.5) * sy - 0.5}
            for name, p in self.kps.items()
        }

    def image(self) -> Image.Image:
        """The face crop as a PIL image (from the saved file)."""
        from PIL import Image

        if self.path is None:
            raise FileNotFoundError(f"Face {self.number} has no saved crop.")
        with Image.open(self.path) as img:
            img.load()
            return img

    def png(self) -> bytes:
        """The crop with its keypoints and its number drawn."""
        from .plotting import draw_face

        return draw_face(self.image(), self.kps, self.number)

    def _repr_png_(self) -> bytes | None:
        return self.png() if self.path is not None else None

    def __repr__(self) -> str:
        size = f", {self.width}x{self.height}" if self.width and self.height else ""
        return (
            f"<Face: face {self.number} (faces[{self.index}]){size}, task_id={self.task_id}, "
            f"key={self.key!r}>"
        )


def in_reading_order(faces: Sequence[Face]) -> tuple[Face, ...]:
    """``faces`` (all located: ``box`` set) in reading order and re-indexed, so that their
    numbers are the order a person counts a group photo in: faces whose centres lie within half
    a face height of a row's share it, rows top to bottom, left to right within a row (the rule
    the sandbox's detector applies, for a real API whose order is its own)."""
    rows: list[list[Face]] = []

    def centre(face: Face) -> tuple[float, float]:
        x, y, w, h = face.box or (0.0, 0.0, 0.0, 0.0)
        return x + w / 2, y + h / 2

    for face in sorted(faces, key=lambda f: centre(f)[1]):
        if rows:
            row = rows[-1]
            row_y = sum(centre(f)[1] for f in row) / len(row)
            row_h = sum((f.box or (0, 0, 0, 0))[3] for f in row) / len(row)
            height = (face.box or (0, 0, 0, 0))[3]
            if abs(centre(face)[1] - row_y) < 0.5 * max(row_h, height):
                row.append(face)
                continue
        rows.append([face])
    ordered = [face for row in rows for face in sorted(row, key=lambda f: centre(f)[0])]
    return tuple(replace(face, index=i) for i, face in enumerate(ordered))


@dataclass(frozen=True)
class FaceSet:
    """The faces found in an image or video: ``faces[0]``, ``len(faces)``, ``faces.plot()``.

    ``task_id`` is the get-face task (the API's ``get_face_id``); ``source`` the original it ran
    on, when known. Use its faces as keys of :meth:`Client.swap_faces`.
    """

    task_id: int
    faces: tuple[Face, ...]
    source: Asset | None = None
    source_path: str | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.faces)

    def __iter__(self) -> Iterator[Face]:
        return iter(self.faces)

    def __getitem__(self, index: int) -> Face:
        return self.faces[index]

    @property
    def kind(self) -> Kind | None:
        """ "image" or "video": what the faces were found in, when known."""
        return self.source.kind if self.source else None

    def plot(self, *, columns: int | None = None, size: float = 2.2, on: Any = None) -> Figure:
        """A matplotlib Figure of the crops with their five keypoints, numbered by index; with
        ``on=original`` (path, PIL image or bytes of the photo the faces were found in), that
        photo with every located face's numbered box and keypoints where they are."""
        from .plotting import plot_faces, plot_faces_on_photo

        if on is not None:
            return plot_faces_on_photo(self.faces, on)
        return plot_faces(self.faces, columns=columns, size=size)

    def _repr_png_(self) -> bytes | None:
        if not self.faces or any(f.path is None for f in self.faces):
            return None
        return self.plot()._repr_png_()  # type: ignore[attr-defined]  # light enough for a notebook

    def face(self, number: int) -> Face:
        """Face ``number`` as shown (1, 2, ...): ``faces.face(1) is faces[0]``."""
        if not 1 <= number <= len(self.faces):
            shown = f"1 to {len(self.faces)}" if self.faces else "none"
            raise IndexError(f"No face {number}: the faces are numbered {shown}.")
        return self.faces[number - 1]

    def __repr__(self) -> str:
        source = self.source.name if self.source else self.source_path
        found = f"{len(self)} face" + ("" if len(self) == 1 else "s")
        if self.faces:
            found += f" numbered 1-{len(self)}" if len(self) > 1 else " (face 1)"
        return f"FaceSet({found}, task_id={self.task_id}" + (
            f", source={source!r})" if source else ")"
        )


@dataclass(frozen=True)
class ImageResult:
    """A swapped image, saved at ``path``; every field of the API's answer is kept.

    Displays itself in a notebook; ``result.image()`` gives a PIL image; it can be passed on as
    an input (``os.fspath(result)`` is the saved file).
    """

    task_id: int
    path: Path
    size: int | None = None
    width: int | None = None
    height: int | None = None
    merge_key: str = ""
    merge_url: str = field(default="", repr=False)
    thumbnail_key: str | None = field(default=None, repr=False)
    thumbnail_url: str | None = field(default=None, repr=False)
    thumbnail_width: int | None = field(default=None, repr=False)
    thumbnail_height: int | None = field(default=None, repr=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    kind: Literal["image"] = field(default="image", init=False, repr=False)

    @classmethod
    def from_api(cls, task_id: int, data: Mapping[str, Any], path: Path) -> ImageResult:
        return cls(
            task_id=task_id,
            path=path,
            size=_int(data.get("size")),
            width=_int(data.get("width")),
            height=_int(data.get("height")),
            merge_key=str(data.get("merge_key") or ""),
            merge_url=str(data.get("merge_url") or ""),
            thumbnail_key=data.get("thumbnail_key"),
            thumbnail_url=data.get("thumbnail_url"),
            thumbnail_width=_int(data.get("thumbnail_width")),
            thumbnail_height=_int(data.get("thumbnail_height")),
            raw=dict(data),
        )

    def __fspath__(self) -> str:
        return str(self.path)

    def image(self) -> Image.Image:
        """The saved result as a PIL image."""
        from PIL import Image

        with Image.open(self.path) as img:
            img.load()
            return img

    def _caption(self) -> str:
        size = f"{self.width}x{self.height}, " if self.width and self.height else ""
        return f"Saved at {self.path} ({size}{_human_size(self.path)})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """A display-sized copy (at most ~250 KB; the full-size file stays on disk)."""
        return image_bundle(self.path, repr(self))

    def _ipython_display_(self) -> None:
        publish(self._repr_mimebundle_(), self._caption())


@dataclass(frozen=True)
class VideoResult:
    """A swapped video, saved at ``path`` (its cover image at ``cover_path``).

    In a notebook it plays inline wherever ``path`` is (embedded up to 2 MB, else its poster and
    its path show), with no URL of the Jupyter server's files.
    """

    task_id: int
    path: Path
    cover_path: Path | None = None
    size: int | None = None
    duration: float | None = None
    merge_key: str = ""
    merge_url: str = field(default="", repr=False)
    merge_width: int | None = None
    merge_height: int | None = None
    cover_key: str | None = field(default=None, repr=False)
    cover_url: str | None = field(default=None, repr=False)
    cover_width: int | None = field(default=None, repr=False)
    cover_height: int | None = field(default=None, repr=False)
    cover_thumbnail_key: str | None = field(default=None, repr=False)
    cover_thumbnail_url: str | None = field(default=None, repr=False)
    thumbnail_width: int | None = field(default=None, repr=False)
    thumbnail_height: int | None = field(default=None, repr=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    kind: Literal["video"] = field(default="video", init=False, repr=False)

    @classmethod
    def from_api(
        cls, task_id: int, data: Mapping[str, Any], path: Path, cover_path: Path | None
    ) -> VideoResult:
        return cls(
            task_id=task_id,
            path=path,
            cover_path=cover_path,
            size=_int(data.get("size")),
            duration=_float(data.get("duration")),
            merge_key=str(data.get("merge_key") or ""),
            merge_url=str(data.get("merge_url") or ""),
            merge_width=_int(data.get("merge_width")),
            merge_height=_int(data.get("merge_height")),
            cover_key=data.get("cover_key"),
            cover_url=data.get("cover_url"),
            cover_width=_int(data.get("cover_width")),
            cover_height=_int(data.get("cover_height")),
            cover_thumbnail_key=data.get("cover_thumbnail_key"),
            cover_thumbnail_url=data.get("cover_thumbnail_url"),
            thumbnail_width=_int(data.get("thumbnail_width")),
            thumbnail_height=_int(data.get("thumbnail_height")),
            raw=dict(data),
        )

    def __fspath__(self) -> str:
        return str(self.path)

    def _caption(self) -> str:
        size = f"{self.merge_width}x{self.merge_height}, " if self.merge_width else ""
        duration = f"{self.duration:.1f} s, " if self.duration else ""
        note = video_caption_note(self.path) if self.path.exists() else ""
        return f"Saved at {self.path} ({size}{duration}{_human_size(self.path)}{note})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """An inline player with the cover as poster (the poster alone above 2 MB of video)."""
        width = min(self.merge_width or 640, 640)
        return video_bundle(self.path, self.cover_path, repr(self), width=width)

    def _repr_html_(self) -> str | None:
        return self._repr_mimebundle_().get("text/html")

    def _ipython_display_(self) -> None:
        publish(self._repr_mimebundle_(), self._caption())


def _human_size(path: Path) -> str:
    try:
        return human_bytes(path.stat().st_size)
    except OSError:
        return "missing"


Result = ImageResult | VideoResult
