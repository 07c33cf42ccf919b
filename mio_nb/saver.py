"""Saving results to the output folder: each task's files under names no other task can take.

A file is named after the user's original, the server and the task
(``photo-swap-3fa2c1-12.png``, ``faces-3fa2c1-7/face-0.png``): task ids restart at 1 in every
fresh sandbox, the server's tag keeps them apart. A file already there is reused only when the
journal says it is this very task's result (and its size matches); otherwise the result gets a
free name (``photo-swap-3fa2c1-12-2.png``). Files are written to a temporary name and linked into
place, so a saved file is always complete and never overwritten.

Nothing is saved unchecked: a download is capped at its declared ``size`` plus a margin (never
more than 500 MB), goes to a hidden temporary name, and is kept only when its content is what
the task makes (a picture that decodes, a video with a video stream) and not shorter than
declared; its extension comes from that content, never from the server's key. Anything else is
a :class:`~mio_nb.errors.ResultCheckError` and nothing is recorded as done.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import protocol
from .errors import CorruptFileError, FileError, ResultCheckError
from .formats import sniff_file
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


#: How much more than its declared size a result may be (bytes, and share of the size).
SIZE_MARGIN = (1 << 20, 0.1)
#: The cap of a file whose size is not declared (a face crop, a cover).
UNDECLARED_CAP = 64 << 20
#: A ``.part-*`` download untouched this long was left by a process that died (kill -9).
STALE_PART_SECONDS = 600.0


def sweep_parts(folder: Path, older_than: float = STALE_PART_SECONDS) -> int:
    """Remove the ``.part-*`` files of downloads abandoned in ``folder`` (and its face
    folders); returns how many. A download in progress writes its file, so it stays fresh."""
    cutoff = time.time() - older_than
    removed = 0
    for pattern in (".part-*", "faces-*/.part-*"):
        for path in folder.glob(pattern):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
    return removed


def _cap(size: int | None) -> int:
    from .transport import RESULT_CAP

    if size is None or size <= 0:
        return RESULT_CAP
    return min(RESULT_CAP, size + max(SIZE_MARGIN[0], int(size * SIZE_MARGIN[1])))


def check_result(path: Path, kind: Kind, size: int | None, label: str) -> str:
    """The extension of the result at ``path`` by its content (``png``, ``jpg``, ``mp4``...);
    ResultCheckError unless it is a ``kind`` ("image"/"video") that decodes and is not shorter
    than ``size``."""
    from .preflight import check_media

    with open(path, "rb") as f:
        head = f.read(512)
    fmt = sniff_file(path)
    found = path.stat().st_size
    if fmt is None:
        low = head.lower()
        what = (
            "an HTML page"
            if b"<html" in low or b"<!doctype" in low
            else "empty"
            if not head
            else "text"
            if all(32 <= b < 127 or b in b"\r\n\t" for b in head)
            else "not a picture or video the API makes"
        )
        raise ResultCheckError(f"{label} is {what}, not the {kind} that was asked for.")
    if fmt.kind != kind:
        article = "an" if kind == "image" else "a"
        raise ResultCheckError(f"{label} is a {fmt.name.upper()} {fmt.kind}, not {article} {kind}.")
    if size is not None and found < size:
        raise ResultCheckError(f"{label} is cut short: {found} of the {size} bytes declared.")
    try:
        check_media(label, fmt, path=path)
    except CorruptFileError as e:
        raise ResultCheckError(e.message) from None
    return fmt.name


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
        self._local = threading.local()  # the deadline of the save running in this thread
        self._swept = False  # abandoned .part files removed (once, at the first save)
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
        *,
        deadline: float | None = None,
    ) -> Saved:
        """Save the result of task ``task_id`` (``data``: its additional_data) and build it.

        ``reuse``: files the journal recorded as this task's result (kept if still complete).
        ``deadline``: a ``time.monotonic()`` by which every download ends (TaskTimeoutError).
        """
        self._local.deadline = deadline
        if not self._swept:
            self._swept = True
            sweep_parts(self.output_dir)
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
        base = f"{stem}-swap-{self._tag()}-{task_id}"
        path = self._fetch(
            str(data["merge_url"]),
            merge_key,
            self.output_dir / base,
            _int(data.get("size")),
            reuse,
            kind,
        )
        if kind == "image":
            return ImageResult.from_api(task_id, data, path)
        cover_path = None
        if data.get("cover_url"):
            cover_key = str(data.get("cover_key") or "")
            cover_path = self._fetch(
                str(data["cover_url"]),
                cover_key,
                self.output_dir / f"{base}-cover",
                None,
                reuse,
                "image",
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

        deadline = getattr(self._local, "deadline", None)

        def fetch(face: Face) -> Face:
            self._local.deadline = deadline  # pool threads: the same deadline
            dest = folder / f"face-{face.index}"
            path = self._fetch(face.url, face.key, dest, face.size, reuse, "image")
            return replace(face, path=path)

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
        self,
        url: str,
        key: str | None,
        base: Path,
        size: int | None,
        reuse: Collection[str],
        kind: Kind,
    ) -> Path:
        """Download ``url`` to ``base`` + the extension of its content (or to a free name next
        to it) once checked, and return the path.

        A file the journal recorded for this task is kept as it is when its size matches. A
        refused (expired) URL is re-signed once through access-url with ``key``.
        """
        from .transport import StorageURLExpired

        for recorded in reuse:
            path = Path(recorded)
            if path.parent == base.parent and path.stem == base.name and path.is_file():
                found = path.stat().st_size
                if found > 0 and size in (None, found):
                    return path
        try:
            return self._download(url, base, size, kind)
        except StorageURLExpired:
            if not key:
                raise _expired(base) from None
            fresh = self.transport.call(
                "POST",
                protocol.ACCESS_URL_PATH,
                json={"key": key},
                deadline=getattr(self._local, "deadline", None),
            )
            url = str(fresh["url"]) if isinstance(fresh, Mapping) and "url" in fresh else ""
            try:
                return self._download(url, base, size, kind)
            except StorageURLExpired:
                raise _expired(base) from None

    def _download(self, url: str, base: Path, size: int | None, kind: Kind) -> Path:
        from .transport import _link_free_name

        tmp = base.parent / f".part-{uuid.uuid4().hex[:12]}"
        try:
            self.transport.download(
                url,
                tmp,
                overwrite=True,
                max_bytes=_cap(size),
                deadline=getattr(self._local, "deadline", None),
            )
            ext = check_result(tmp, kind, size, f"The result {base.name}")
            return _link_free_name(tmp, base.with_name(f"{base.name}.{ext}"))
        finally:
            tmp.unlink(missing_ok=True)


def _expired(dest: Path) -> FileError:
    return FileError(
        f"The result URL for {dest.name} was refused (expired?) and could not be renewed.",
        hint="Results are kept 7 days on the server; fetch it again with client.task({id}).wait().",
    )
