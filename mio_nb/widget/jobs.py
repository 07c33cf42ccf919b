"""The widget's jobs: find the faces of an original, check a new face, swap, resume a stopped
task. They run without a comm: they use the public client, wait with
``Task.wait(stop=..., on_status=...)`` (the one poll loop) and tell a :class:`Board` what to
show, so a test drives them with a real sandbox and a recording board.

>>> jobs = Jobs(client, board)                         # doctest: +SKIP
>>> jobs.detect(Original(1, Path("group.jpg"), "group.jpg", "image"))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .. import protocol
from ..errors import NoFaceError, TaskTimeoutError, WaitStopped
from ..explain import explain
from ..formats import sniff_file
from ..locate import place_faces
from ..plotting import render_face
from .people import people_of_video
from .pictures import FACE_SIDE, NEW_FACE_SIDE, face_state, webp
from .state import Busy, Choice, FaceCard, ResultEntry, Stopped

if TYPE_CHECKING:
    from ..client import Client
    from ..results import FaceSet
    from ..tasks import Task

__all__ = ["Board", "Jobs", "NewFace", "Original", "SwapRequest"]

log = logging.getLogger("mio_nb.widget")

_STATE_WORDS = {
    protocol.TaskStatus.WAITING: "waiting in the queue",
    protocol.TaskStatus.PROCESSING: "processing",
}


class Board(Protocol):
    """What the jobs show (the widget sets its traits; a test records)."""

    def show_busy(self, busy: Busy, status: str) -> None: ...
    def publish(self, key: str, mime: str, data: bytes | Path) -> None: ...
    def faces_found(self, rev: int, faceset: FaceSet, cards: list[FaceCard], status: str) -> bool:
        """Show the faces of original ``rev``; False when a newer original replaced it."""
        ...

    def is_current(self, rev: int) -> bool:
        """True while original ``rev`` is the one shown."""
        ...

    def update_card(self, label: str, **fields: Any) -> None: ...
    def add_result(self, entry: ResultEntry, result: Any) -> None: ...
    def failed(self, what: str, message: str, stopped: Stopped | None, status: str) -> None: ...


@dataclass
class Original:
    """The original as the kernel knows it: the file, and once uploaded and detected, its asset
    and faces. ``rev`` counts originals (a job of an older one shows nothing)."""

    rev: int
    path: Path
    name: str
    kind: str
    asset: Any = None
    faceset: FaceSet | None = None


@dataclass
class NewFace:
    """A new face: the file sent (a chosen crop once picked), its asset once uploaded (once:
    its check and a swap may both need it at the same time)."""

    path: Path
    name: str
    asset: Any = None
    faceset: FaceSet | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def uploaded(self, client: Client) -> Any:
        """Its asset, uploading the file first if it was not yet."""
        with self.lock:
            if self.asset is None:
                self.asset = client.upload(self.path, progress=False)
            return self.asset


@dataclass(frozen=True)
class SwapRequest:
    """What Swap sends: the original, face number -> new face, HD."""

    original: Original
    pairs: dict[int, NewFace]
    labels: dict[int, str] = field(default_factory=dict)
    hd: bool = False


def _word(task: Task) -> str:
    if task.state == "done":
        return "saving the result"
    return _STATE_WORDS.get(task.status, "running")  # type: ignore[call-overload]


class Jobs:
    """Runs one job at a time for a widget (the worker thread is the caller's)."""

    def __init__(
        self,
        client: Client,
        board: Board,
        *,
        timeout: float | None = None,
        draw: Callable[[Callable[[], None]], object] | None = None,
    ) -> None:
        self.client = client
        self.board = board
        self.timeout = timeout
        #: Runs the drawing of the face pictures (the widget: beside the jobs, so that a swap
        #: need not wait for matplotlib); None: at once, in the job.
        self.draw = draw or (lambda drawing: drawing())
        self.stop_event = threading.Event()
        self.started = time.monotonic()  # when the current job began
        self.submitted = time.monotonic()  # when its task was submitted (Resume counts from it)

    # -- clock and Stop

    def begin(self, since_submitted: float | None = None) -> None:
        """A job begins (Stop cleared); a resumed one counts from its task's submission."""
        self.stop_event.clear()
        self.started = time.monotonic() - (since_submitted or 0.0)
        if since_submitted is not None:
            self.submitted = self.started

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _wait(self, task: Task, what: Literal["detect", "swap"], status: str) -> Any:
        """``task.wait`` with Stop and each new state shown as the status."""
        shown: list[str] = []

        def on_status(t: Task) -> None:
            word = _word(t)
            if not shown or shown[-1] != word:
                shown.append(word)
                state = "saving" if t.state == "done" else word
                busy = Busy(what, state, t.id, round(self.elapsed(), 2))
                self.board.show_busy(busy, status.format(task=t.id, word=word))

        return task.wait(self.timeout, progress=False, stop=self.stop_event, on_status=on_status)

    def _fail(self, error: BaseException, what: str, task_id: int | None) -> None:
        stopped = Stopped(what, task_id, round(time.monotonic() - self.submitted, 2))  # type: ignore[arg-type]
        if isinstance(error, WaitStopped):
            self.board.failed(
                what,
                "",
                stopped,
                f"Stopped waiting for task {task_id}. The API cannot cancel it: it keeps running "
                "on the server and may be charged. Press Resume to wait for its result again.",
            )
            return
        timed_out = isinstance(error, TaskTimeoutError) and task_id is not None
        self.board.failed(what, explain(error, during=what), stopped if timed_out else None, "")

    # -- jobs

    def detect(self, original: Original) -> FaceSet | None:
        """Upload the original, find its faces, show them (numbered, placed on the photo)."""
        task_id = None
        try:
            self.board.show_busy(
                Busy("detect", "uploading"), f"Uploading {original.name} to the API…"
            )
            original.asset = self.client.upload(original.path, progress=False)
            task = self.client.submit_detect_faces(original.asset)
            task_id = task.id
            self.submitted = time.monotonic()
            faceset = self._wait(
                task, "detect", f"Finding faces in {original.name}: task {{task}} {{word}}…"
            )
            return self.show_faces(original, faceset)
        except Exception as e:
            self._fail(e, "detect", task_id)
            if isinstance(e, WaitStopped):
                return None
            raise

    def show_faces(self, original: Original, faceset: FaceSet) -> FaceSet | None:
        if original.kind == "image" and all(f.box is None for f in faceset):
            # Uploaded from here, the original is known locally: place the faces on it (in
            # reading order, whatever order the API gave).
            faceset = place_faces(dataclasses.replace(faceset, source_path=str(original.path)))
        people = {}
        if original.kind == "video":
            people = people_of_video(original.path, faceset, f"face-{original.rev}-frame-")
        original.faceset = faceset
        rev = original.rev
        cards = []
        frames = {p.state.frame: p.picture for p in people.values()}
        for key, picture in frames.items():  # a frame showing several people is sent once
            self.board.publish(key, "image/webp", picture)
        for face in faceset:
            card = FaceCard(**face_state(face, f"face-{rev}-{face.number}"))
            person = people.get(face.number)
            if person is not None:
                card = dataclasses.replace(card, person=person.state.trait())
            cards.append(card)
        n = len(cards)
        status = f"Found {n} face{'s' if n != 1 else ''} in {original.name}."
        if not self.board.faces_found(rev, faceset, cards, status):
            return None
        self.draw(lambda: self._draw_faces(rev, faceset))
        return faceset

    def _draw_faces(self, rev: int, faceset: FaceSet) -> None:
        """Each face's picture (its crop, five keypoints and number, drawn by matplotlib), sent
        as it is drawn; none once a newer original replaced this one."""
        for face in faceset:
            if not self.board.is_current(rev):
                return
            drawn = render_face(face.image(), face.kps, face.number, max_side=FACE_SIDE)
            self.board.publish(f"face-{rev}-{face.number}", "image/webp", webp(drawn, FACE_SIDE))

    def check_new_face(self, label: str, new: NewFace) -> None:
        """Find the faces of a new face at once: its card says if it has none (then it cannot
        be paired) or several (then the user picks one), not Swap later."""
        try:
            faces = self.client.detect_faces(new.uploaded(self.client), progress=False)
        except NoFaceError:
            note = f"No face found in {new.name}: it cannot be paired. Add another picture."
            self.board.update_card(label, check="none", note=note)
            return
        except Exception as e:  # the card says what went wrong; Swap stays possible
            log.debug("Checking new face %s failed", label, exc_info=True)
            self.board.update_card(label, check="error", note=explain(e, during="swap"))
            return
        new.faceset = faces
        if len(faces) == 1:
            key = f"new-{label}-face"
            self.board.publish(key, "image/webp", webp(faces[0].image(), NEW_FACE_SIDE))
            self.board.update_card(label, check="ok", note="", media=key)
            return
        choices = []
        for face in faces:
            key = f"new-{label}-choice-{face.number}"
            drawn = render_face(face.image(), {}, face.number, max_side=FACE_SIDE)
            self.board.publish(key, "image/webp", webp(drawn, FACE_SIDE))
            choices.append(Choice(face.number, key).trait())
        note = f"{len(faces)} faces in {new.name}: click the one to use."
        self.board.update_card(label, check="several", note=note, choices=choices)

    def swap(self, request: SwapRequest) -> Any:
        """Upload what is missing, submit the swap (single or multi-face), wait, show it."""
        task_id = None
        try:
            self.board.show_busy(Busy("swap", "uploading"), "Uploading the new faces to the API…")
            original = request.original
            if original.asset is None:
                original.asset = self.client.upload(original.path, progress=False)
            assets = {number: new.uploaded(self.client) for number, new in request.pairs.items()}
            faceset = original.faceset
            assert faceset is not None
            if len(faceset) == 1:
                (asset,) = assets.values()
                video = original.kind == "video"
                submit = self.client.submit_video_swap if video else self.client.submit_image_swap
                task = submit(original.asset, asset, hd=request.hd)
            else:
                mapping = {faceset.face(number): asset for number, asset in assets.items()}
                task = self.client.submit_face_swap(
                    original.asset, mapping, faceset=faceset, hd=request.hd
                )
            task_id = task.id
            self.submitted = time.monotonic()
            result = self._wait(task, "swap", "Swapping: task {task} {word}…")
            return self.show_result(result, request)
        except Exception as e:
            self._fail(e, "swap", task_id)
            if isinstance(e, WaitStopped):
                return None
            raise

    def resume(self, stopped: Stopped, original: Original | None, request: SwapRequest) -> Any:
        """Wait again for the task Stop left (its clock counts from its submission)."""
        task_id = stopped.task_id
        assert task_id is not None
        try:
            task = self.client.task(task_id)
            doing = "Finding faces" if stopped.what == "detect" else "Swapping"
            status = f"{doing}: task {{task}} {{word}}…"
            saved = self._wait(task, stopped.what, status)
            if stopped.what == "detect":
                return self.show_faces(original, saved) if original else saved
            return self.show_result(saved, request)
        except Exception as e:
            self._fail(e, stopped.what, task_id)
            if isinstance(e, WaitStopped):
                return None
            raise

    def show_result(self, result: Any, request: SwapRequest) -> Any:
        path = Path(result.path)
        fmt = sniff_file(path)
        labels = request.labels or {n: "?" for n in request.pairs}
        entry = ResultEntry(
            id=0,  # the board numbers results
            kind=result.kind,
            name=path.name,
            path=str(path),
            media="",
            mime=fmt.mime if fmt else "application/octet-stream",
            size=path.stat().st_size,
            elapsed=round(self.elapsed(), 2),
            pairs=", ".join(f"{face} -> {label}" for face, label in sorted(labels.items())),
            hd=request.hd,
            task_id=result.task_id,
            original=f"main-{request.original.rev}",
        )
        self.board.add_result(entry, result)
        return result
