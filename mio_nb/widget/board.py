"""The jobs' :class:`~.jobs.Board` shown as the widget's traits: what a job finds or does
becomes ``busy``/``status``, ``faces``, a new face's card, a ``history`` entry or an error next
to its cause (``status_at``, ``error_at``: the job's section); pictures go out as media. Mixed
into :class:`~.faceswap.FaceSwapWidget`."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

from ..transfer import MediaServer
from .jobs import Original
from .state import PLACE_OF_JOB, Busy, FaceCard, Place, ResultEntry, Stopped

__all__ = ["TraitBoard"]


class TraitBoard:
    """Implements :class:`~.jobs.Board` on the widget's traits."""

    busy: dict[str, Any]
    status: str
    status_at: str
    faces: list[dict[str, Any]]
    new_faces: list[dict[str, Any]]
    pair_list: list[list[Any]]
    history: list[dict[str, Any]]
    shown: int
    stopped: dict[str, Any]
    error: str
    error_at: str
    result: Any
    _lock: threading.RLock
    _media: MediaServer
    _original: Original | None
    _result_ids: itertools.count

    def _set_status(self, status: str, at: Place) -> None:
        """The one setter of ``status``: its text and the section that shows it, sent together
        (the view places the status by ``status_at``, never by its words)."""
        with self.hold_sync():  # type: ignore[attr-defined]
            self.status, self.status_at = status, at

    def _set_error(self, text: str, at: Place = "swap") -> None:
        """The one setter of ``error``: a text with the section that shows it, sent together;
        ``""`` clears it."""
        with self.hold_sync():  # type: ignore[attr-defined]
            if text:
                self.error_at = at
            self.error = text

    def show_busy(self, busy: Busy, status: str) -> None:
        with self.hold_sync():  # type: ignore[attr-defined]
            self.busy = busy.trait()
            self._set_status(status, PLACE_OF_JOB[busy.what])

    def publish(self, key: str, mime: str, data: bytes | Path) -> None:
        self._media.publish(key, mime, data)

    def faces_found(self, rev: int, faceset: Any, cards: list[FaceCard], status: str) -> bool:
        with self._lock:
            if not self._original or rev != self._original.rev:
                return False
            with self.hold_sync():  # type: ignore[attr-defined]
                self.faces = [c.trait() for c in cards]
                self.stopped = {}
                self._set_status(status, PLACE_OF_JOB["detect"])
            self._auto_pair()  # type: ignore[attr-defined]
        return True

    def is_current(self, rev: int) -> bool:
        original = self._original
        return original is not None and original.rev == rev

    def update_card(self, label: str, **fields: Any) -> None:
        with self._lock:
            self.new_faces = [{**n, **fields} if n["label"] == label else n for n in self.new_faces]
            if fields.get("check") == "none":  # a faceless new face cannot stay paired
                self.pair_list = [p for p in self.pair_list if p[1] != label]

    def add_result(self, entry: ResultEntry, result: Any) -> None:
        rid = next(self._result_ids)
        data = {**entry.trait(), "id": rid, "media": f"result-{rid}"}
        # Sent before the state names it, not holding the lock (a video is many parts).
        self._media.publish(data["media"], entry.mime, Path(entry.path))
        with self._lock:
            with self.hold_sync():  # type: ignore[attr-defined]
                self.history = [*self.history, data]
                self.shown = rid
                self._set_status(
                    f"Done in {entry.elapsed:.1f} s (task {entry.task_id}).", PLACE_OF_JOB["swap"]
                )
            self.result = result

    def failed(self, what: str, message: str, stopped: Stopped | None, status: str) -> None:
        with self.hold_sync():  # type: ignore[attr-defined]
            if stopped is not None:
                self.stopped = stopped.trait()
            if message:
                self._set_error(message, PLACE_OF_JOB[what])
            self._set_status(status, PLACE_OF_JOB[what])
