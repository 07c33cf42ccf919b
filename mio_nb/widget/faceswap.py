"""FaceSwapWidget: from files to a swapped image or video without leaving the notebook.

>>> w = FaceSwapWidget()              # doctest: +SKIP  (no credentials: the local sandbox)
>>> w.load_main("group.png")          # doctest: +SKIP  (or drop a file on the widget)
>>> w.add_faces("me.jpg", "you.jpg")  # doctest: +SKIP  -> ["A", "B"]
>>> w.pair(1, "A"); w.swap().result()  # doctest: +SKIP

Faces are numbered 1, 2, ... in reading order, as everywhere (``w.faceset[0]`` is face 1); new
faces are labelled A, B, ... This class holds the traits and routes messages; the jobs are in
:mod:`.jobs`, inputs in :mod:`.inputs`, the typed values of the traits in :mod:`.state`. Traits
hold no media and no token: pictures go to the browser as binary custom messages, asked for by
each view when it renders (:mod:`mio_nb.transfer`).
"""

from __future__ import annotations

import itertools
import logging
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import anywidget
import traitlets

from ..backend import NO_SANDBOX_NOTICE, resolve_backend
from ..explain import explain
from ..formats import MAX_UPLOAD_BYTES
from ..plotting import warm_up_soon
from ..transfer import MEDIA_CHUNK_BYTES, MediaServer
from .board import TraitBoard
from .inputs import Inputs
from .intake import Intake
from .jobs import Jobs, NewFace, Original, SwapRequest
from .messages import Msg
from .pairs import Pairs
from .state import Place, Stopped

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["FaceSwapWidget"]

log = logging.getLogger("mio_nb.widget")
_STATIC = Path(__file__).parent.parent / "static"
#: Seconds after a widget is made when, if no file was given yet, matplotlib is loaded.
WARM_UP_AFTER = 3.0
#: Video originals up to this size are sent to the browser for a preview.
VIDEO_PREVIEW_BYTES = 200_000_000
#: Where the error of each message from the browser is shown (else at Swap).
_ERROR_PLACE: dict[Msg, Place] = {Msg.DETECT: "original", Msg.REMOVE_NEW_FACE: "new_faces",
                Msg.UNDO_REMOVE: "new_faces", Msg.CHOOSE_NEW_FACE: "new_faces"}  # fmt: skip


