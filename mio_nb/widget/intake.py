"""Originals and new faces coming into :class:`~.faceswap.FaceSwapWidget`: checked files
(:mod:`.inputs`) become the original (its preview sent, its faces looked for) or a new face card
(its face looked for at once). Mixed into the widget."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..formats import sniff_file
from ..plotting import warm_up_soon
from ..transfer import MediaServer, ReceivedFile, UploadError
from .inputs import Inputs
from .jobs import Jobs, NewFace, Original
from .pictures import NEW_FACE_SIDE, PREVIEW_SIDE, image_size, label_for, webp
from .session import Session
from .state import PLACE_OF_ROLE, MainInfo, NewFaceCard

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["Intake"]

#: Video originals up to this size are sent to the browser for a preview.
VIDEO_PREVIEW_BYTES = 200_000_000


class Intake:
    """load_main / add_faces and the uploads' end: the original and the new faces."""

    main: dict[str, Any]
    faces: list[dict[str, Any]]
    new_faces: list[dict[str, Any]]
    pair_list: list[list[Any]]
    stopped: dict[str, Any]
    error: str
    error_at: str
    _lock: threading.RLock
    _inputs: Inputs
    _media: MediaServer
    _session: Session
    _checks: Session
    _original: Original | None
    _revs: itertools.count
    _new: dict[str, NewFace]
    _labels: itertools.count
    _need_client: Callable[[], Client]
    _need_client_jobs: Callable[[], Jobs]
    _jobs: Jobs | None
    _auto_pair: Callable[[], None]
    stop: Callable[[], None]

    def load_main(self, src: str | Path | bytes, name: str | None = None) -> Future:
        """Use ``src`` (a path or the file's bytes) as the original and find its faces; a Future
        of the FaceSet. Raises :class:`~mio_nb.transfer.UploadError` at once for a bad file."""
        self._need_client()
        path = self._checked(src, name, "main")
        return self._set_main(path, path.name)

    def add_faces(self, *sources: str | Path | bytes) -> list[str]:
        """Add new faces (paths or bytes, pictures with one face each); returns their labels."""
        return [
            self._add_new_face(p, p.name)
            for p in (self._checked(s, None, "new_face") for s in sources)
        ]

    def _checked(self, src: str | Path | bytes, name: str | None, role: str) -> Path:
        try:
            return self._inputs.materialize(src, name, role)
        except UploadError as e:
            self._set_error(str(e), PLACE_OF_ROLE[role])  # type: ignore[attr-defined]
            raise

    def _use_upload(self, received: ReceivedFile) -> None:
        if received.role == "main":
            self._set_main(received.path, received.name)
        else:
            self._add_new_face(received.path, received.name)

    def _submit(self, job: Callable[[], Any], since: float | None = None) -> Future:
        def run() -> Any:
            assert self._jobs is not None
            self._jobs.begin(since)
            return job()

        return self._session.submit(run, after=lambda: setattr(self, "busy", {}))

    def _set_main(self, path: Path, name: str) -> Future:
        jobs = self._need_client_jobs()
        fmt = sniff_file(path)
        assert fmt is not None  # checked by the inputs
        size = path.stat().st_size
        preview = fmt.kind == "image" or size <= VIDEO_PREVIEW_BYTES  # a video plays if small
        self.stop()  # a detection of the previous original is no longer wanted
        warm_up_soon()  # matplotlib loads while the faces are looked for: they are drawn next
        rev, image = next(self._revs), fmt.kind == "image"
        wh = image_size(path) if image else None
        info = MainInfo(name, fmt.kind, size, f"main-{rev}" if preview else "",
                        fmt.mime if not image and preview else None,
                        *(wh or (None, None)))  # fmt: skip
        with self._lock:
            original = self._original = Original(rev, path, name, fmt.kind)
            self._media.forget("main-")
            self._media.forget("face-")
        if preview:  # before the state names it; not holding the lock (a video is many parts)
            mime = "image/webp" if image else fmt.mime
            self._media.publish(info.media, mime, webp(path, PREVIEW_SIDE) if image else path)
        with self._lock:
            if original is self._original:  # else a newer original shows its own
                with self.hold_sync():  # type: ignore[attr-defined]
                    self.faces, self.pair_list, self.main = [], [], info.trait()
                    self._set_error("")  # type: ignore[attr-defined]
                    if self.stopped.get("what") == "detect":
                        self.stopped = {}
        return self._submit(lambda: jobs.detect(original) if original is self._original else None)

    def _redetect(self) -> None:
        if self._original is None:
            raise ValueError("Choose an original first.")
        self._set_main(self._original.path, self._original.name)

    def _add_new_face(self, path: Path, name: str) -> str:
        jobs = self._need_client_jobs()
        with self._lock:
            label = label_for(next(self._labels))
            new = self._new[label] = NewFace(path, name)
        self._media.publish(f"new-{label}", "image/webp", webp(path, NEW_FACE_SIDE))
        card = NewFaceCard(label, name, f"new-{label}", note=f"Looking for the face in {name}…")
        with self._lock:
            self.new_faces = [*self.new_faces, card.trait()]
            if self.error_at == "new_faces":
                self._set_error("")  # type: ignore[attr-defined]
            self._auto_pair()
        self._checks.submit(lambda: jobs.check_new_face(label, new))
        return label
