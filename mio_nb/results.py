"""What the client hands back: uploaded assets, detected faces and swap results.

Results are saved to the client's output folder (``./mio_outputs/`` by default) before they are
returned, so nothing paid for lives only behind a URL that expires in 3 days. In a notebook an
:class:`ImageResult` shows itself as a PNG and a :class:`VideoResult` as an inline player that
points at the saved file (the video bytes are not embedded in the notebook).
"""

from __future__ import annotations

import html
import io
import os
import re
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from .formats import format_for_name

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from PIL import Image

    from .transport import Transport

Kind = Literal["image", "video"]

#: ``_repr_png_`` shows the saved file as is up to this size, a downscaled copy above it.
DISPLAY_MAX_BYTES = 3_000_000
DISPLAY_MAX_SIDE = 1600


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

    ``index`` is its position in the FaceSet (``faces[index]``); ``key`` identifies the crop on
    the server (the API's ``avatar_part_key``); ``kps`` maps "1".."5" (left eye, right eye, nose
    tip, left and right mouth corner, as seen in the image) to ``{"x", "y"}`` in crop pixels;
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
            raise FileNotFoundError(f"Face {self.index} has no saved crop.")
        with Image.open(self.path) as img:
            img.load()
            return img

    def png(self) -> bytes:
        """The crop with its keypoints and its on-screen number (``index + 1``) drawn."""
        from .plotting import draw_face

        return draw_face(self.image(), self.kps, self.index + 1)

    def _repr_png_(self) -> bytes | None:
        return self.png() if self.path is not None else None


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

    def plot(self, *, columns: int | None = None, size: float = 2.2) -> Figure:
        """A matplotlib Figure of the crops with their five keypoints, numbered by index."""
        from .plotting import plot_faces

        return plot_faces(self.faces, columns=columns, size=size)

    def _repr_png_(self) -> bytes | None:
        if not self.faces or any(f.path is None for f in self.faces):
            return None
        from .plotting import figure_png

        return figure_png(self.plot())


def _display_png(path: Path) -> bytes:
    """PNG bytes to show ``path`` in a notebook: the file itself if small enough."""
    data = path.read_bytes() if path.stat().st_size <= DISPLAY_MAX_BYTES else b""
    if data.startswith(b"\x89PNG"):
        return data
    from PIL import Image

    with Image.open(path) as img:
        img.thumbnail((DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE))
        if img.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            img = img.convert("RGB")
        buf = io.BytesIO()
        img.save(buf, format="PNG", optimize=False, compress_level=3)
        return buf.getvalue()


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

    def _repr_png_(self) -> bytes:
        return _display_png(self.path)


@dataclass(frozen=True)
class VideoResult:
    """A swapped video, saved at ``path`` (its cover image at ``cover_path``).

    In a notebook it plays inline from the saved file, which must be under the notebook's
    working directory for the browser to reach it.
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

    @staticmethod
    def _src(path: Path) -> str:
        rel = os.path.relpath(path, os.getcwd())
        return quote(Path(rel).as_posix())

    def _repr_html_(self) -> str:
        width = min(self.merge_width or 640, 640)
        poster = f' poster="{html.escape(self._src(self.cover_path))}"' if self.cover_path else ""
        src = html.escape(self._src(self.path))
        return (
            f'<video controls preload="metadata" width="{width}"{poster} src="{src}">'
            f'<a href="{src}">{html.escape(self.path.name)}</a></video>'
        )


Result = ImageResult | VideoResult

# -- saving results ---------------------------------------------------------------------------

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(name: str | None, fallback: str) -> str:
    """A file-name-safe stem from a user's file name."""
    stem = Path(name).stem if name else ""
    stem = _SAFE.sub("-", stem).strip("-.")[:60]
    return stem or fallback


def _ext(key: str, fallback: str) -> str:
    ext = Path(key.split("?")[0]).suffix.lower().lstrip(".")
    return ext if ext and len(ext) <= 5 else fallback


def _fetch(transport: Transport, url: str, key: str | None, dest: Path, size: int | None) -> Path:
    """Download ``url`` to ``dest`` unless an identical file is already there.

    A refused (expired) URL is re-signed once through access-url with ``key``.
    """
    from . import protocol
    from .transport import StorageURLExpired

    if dest.exists() and dest.stat().st_size > 0 and size in (None, dest.stat().st_size):
        return dest
    try:
        transport.download(url, dest)
    except StorageURLExpired:
        if not key:
            raise _expired(dest) from None
        fresh = transport.call("POST", protocol.ACCESS_URL_PATH, json={"key": key})
        try:
            transport.download(str(fresh["url"]), dest)
        except StorageURLExpired:
            raise _expired(dest) from None
    return dest


def _expired(dest: Path) -> Exception:
    from .errors import FileError

    return FileError(
        f"The result URL for {dest.name} was refused (expired?) and could not be renewed.",
        hint="Results are kept 7 days on the server; fetch it again with client.task(ID).wait().",
    )


def save_swap(
    transport: Transport,
    task_id: int,
    data: Mapping[str, Any],
    output_dir: Path,
    kind: Kind,
    stem: str,
) -> ImageResult | VideoResult:
    """Save a swap's result (and a video's cover) to ``output_dir``, then build the result."""
    merge_key = str(data.get("merge_key") or "")
    default_ext = "png" if kind == "image" else "mp4"
    path = output_dir / f"{stem}-swap-{task_id}.{_ext(merge_key, default_ext)}"
    _fetch(transport, str(data["merge_url"]), merge_key, path, _int(data.get("size")))
    if kind == "image":
        return ImageResult.from_api(task_id, data, path)
    cover_path = None
    if data.get("cover_url"):
        cover_key = str(data.get("cover_key") or "")
        cover_path = output_dir / f"{stem}-swap-{task_id}-cover.{_ext(cover_key, 'png')}"
        _fetch(transport, str(data["cover_url"]), cover_key, cover_path, None)
    return VideoResult.from_api(task_id, data, path, cover_path)


def save_faces(
    transport: Transport,
    task_id: int,
    items: list[Mapping[str, Any]],
    output_dir: Path,
    source: Asset | None,
    source_path: str | None = None,
) -> FaceSet:
    """Save every face crop of a get-face task (in parallel) and build the FaceSet."""
    folder = output_dir / f"faces-{task_id}"
    faces = [Face.from_api(i, raw, task_id) for i, raw in enumerate(items)]

    def fetch(face: Face) -> Face:
        dest = folder / f"face-{face.index}.{_ext(face.key, 'png')}"
        _fetch(transport, face.url, face.key, dest, face.size)
        return replace(face, path=dest)

    if len(faces) > 1:
        with ThreadPoolExecutor(max_workers=min(8, len(faces))) as pool:
            faces = list(pool.map(fetch, faces))
    else:
        faces = [fetch(f) for f in faces]
    return FaceSet(task_id=task_id, faces=tuple(faces), source=source, source_path=source_path)