class FaceSwapWidget(Intake, Pairs, TraitBoard, anywidget.AnyWidget):
    """Upload an original, see its faces, pair them with new faces by clicks, swap, get the result.

    ``FaceSwapWidget(client=None)``: with no client, one is made from MIOCREATE_TOKEN (or client
    id and secret); with no credentials, the shared local sandbox is used and the widget says so.
    From Python: :meth:`load_main`, :meth:`add_faces`, :meth:`pair`, :attr:`pairs`, :meth:`swap`,
    :attr:`result` (observable: ``w.observe(fn, "result")``).
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    # Synced state (values: see .state); no media, no token, no presigned URL.
    mode = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    #: What the kernel is doing or did last; set only with ``status_at`` (``_set_status``).
    status = traitlets.Unicode("").tag(sync=True)
    #: Where the status shows: "original", "new_faces" or "swap" (see .state.Place).
    status_at = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    #: Where the error belongs: "original", "new_faces" or "swap" (shown next to that control).
    error_at = traitlets.Unicode("").tag(sync=True)
    busy = traitlets.Dict().tag(sync=True)
    main = traitlets.Dict().tag(sync=True)
    faces: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    new_faces: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    #: [face number, new face label] pairs, sorted (lists, as JSON brings them back).
    pair_list: traitlets.List[list[Any]] = traitlets.List().tag(sync=True)
    hd = traitlets.Bool(False).tag(sync=True)
    history: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    shown = traitlets.Int(0).tag(sync=True)
    stopped = traitlets.Dict().tag(sync=True)
    removed = traitlets.Dict().tag(sync=True)
    max_upload_bytes = traitlets.Int(MAX_UPLOAD_BYTES).tag(sync=True)
    #: The last ImageResult or VideoResult (not synced: it stays in the kernel).
    result = traitlets.Any(None, allow_none=True)

    def __init__(
        self, client: Client | None = None, *, hd: bool = False, timeout: float | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(hd=hd, **kwargs)
        backend = resolve_backend(client)
        self._client, self.mode, self.notice = backend.client, backend.mode, backend.notice
        self._lock = threading.RLock()
        self._folder = Path(tempfile.mkdtemp(prefix="mio-nb-widget-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._folder, True)
        self._inputs = Inputs(self._folder, lambda c: self.send(c), self._use_upload)
        self._receiver = self._inputs.receiver
        self._media = MediaServer(lambda c, b: self.send(c, b), MEDIA_CHUNK_BYTES)
        from .session import Session

        self._session = Session()  # detect, swap, resume: one after the other
        self._checks = Session()  # new faces checked, faces drawn: not in the swap's way
        draw = self._checks.submit
        self._jobs = Jobs(self._client, self, timeout=timeout, draw=draw) if self._client else None
        # matplotlib (about a second of work) loads while a person picks a file, or once an
        # original is given (see intake): not as the widget is made, when Run All's imports and
        # the sandbox's engine, loading on the other core, need the machine more.
        self._warm_up = threading.Timer(WARM_UP_AFTER, self._warm_up_if_idle)
        self._warm_up.daemon = True
        self._warm_up.start()
        self._original: Original | None = None
        self._revs = itertools.count(1)
        self._new: dict[str, NewFace] = {}
        self._labels = itertools.count(0)
        self._result_ids = itertools.count(1)
        self.on_msg(self._on_msg)
        if self._client is not None:
            self._set_status("Choose an original (image or video) to start.", "original")

    def _warm_up_if_idle(self) -> None:
        if self._original is None and not self._new:
            warm_up_soon()

    def __repr__(self) -> str:
        """The widget in words (what a notebook without the widget's JavaScript shows)."""
        parts = [f"original={self.main['name']!r}"] if self.main.get("name") else []
        if self.faces or self.main.get("name"):
            parts.append(f"faces={len(self.faces)}")
        if self.new_faces:
            parts.append(f"new_faces={[n['label'] for n in self.new_faces]!r}")
        if self.pair_list:
            parts.append(f"pairs={self.pairs!r}")
        if self.history:
            parts.append(f"results={len(self.history)}")
        if not parts and self.mode:
            parts.append(f"mode={self.mode!r}")
        return f"FaceSwapWidget({', '.join(parts)})"

    # ------------------------------------------------------------------ public API

    @property
    def client(self) -> Client | None:
        """The mio_nb Client in use (None when no credentials and no sandbox)."""
        return self._client

    @property
    def faceset(self) -> Any:
        """The FaceSet of the current original (None before its faces are found)."""
        return self._original.faceset if self._original else None

    @property
    def media_chunk_bytes(self) -> int:
        """Size of the binary parts media goes to the browser in."""
        return self._media.chunk_bytes

    @media_chunk_bytes.setter
    def media_chunk_bytes(self, value: int) -> None:
        self._media.chunk_bytes = int(value)

    @property
    def timeout(self) -> float | None:
        """Seconds to wait for a task (None: the client's ``wait_timeout``, else the default)."""
        return self._jobs.timeout if self._jobs else None

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        if self._jobs:
            self._jobs.timeout = value

    def swap(self, hd: bool | None = None) -> Future:
        """Swap the paired faces; a Future of the ImageResult or VideoResult (also shown)."""
        jobs = self._need_client_jobs()
        if hd is not None:
            self.hd = hd
        with self._lock:
            if self.faceset is None or not self.faces:
                raise ValueError("No faces yet: load an original and wait for its faces.")
            if not self.pair_list:
                raise ValueError("No pairs: pair a detected face with a new face first.")
            problem = self._unusable_new_face()
            if problem:
                self._set_error(problem, "swap")
                raise ValueError(problem)
            request = self._request()
            self._set_error("")
        return self._submit(lambda: jobs.swap(request))

    def stop(self) -> None:
        """Stop waiting for the running task; it keeps running on the server (see resume)."""
        if self._jobs:
            self._jobs.stop_event.set()

    def resume(self) -> Future:
        """Wait again for the task that was stopped (or timed out)."""
        jobs = self._need_client_jobs()
        if not self.stopped.get("task_id"):
            raise ValueError("No stopped task to resume.")
        stopped = Stopped.from_trait(self.stopped)
        self.stopped = {}
        self._set_error("")
        request = self._request()
        return self._submit(
            lambda: jobs.resume(stopped, self._original, request), since=stopped.since_submitted
        )

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the widget's background work is done; the last job's value (or raise)."""
        try:
            return self._session.wait(timeout)
        finally:
            self._checks.wait(timeout)  # after the jobs: they hand it the drawing of faces

    def close(self) -> None:
        """Close the widget, cancel uploads and remove its temporary files."""
        self.stop()
        self._warm_up.cancel()
        self._session.close()
        self._checks.close()
        self._receiver.cancel_all()
        super().close()
        self._finalizer()

    # ------------------------------------------------------------------ messages

    @classmethod
    def _handler_names(cls) -> list[str]:
        return [m.value for m in cls._HANDLERS]

    _HANDLERS: ClassVar[dict[Msg, Callable[[FaceSwapWidget, dict, list], object]]] = {
        Msg.READY: lambda w, c, b: w._media.serve([str(k) for k in c.get("keys", [])]),
        Msg.WANT: lambda w, c, b: w._media.serve([str(k) for k in c.get("keys", [])]),
        Msg.UPLOAD_START: lambda w, c, b: w._inputs.start(c, w.max_upload_bytes)
        if w._client_or_refuse(c) else None,
        Msg.UPLOAD_CHUNK: lambda w, c, b: w._inputs.chunk(c, b),
        Msg.UPLOAD_END: lambda w, c, b: w._inputs.end(c),
        Msg.UPLOAD_CANCEL: lambda w, c, b: w._inputs.cancel(c),
        Msg.PAIR: lambda w, c, b: w.pair(int(c["face"]), str(c["new_face"])),
        Msg.UNPAIR: lambda w, c, b: w.unpair(int(c["face"])),
        Msg.UNPAIR_NEW: lambda w, c, b: w.unpair_new(str(c["new_face"])),
        Msg.REMOVE_NEW_FACE: lambda w, c, b: w.remove_face(str(c["new_face"])),
        Msg.UNDO_REMOVE: lambda w, c, b: w.undo_remove(),
        Msg.CHOOSE_NEW_FACE: lambda w, c, b: w.choose_face(str(c["new_face"]), int(c["face"])),
        Msg.SWAP: lambda w, c, b: w.swap(),
        Msg.STOP: lambda w, c, b: w.stop(),
        Msg.RESUME: lambda w, c, b: w.resume(),
        Msg.DETECT: lambda w, c, b: w._redetect(),
    }  # fmt: skip

    def _on_msg(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        kind = str(content.get("type")) if isinstance(content, dict) else ""
        known = False
        try:
            known = kind in Msg._value2member_map_
            handler = self._HANDLERS.get(Msg(kind)) if known else None
            if handler is None:
                log.debug("Unknown widget message %r", kind)
                return
            handler(self, content, buffers)
        except Exception as e:  # a bad message must never break the widget
            log.exception("Widget message %r failed", kind)
            self._set_error(explain(e), _ERROR_PLACE.get(Msg(kind), "swap") if known else "swap")

    def _client_or_refuse(self, content: dict) -> bool:
        if self._client is None:
            self.send({"type": Msg.UPLOAD_ERROR.value, "upload": str(content.get("upload")),
                       "message": NO_SANDBOX_NOTICE})  # fmt: skip
        return self._client is not None

    # ------------------------------------------------------------------ inputs and jobs

    def _need_client(self) -> Client:
        if self._client is None:
            self._set_error(NO_SANDBOX_NOTICE, "swap")
            raise RuntimeError(NO_SANDBOX_NOTICE)
        return self._client

    def _need_client_jobs(self) -> Jobs:
        self._need_client()
        assert self._jobs is not None
        return self._jobs

    def _request(self) -> SwapRequest:
        assert self._original is not None
        pairs = {int(f): self._new[str(label)] for f, label in self.pair_list}
        labels = {int(f): str(label) for f, label in self.pair_list}
        return SwapRequest(self._original, pairs, labels, bool(self.hd))
