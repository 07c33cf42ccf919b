"""Saving results to the output folder: each task's files under names no other task can take.

A file is named after the user's original, the server and the task
(``photo-swap-3fa2c1-12.png``, ``faces-3fa2c1-7/face-0.png``): task ids restart at 1 in every
fresh sandbox, the server's tag keeps them apart. A file already there is reused only when the
journal says it is this very task's result (and its size matches); otherwise the result gets a
free name (``photo-swap-3fa2c1-12-2.png``). Files are written to a temporary name and linked into
place, so a saved file is always complete and never overwritten.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import protocol
from .errors import FileError
from .locate import place_faces
from .results import Asset, Face, FaceSet, ImageResult, Kind, VideoResult, _int

if TYPE_CHECKING:
    from .transport import Transport

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")

Saved = ImageResult | VideoResult | FaceSet


def safe_stem(name: str | None, fallback: str) -> str:
    """A file-name-safe stem from a user's file name."""
    stem = Path(name).stem if name else ""
    stem = _SAFE.sub("-", stem).strip("-.")[:60]
    return stem or fallback


def server_tag(server_id: str) -> str:
    """Six hex digits naming a server in file names (the same for the same server id)."""
    return hashlib.sha256(server_id.encode()).hexdigest()[:6]


def _ext(key: str, fallback: str) -> str:
    ext = Path(key.split("?")[0]).suffix.lower().lstrip(".")
    return ext if ext and len(ext) <= 5 else fallback


def files_of(result: Saved) -> list[str]:
    """The files a saved result consists of (what the journal records)."""
    if isinstance(result, FaceSet):
        return [str(f.path) for f in result.faces if f.path is not None]
    files = [str(result.path)]
    if isinstance(result, VideoResult) and result.cover_path:
        files.append(str(result.cover_path))
    return files


class Saver:
    """Downloads results into ``output_dir``; ``tag()`` gives the server's tag for names."""

    def __init__(self, transport: Transport, output_dir: Path, tag: Callable[[], str]) -> None:
        self.transport = transport
        self.output_dir = output_dir
        self._tag = tag

    def __repr__(self) -> str:
        return f"<Saver {self.output_dir}>"

    def save(
        self,
        task_id: int,
        produces: protocol.Produces,
        data: Any,
        inputs: Mapping[str, Any],
        reuse: Collection[str] = (),
    ) -> Saved:
        """Save the result of task ``task_id`` (``data``: its additional_data) and build it.

        ``reuse``: files the journal recorded as this task's result (kept if still complete).
        """
        original = inputs.get("original") or {}
        if produces == "faces":
            source = None
            if original.get("key"):
                source = Asset(
                    key=original["key"],
                    name=original.get("name") or "",
                    size=original.get("size"),
                    kind=original.get("kind"),
                )
            return self.save_faces(task_id, data, source, original.get("path"), reuse)
        stem = safe_stem(original.get("name"), "result")
        return self.save_swap(task_id, data, produces, stem, reuse)

    def save_swap(
        self,
        task_id: int,
        data: Mapping[str, Any],
        kind: Kind,
        stem: str,
        reuse: Collection[str] = (),
    ) -> ImageResult | VideoResult:
        """Save a swap's result (and a video's cover), then build the result."""
        merge_key = str(data.get("merge_key") or "")
        default_ext = "png" if kind == "image" else "mp4"
        base = f"{stem}-swap-{self._tag()}-{task_id}"
        path = self._fetch(
            str(data["merge_url"]),
            merge_key,
            self.output_dir / f"{base}.{_ext(merge_key, default_ext)}",
            _int(data.get("size")),
            reuse,
        )
        if kind == "image":
            return ImageResult.from_api(task_id, data, path)
        cover_path = None
        if data.get("cover_url"):
            cover_key = str(data.get("cover_key") or "")
            cover_path = self._fetch(
                str(data["cover_url"]),
                cover_key,
                self.output_dir / f"{base}-cover.{_ext(cover_key, 'png')}",
                None,
                reuse,
            )
        return VideoResult.from_api(task_id, data, path, cover_path)

    def save_faces(
        self,
        task_id: int,
        items: list[Mapping[str, Any]],
        source: Asset | None,
        source_path: str | None = None,
        reuse: Collection[str] = (),
    ) -> FaceSet:
        """Save every face crop of a get-face task (in parallel) and build the FaceSet."""
        folder = self.output_dir / f"faces-{self._tag()}-{task_id}"
        faces = [Face.from_api(i, raw, task_id) for i, raw in enumerate(items)]

        def fetch(face: Face) -> Face:
            dest = folder / f"face-{face.index}.{_ext(face.key, 'png')}"
            return replace(face, path=self._fetch(face.url, face.key, dest, face.size, reuse))

        if len(faces) > 1:
            with ThreadPoolExecutor(max_workers=min(8, len(faces))) as pool:
                faces = list(pool.map(fetch, faces))
        else:
            faces = [fetch(f) for f in faces]
        faceset = FaceSet(
            task_id=task_id, faces=tuple(faces), source=source, source_path=source_path
        )
        return place_faces(faceset)  # where each crop lies in the original (Face.box)

    def _fetch(
        self, url: str, key: str | None, dest: Path, size: int | None, reuse: Collection[str]
    ) -> Path:
        """Download ``url`` to ``dest`` (or to a free name next to it) and return the path.

        A file the journal recorded for this task is kept as it is when its size matches. A
        refused (expired) URL is re-signed once through access-url with ``key``.
        """
        from .transport import StorageURLExpired

        if str(dest) in reuse and dest.is_file():
            found = dest.stat().st_size
            if found > 0 and size in (None, found):
                return dest
        try:
            return self.transport.download(url, dest)
        except StorageURLExpired:
            if not key:
                raise _expired(dest) from None
            fresh = self.transport.call("POST", protocol.ACCESS_URL_PATH, json={"key": key})
            try:
                return self.transport.download(str(fresh["url"]), dest)
            except StorageURLExpired:
                raise _expired(dest) from None


def _expired(dest: Path) -> FileError:
    return FileError(
        f"The result URL for {dest.name} was refused (expired?) and could not be renewed.",
        hint="Results are kept 7 days on the server; fetch it again with client.task(ID).wait().",
    )
