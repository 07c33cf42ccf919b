"""FaceSwapWidget: from files to a swapped image or video without leaving the notebook.

>>> from mio_nb import FaceSwapWidget
>>> w = FaceSwapWidget()            # doctest: +SKIP  (no credentials: the local sandbox)
>>> w.load_main("group.png")        # doctest: +SKIP  (or drop a file on the widget)
>>> w.add_faces("me.jpg", "you.jpg")  # doctest: +SKIP  -> ["A", "B"]
>>> w.pair(1, "A"); w.swap().result()  # doctest: +SKIP

Faces are numbered 1, 2, ... as shown in the widget (``FaceSet`` indexes are 0-based: detected
face 1 is ``w.faceset[0]``); new faces are labelled A, B, ...

Traits are the source of truth and hold no media and no token: pictures and videos go to the
browser as binary buffers of custom messages (see :mod:`mio_nb.transfer`), asked for by each
view when it renders, so the saved notebook stays small. Detection and swaps run in one
background thread; the kernel keeps handling the widget's messages (Stop works) meanwhile.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from ..backend import NO_SANDBOX_NOTICE, resolve_backend
from ..errors import NoFaceError, TaskTimeoutError
from ..explain import explain
from ..formats import MAX_UPLOAD_BYTES, sniff_file
from ..locate import place_faces
from ..plotting import render_face, warm_up
from ..transfer import (
    MEDIA_CHUNK_BYTES,
    MediaServer,
    ReceivedFile,
    UploadError,
    UploadReceiver,
    check_head,
    check_size,
    safe_name,
)
from .pictures import (
    FACE_SIDE,
    NEW_FACE_SIDE,
    PREVIEW_SIDE,
    face_state,
    image_size,
    label_for,
    webp,
)
from .session import Session, Stopped

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["FaceSwapWidget"]

log = logging.getLogger("mio_nb.widget")

_STATIC = Path(__file__).parent.parent / "static"

#: Video originals up to this size are sent to the browser for a preview.
VIDEO_PREVIEW_BYTES = 200_000_000

#: What handles one kind of message from the browser: (content, buffers); its value is unused.
_Handler = Callable[[dict[str, Any], list[Any]], object]

#: Where the error of each message from the browser is shown.
_ERROR_PLACE = {
    "detect": "original",
    "remove_new_face": "new_faces",
    "undo_remove": "new_faces",
    "choose_new_face": "new_faces",
}


class FaceSwapWidget(anywidget.AnyWidget):
    """Upload an original, see its faces, pair them with new faces by clicks, swap, get the result.

    ``FaceSwapWidget(client=None)``: with no client, one is made from MIOCREATE_TOKEN (or client
    id and secret); with no credentials anywhere, the shared local sandbox is used and the widget
    says so. From Python: :meth:`load_main`, :meth:`add_faces`, :meth:`pair`, :attr:`pairs`,
    :meth:`swap`, :attr:`result` (observable: ``w.observe(fn, "result")``).
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    # -- synced state (no media, no token, no presigned URL) --
    mode = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    busy = traitlets.Dict().tag(sync=True)
    main = traitlets.Dict().tag(sync=True)
    #: Detected faces as the view shows them (see :func:`.pictures.face_state`).
    faces: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    #: New face cards: {"label", "name", "media", "check", "note", "choices"}.
    new_faces: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    #: [face number, new face label] pairs, sorted (lists, as JSON brings them back).
    pair_list: traitlets.List[list[Any]] = traitlets.List().tag(sync=True)
    hd = traitlets.Bool(False).tag(sync=True)
    #: One entry per result: {"id", "kind", "name", "media", "pairs", "task_id", ...}.
    history: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    shown = traitlets.Int(0).tag(sync=True)
    stopped = traitlets.Dict().tag(sync=True)
    #: Where the error belongs: "original", "new_faces" or "swap" (shown next to that control).
    error_at = traitlets.Unicode("").tag(sync=True)
    #: The new face removed last, for its one undo: {"label", "name"} or {}.
    removed = traitlets.Dict().tag(sync=True)
    max_upload_bytes = traitlets.Int(MAX_UPLOAD_BYTES).tag(sync=True)

    #: The last ImageResult or VideoResult (not synced: it stays in the kernel).
    result = traitlets.Any(None, allow_none=True)

    def __init__(
        self,
        client: Client | None = None,
        *,
        hd: bool = False,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(hd=hd, **kwargs)
        backend = resolve_backend(client)
        self._client, mode, notice = backend.client, backend.mode, backend.notice
        self.mode, self.notice = mode, notice
        self.timeout = timeout
        self._lock = threading.RLock()
        self._folder = Path(tempfile.mkdtemp(prefix="mio-nb-widget-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._folder, True)
        self._receiver = UploadReceiver(self._folder / "uploads", self.max_upload_bytes)
        self._session = Session()
        # Fonts and the drawing canvas load while the user picks a file, not after detection.
        self._session.background(warm_up)
        self._media = MediaServer(lambda c, b: self.send(c, b), MEDIA_CHUNK_BYTES)
        self._rev = 0  # bumps with each original
        self._main_path: Path | None = None
        self._main_asset: Any = None
        self._faceset: Any = None
        self._new: dict[str, dict[str, Any]] = {}  # label -> {path, name, asset}
        self._removed: dict[str, Any] | None = None
        self._labels = itertools.count(0)
        self._results: dict[int, Any] = {}
        self._result_ids = itertools.count(1)
        self._inputs = itertools.count(1)
        self.on_msg(self._on_msg)
        if self._client is not None:
            self.status = "Choose an original (image or video) to start."

    def __repr__(self) -> str:
        """The widget in words (what a notebook without the widget's JavaScript shows)."""
        parts = []
        if self.main.get("name"):
            parts.append(f"original={self.main['name']!r}")
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
    def media_chunk_bytes(self) -> int:
        """Size of the binary parts media goes to the browser in."""
        return self._media.chunk_bytes

    @media_chunk_bytes.setter
    def media_chunk_bytes(self, value: int) -> None:
        self._media.chunk_bytes = int(value)

    @property
    def client(self) -> Client | None:
        """The mio_nb Client in use (None when no credentials and no sandbox)."""
        return self._client

    @property
    def faceset(self) -> Any:
        """The FaceSet of the current original (None before detection finishes)."""
        return self._faceset

    @property
    def pairs(self) -> dict[int, str]:
        """Face number (1, 2, ... as shown) -> new face label ("A", ...)."""
        return {int(face): str(label) for face, label in self.pair_list}

    def load_main(self, src: str | Path | bytes, name: str | None = None) -> Future:
        """Use ``src`` (a path or the file's bytes) as the original and find its faces.

        Returns a Future of the FaceSet; the widget shows the faces as soon as they are found.
        Raises :class:`~mio_nb.transfer.UploadError` at once for an unusable file.
        """
        self._need_client()
        path = self._materialize(src, name, "main")
        return self._set_main(path, path.name)

    def add_faces(self, *sources: str | Path | bytes) -> list[str]:
        """Add new faces (paths or bytes, images with one face each); returns their labels."""
        labels = []
        for src in sources:
            path = self._materialize(src, None, "new_face")
            labels.append(self._add_new_face(path, path.name))
        return labels

    def remove_face(self, label: str) -> None:
        """Remove new face ``label`` and its pairs (:meth:`undo_remove` brings them back)."""
        with self._lock:
            if label not in self._new:
                raise KeyError(f"No new face {label!r}: the new faces are {sorted(self._new)}.")
            card = next(n for n in self.new_faces if n["label"] == label)
            self._removed = {
                "entry": self._new.pop(label),
                "card": card,
                "position": self.new_faces.index(card),
                "pairs": [list(p) for p in self.pair_list if p[1] == label],
            }
            with self.hold_sync():
                self.new_faces = [n for n in self.new_faces if n["label"] != label]
                self.pair_list = [p for p in self.pair_list if p[1] != label]
                self.removed = {"label": label, "name": card.get("name", "")}

    def undo_remove(self) -> None:
        """Bring back the new face removed last, with its pairs (faces paired since keep
        their new pair)."""
        with self._lock:
            undo, self._removed = self._removed, None
            if not undo:
                raise ValueError("Nothing to undo.")
            label = undo["card"]["label"]
            self._new[label] = undo["entry"]
            cards = list(self.new_faces)
            cards.insert(min(undo["position"], len(cards)), undo["card"])
            taken = {p[0] for p in self.pair_list}
            restored = [p for p in undo["pairs"] if p[0] not in taken]
            with self.hold_sync():
                self.new_faces = cards
                self.pair_list = sorted([*self.pair_list, *restored])
                self.removed = {}

    def pair(self, face: int | Any, new_face: str | Path | bytes) -> None:
        """Put new face ``new_face`` (a label, or a file to add) in place of face ``face``.

        ``face`` is the number shown in the widget (1, 2, ...) or a Face of :attr:`faceset`.
        """
        number = face.index + 1 if hasattr(face, "index") and hasattr(face, "key") else int(face)
        with self._lock:
            if not any(f["index"] == number for f in self.faces):
                shown = [f["index"] for f in self.faces]
                raise ValueError(f"No detected face {number}: the faces are {shown}.")
            label = new_face if isinstance(new_face, str) and new_face in self._new else None
        if label is None:
            if isinstance(new_face, str) and not Path(new_face).exists():
                raise ValueError(
                    f"No new face {new_face!r}: the new faces are {sorted(self._new)}."
                )
            label = self.add_faces(new_face)[0]
        with self._lock:
            pairs = [p for p in self.pair_list if p[0] != number] + [[number, label]]
            self.pair_list = sorted(pairs)
            self.error = ""

    def unpair(self, face: int) -> None:
        """Undo the pair of face number ``face`` (it stays as it is in the swap)."""
        with self._lock:
            self.pair_list = [p for p in self.pair_list if p[0] != int(face)]

    def clear_pairs(self) -> None:
        with self._lock:
            self.pair_list = []

    def swap(self, hd: bool | None = None) -> Future:
        """Swap the paired faces; returns a Future of the ImageResult or VideoResult.

        Single-face swap when the original has one face, multi-face swap otherwise (video
        variants for videos). The result is saved locally and shown in the widget.
        """
        self._need_client()
        if hd is not None:
            self.hd = hd
        with self._lock:
            if self._faceset is None or not self.faces:
                raise ValueError("No faces yet: load an original and wait for its faces.")
            if not self.pair_list:
                raise ValueError("No pairs: pair a detected face with a new face first.")
            problem = self._unusable_new_face()
            if problem:
                self.error_at, self.error = "swap", problem
                raise ValueError(problem)
            job = {
                "rev": self._rev,
                "pairs": [list(p) for p in self.pair_list],
                "hd": bool(self.hd),
                "faceset": self._faceset,
                "main_path": self._main_path,
                "kind": self.main.get("kind"),
            }
        return self._submit(lambda: self._swap_job(job))

    def _unusable_new_face(self) -> str:
        """Why a paired new face cannot be sent (no face in it, or several and none picked)."""
        cards = {n["label"]: n for n in self.new_faces}
        for face, label in self.pair_list:
            card = cards.get(label, {})
            what = f"New face {label} ({card.get('name')}): {card.get('note')}"
            if card.get("check") == "several":
                return f"{what} Pick a face on its card."
            if card.get("check") == "none":
                return f"{what} Pair face {face} with another new face."
        return ""

    def stop(self) -> None:
        """Stop waiting for the running task; it keeps running on the server (see resume)."""
        self._session.stop()

    def resume(self) -> Future:
        """Wait again for the task that was stopped (or timed out)."""
        self._need_client()
        stopped = dict(self.stopped)
        if not stopped.get("task_id"):
            raise ValueError("No stopped task to resume.")
        return self._submit(lambda: self._resume_job(stopped))

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the widget's background work is done; returns the last job's value.

        Raises what the last job raised (the widget shows it too).
        """
        return self._session.wait(timeout)

    def close(self) -> None:
        """Close the widget, cancel uploads and remove its temporary files."""
        self._session.close()
        self._receiver.cancel_all()
        super().close()
        self._finalizer()

    # ------------------------------------------------------------------ messages

    def _on_msg(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        try:
            handler = self._handlers().get(kind) if isinstance(kind, str) else None
            if handler is None:
                log.debug("Unknown widget message %r", kind)
                return
            handler(content, buffers)
        except Exception as e:  # a bad message must never break the widget
            log.exception("Widget message %r failed", kind)
            with self.hold_sync():
                self.error_at = _ERROR_PLACE.get(str(kind), "swap")
                self.error = explain(e)

    def _handlers(self) -> dict[str, _Handler]:
        return {
            "ready": lambda c, b: self._media.serve(self._current_keys()),
            "want": lambda c, b: self._media.serve([str(k) for k in c.get("keys", [])]),
            "upload_start": self._on_upload_start,
            "upload_chunk": self._on_upload_chunk,
            "upload_end": self._on_upload_end,
            "upload_cancel": lambda c, b: self._receiver.cancel(str(c.get("upload"))),
            "pair": lambda c, b: self.pair(int(c["face"]), str(c["new_face"])),
            "unpair": lambda c, b: self.unpair(int(c["face"])),
            "unpair_new": lambda c, b: self._unpair_new(str(c["new_face"])),
            "remove_new_face": lambda c, b: self.remove_face(str(c["new_face"])),
            "undo_remove": lambda c, b: self.undo_remove(),
            "choose_new_face": lambda c, b: self.choose_face(str(c["new_face"]), int(c["face"])),
            "swap": lambda c, b: self.swap(),
            "stop": lambda c, b: self.stop(),
            "resume": lambda c, b: self.resume(),
            "detect": lambda c, b: self._redetect(),
        }

    def _unpair_new(self, label: str) -> None:
        with self._lock:
            self.pair_list = [p for p in self.pair_list if p[1] != label]

    def _reply(self, upload_id: str, kind: str, **fields: Any) -> None:
        self.send({"type": kind, "upload": upload_id, **fields})

    def _on_upload_start(self, content: dict, _buffers: list) -> None:
        upload_id = str(content.get("upload"))
        try:
            self._need_client()
            self._receiver.max_bytes = min(self.max_upload_bytes, MAX_UPLOAD_BYTES)
            size: Any = content.get("size")  # as the browser sent it: the receiver checks it
            self._receiver.start(
                upload_id, str(content.get("role")), str(content.get("name")), size
            )
        except (UploadError, RuntimeError) as e:
            self._reply(upload_id, "upload_error", message=str(e))
            return
        self._reply(upload_id, "upload_ack", received=0)

    def _on_upload_chunk(self, content: dict, buffers: list) -> None:
        upload_id = str(content.get("upload"))
        try:
            if len(buffers) != 1:
                raise UploadError("A chunk arrived without its data: choose the file again.")
            received = self._receiver.chunk(upload_id, int(content.get("offset", -1)), buffers[0])
        except UploadError as e:
            self._reply(upload_id, "upload_error", message=str(e))
            return
        self._reply(upload_id, "upload_ack", received=received)

    def _on_upload_end(self, content: dict, _buffers: list) -> None:
        upload_id = str(content.get("upload"))
        try:
            received = self._receiver.finish(upload_id)
            self._use_upload(received)
        except (UploadError, ValueError, RuntimeError) as e:
            self._reply(upload_id, "upload_error", message=str(e))
            return
        self._reply(upload_id, "upload_done")

    def _use_upload(self, received: ReceivedFile) -> None:
        if received.role == "main":
            self._set_main(received.path, received.name)
        else:
            self._add_new_face(received.path, received.name)

    # ------------------------------------------------------------------ media

    def _current_keys(self) -> list[str]:
        keys: list[str] = [self.main["media"]] if self.main.get("media") else []
        keys += [f["media"] for f in self.faces] + [n["media"] for n in self.new_faces]
        keys += [c["media"] for n in self.new_faces for c in n.get("choices", [])]
        entry = self._shown_entry()
        if entry:
            keys.append(entry["media"])
        return keys

    def _shown_entry(self) -> dict | None:
        if not self.history:
            return None
        return next((e for e in self.history if e["id"] == self.shown), self.history[-1])

    # ------------------------------------------------------------------ inputs

    def _need_client(self) -> Client:
        """The client; without one (no credentials, no sandbox) the widget shows how to get one
        and this raises RuntimeError saying the same."""
        if self._client is None:
            self.error = NO_SANDBOX_NOTICE
            raise RuntimeError(NO_SANDBOX_NOTICE)
        return self._client

    def _materialize(self, src: str | Path | bytes, name: str | None, role: str) -> Path:
        """A checked local file for ``src``; bytes are written to the widget's folder."""
        try:
            if isinstance(src, bytes | bytearray | memoryview):
                data = bytes(src)
                label = safe_name(name or ("original" if role == "main" else "new-face"))
                check_size(label, len(data), self.max_upload_bytes)
                fmt = check_head(label, data[:64], role)
                folder = self._folder / "inputs"
                folder.mkdir(parents=True, exist_ok=True)
                stem = Path(label).stem
                path = folder / f"{stem}-{next(self._inputs)}.{fmt.name}"
                path.write_bytes(data)
                return path
            path = Path(src).expanduser()
            if not path.is_file():
                raise UploadError(f"File not found: {path}. Check the path.")
            check_size(path.name, path.stat().st_size, self.max_upload_bytes)
            with path.open("rb") as f:
                check_head(path.name, f.read(64), role)
            return path
        except UploadError as e:
            with self.hold_sync():
                self.error_at = "original" if role == "main" else "new_faces"
                self.error = str(e)
            raise

    def _set_main(self, path: Path, name: str) -> Future:
        fmt = sniff_file(path)
        assert fmt is not None  # checked by _materialize / the receiver
        # A video original plays in the widget (muted) unless it is too big to send twice.
        preview_video = fmt.kind == "video" and path.stat().st_size <= VIDEO_PREVIEW_BYTES
        self._session.stop()  # a detection of the previous original is no longer wanted
        with self._lock:
            self._rev += 1
            rev = self._rev
            self._main_path = path
            self._main_asset = None
            self._faceset = None
            self._media.forget("main-")
            self._media.forget("face-")
            info: dict[str, Any] = {
                "name": name,
                "kind": fmt.kind,
                "size": path.stat().st_size,
                "media": f"main-{rev}" if fmt.kind == "image" or preview_video else "",
            }
            size = image_size(path) if fmt.kind == "image" else None
            if preview_video:
                info["mime"] = fmt.mime
            if size:
                info["width"], info["height"] = size
            with self.hold_sync():
                self.faces = []
                self.pair_list = []
                self.main = info
                self.error = ""
                if self.stopped.get("what") == "detect":
                    self.stopped = {}
        if fmt.kind == "image":
            self._media.publish(f"main-{rev}", "image/webp", webp(path, PREVIEW_SIDE))
        elif preview_video:
            self._media.publish(f"main-{rev}", fmt.mime, path)
        return self._submit(lambda: self._detect_job(rev, path, name))

    def _redetect(self) -> None:
        with self._lock:
            path, name = self._main_path, self.main.get("name", "")
        if path is None:
            raise ValueError("Choose an original first.")
        self._set_main(path, name)

    def _add_new_face(self, path: Path, name: str) -> str:
        with self._lock:
            label = label_for(next(self._labels))
            self._new[label] = {"path": path, "name": name, "asset": None}
            key = f"new-{label}"
        self._media.publish(key, "image/webp", webp(path, NEW_FACE_SIDE))
        card = {
            "label": label,
            "name": name,
            "media": key,
            "check": "checking",
            "note": f"Looking for the face in {name}…",
            "choices": [],
        }
        with self._lock:
            self.new_faces = [*self.new_faces, card]
            if self.error_at == "new_faces":
                self.error = ""
            self._auto_pair()
        self._session.background(lambda: self._check_new_face(label))
        return label

    def _update_card(self, label: str, **fields: Any) -> None:
        with self._lock:
            self.new_faces = [{**n, **fields} if n["label"] == label else n for n in self.new_faces]

    def _check_new_face(self, label: str) -> None:
        """Find the faces of new face ``label`` at once, so the card says if it has none or
        several (then the user picks one), not Swap later."""
        with self._lock:
            entry = self._new.get(label)
        if entry is None or self._client is None:
            return
        name = entry["name"]
        try:
            faces = self._client.detect_faces(self._new_face_asset(label), progress=False)
        except NoFaceError:
            self._update_card(label, check="none", note=f"No face found in {name}.")
            return
        except Exception as e:  # the card says what went wrong; Swap stays possible
            log.debug("Checking new face %s failed", label, exc_info=True)
            self._update_card(label, check="error", note=explain(e, during="swap"))
            return
        with self._lock:
            if label not in self._new:
                return
            self._new[label]["faceset"] = faces
        if len(faces) == 1:
            face = faces[0]
            key = f"new-{label}-face"
            self._media.publish(key, "image/webp", webp(face.image(), NEW_FACE_SIDE))
            self._update_card(label, check="ok", note="", media=key)
            return
        choices = []
        for face in faces:
            key = f"new-{label}-choice-{face.index + 1}"
            drawn = render_face(face.image(), {}, face.index + 1, max_side=FACE_SIDE)
            self._media.publish(key, "image/webp", webp(drawn, FACE_SIDE))
            choices.append({"index": face.index + 1, "media": key})
        self._update_card(
            label,
            check="several",
            note=f"{len(faces)} faces in {name}: click the one to use.",
            choices=choices,
        )

    def choose_face(self, label: str, number: int) -> None:
        """Use face ``number`` (1, 2, ... as shown on the card) of new face ``label``: its crop
        is what is sent as the new face."""
        with self._lock:
            entry = self._new.get(label)
            faces = entry.get("faceset") if entry else None
            if entry is None or faces is None or not 1 <= number <= len(faces):
                raise ValueError(f"New face {label} has no face {number} to choose.")
            face = faces[number - 1]
            entry["path"], entry["asset"] = Path(face.path), None
            key = f"new-{label}-face-{number}"
        self._media.publish(key, "image/webp", webp(face.image(), NEW_FACE_SIDE))
        self._update_card(
            label, check="ok", note=f"Face {number} of {entry['name']}.", media=key, choices=[]
        )

    def _auto_pair(self) -> None:
        """One detected face and one new face: pair them (the obvious choice)."""
        with self._lock:
            if len(self.faces) == 1 and len(self.new_faces) == 1 and not self.pair_list:
                self.pair_list = [[self.faces[0]["index"], self.new_faces[0]["label"]]]

    # ------------------------------------------------------------------ background jobs

    def _submit(self, job: Callable[[], Any]) -> Future:
        return self._session.submit(job, after=lambda: setattr(self, "busy", {}))

    def _set_busy(self, what: str, state: str, status: str, task_id: int | None = None) -> None:
        with self.hold_sync():
            self.busy = {
                "what": what,
                "state": state,
                "task_id": task_id,
                "elapsed": round(self._session.elapsed(), 2),
            }
            self.status = status

    def _follow(self, task: Any, what: str, status: Callable[[str], str]) -> Any:
        """Wait for ``task`` (see :meth:`Session.follow`), its states shown as the status."""

        def on_state(word: str, task_id: int) -> None:
            state = "saving" if word == "saving the result" else word
            self._set_busy(what, state, status(word), task_id)

        return self._session.follow(task, self.timeout, on_state)

    def _fail(self, error: BaseException, what: str, task_id: int | None) -> None:
        stopped = {
            "what": what,
            "task_id": task_id,
            # Seconds since the task was submitted, as of now (Resume counts on from there).
            "since_submitted": round(self._session.since_submitted(), 2),
        }
        if isinstance(error, Stopped):
            with self.hold_sync():
                self.stopped = stopped
                self.status = (
                    f"Stopped waiting for task {task_id}. The API cannot cancel it: it keeps "
                    "running on the server and may be charged. Press Resume to wait for its "
                    "result again."
                )
            return
        with self.hold_sync():
            if isinstance(error, TaskTimeoutError) and task_id is not None:
                self.stopped = stopped
            self.error_at = "original" if what == "detect" else "swap"
            self.error = explain(error, during=what)
            self.status = ""

    def _detect_job(self, rev: int, path: Path, name: str) -> Any:
        task_id = None
        try:
            client = self._need_client()
            self._set_busy("detect", "uploading", f"Uploading {name} to the API…")
            asset = client.upload(path)
            if rev != self._rev:
                return None
            task = client.submit_detect_faces(asset)
            task_id = task.id
            self._session.mark_submitted()
            with self._lock:
                self._main_asset = asset
            faceset = self._follow(
                task, "detect", lambda word: f"Finding faces in {name}: task {task.id} {word}…"
            )
            return self._show_faces(rev, faceset, asset)
        except Exception as e:
            if rev == self._rev:
                self._fail(e, "detect", task_id)
            if isinstance(e, Stopped):
                return None
            raise

    def _show_faces(self, rev: int, faceset: Any, asset: Any) -> Any:
        main_path = self._main_path
        if self.main.get("kind") == "image" and main_path and all(f.box is None for f in faceset):
            # Uploaded from here, the faces' original is known locally: place them on it.
            faceset = place_faces(dataclasses.replace(faceset, source_path=str(main_path)))
        with self._lock:
            if rev != self._rev:
                return None
            self._faceset = faceset
            self._main_asset = asset
            faces = [face_state(face, f"face-{rev}-{face.index + 1}") for face in faceset.faces]
            with self.hold_sync():
                self.faces = faces
                self.stopped = {}
                n = len(faces)
                self.status = f"Found {n} face{'s' if n != 1 else ''} in {self.main.get('name')}."
            self._auto_pair()
        self._set_busy("detect", "drawing", self.status)

        def draw(face: Any) -> None:
            if rev != self._rev:
                return
            number = face.index + 1
            drawn = render_face(face.image(), face.kps, number, max_side=FACE_SIDE)
            self._media.publish(f"face-{rev}-{number}", "image/webp", webp(drawn, FACE_SIDE))

        for face in faceset.faces:
            draw(face)
        if rev != self._rev:
            return None
        return faceset

    def _new_face_asset(self, label: str) -> Any:
        entry = self._new[label]
        if entry["asset"] is None:
            entry["asset"] = self._need_client().upload(entry["path"])
        return entry["asset"]

    def _swap_job(self, job: dict) -> Any:
        task_id = None
        try:
            client = self._need_client()
            self.error = ""
            self._set_busy("swap", "uploading", "Uploading the new faces to the API…")
            faceset = job["faceset"]
            main_asset = self._main_asset
            if main_asset is None:
                main_asset = client.upload(job["main_path"])
            assets = {face: self._new_face_asset(label) for face, label in job["pairs"]}
            video = job["kind"] == "video"
            if len(faceset.faces) == 1:
                (new_asset,) = assets.values()
                submit = client.submit_video_swap if video else client.submit_image_swap
                task = submit(main_asset, new_asset, hd=job["hd"])
            else:
                mapping = {faceset.faces[face - 1]: asset for face, asset in assets.items()}
                task = client.submit_face_swap(main_asset, mapping, faceset=faceset, hd=job["hd"])
            task_id = task.id
            self._session.mark_submitted()
            result = self._follow(task, "swap", lambda word: f"Swapping: task {task.id} {word}…")
            return self._show_result(result, job)
        except Exception as e:
            self._fail(e, "swap", task_id)
            if isinstance(e, Stopped):
                return None
            raise

    def _resume_job(self, stopped: dict) -> Any:
        what, task_id = stopped["what"], int(stopped["task_id"])
        # The clock shows the time since the task was submitted, not since Resume.
        self._session.resume_clock(float(stopped.get("since_submitted") or 0.0))
        try:
            self.error = ""
            self.stopped = {}
            task = self._need_client().task(task_id)
            if what == "detect":
                rev = self._rev
                faceset = self._follow(
                    task, "detect", lambda word: f"Finding faces: task {task_id} {word}…"
                )
                return self._show_faces(rev, faceset, self._main_asset or faceset.source)
            job = {
                "pairs": [list(p) for p in self.pair_list],
                "hd": bool(self.hd),
                "kind": self.main.get("kind"),
            }
            result = self._follow(task, "swap", lambda word: f"Swapping: task {task_id} {word}…")
            return self._show_result(result, job)
        except Exception as e:
            self._fail(e, what, task_id)
            if isinstance(e, Stopped):
                return None
            raise

    def _show_result(self, result: Any, job: dict) -> Any:
        path = Path(result.path)
        fmt = sniff_file(path)
        mime = fmt.mime if fmt else "application/octet-stream"
        elapsed = round(self._session.elapsed(), 2)
        with self._lock:
            rid = next(self._result_ids)
            key = f"result-{rid}"
            self._results[rid] = result
            pairs = ", ".join(f"{face} -> {label}" for face, label in sorted(job["pairs"]))
            entry = {
                "id": rid,
                "kind": result.kind,
                "name": path.name,
                "path": str(path),
                "media": key,
                "mime": mime,
                "size": path.stat().st_size,
                "elapsed": elapsed,
                "pairs": pairs,
                "hd": job["hd"],
                "task_id": result.task_id,
                # The original it was made from: compared only with that one.
                "original": self.main.get("media", ""),
            }
            with self.hold_sync():
                self.history = [*self.history, entry]
                self.shown = rid
                self.status = f"Done in {elapsed:.1f} s (task {result.task_id})."
            self.result = result
        self._media.publish(key, mime, path)
        return result
