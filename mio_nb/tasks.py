"""The life of a task, owned here: create it (write-ahead), refresh it, wait for it, save its
result, and every journal record on the way (``attempt``, ``submitted``, ``refused``,
``unconfirmed``, ``failed``, ``done``); no other module writes the journal.

Completion is decided by result data (``merge_url`` for swaps, a non-empty face list for get-face),
failure by an error code in the envelope or a terminal status with a message and no data; any
other status without data counts as pending (an unknown one is logged once). So the client works
whether the server reports success as 3 or as 0.

Polling is adaptive: every ~0.1 s at first, ~0.4 s by 10 s, growing to 4-5 s after 30 s.
Ctrl-C (KeyboardInterrupt) stops waiting but not the task: ``client.task(ID).wait()`` resumes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from . import protocol
from .errors import (
    JournalError,
    MioError,
    OutputFolderError,
    ServerError,
    TaskError,
    TaskTimeoutError,
    WaitStopped,
)
from .formats import VIDEO_SUFFIXES
from .preflight import check_timeout
from .protocol import TaskType

if TYPE_CHECKING:
    from .journal import Journal
    from .saver import Saved, Saver
    from .transport import Transport

log = logging.getLogger("mio_nb.tasks")

#: Default total wait per produced kind, in seconds.
DEFAULT_TIMEOUTS = {"image": 900.0, "faces": 900.0, "video": 3600.0}

State = Literal["pending", "done", "failed"]
_STATUS_NAMES = {0: "done (0)", 1: "waiting", 2: "processing", 3: "success", 4: "failed"}


@dataclass
class TaskContext:
    """What a :class:`Task` works with: the HTTP layer, the journal, the saver, the server's
    identity (asked once, lazily) and the client's waiting preferences."""

    transport: Transport
    journal: Journal
    saver: Saver
    server_id: Callable[[], str]
    wait_timeout: float | None = None
    progress: bool = True

    def create(
        self,
        type: TaskType,
        body: dict[str, Any],
        inputs: dict[str, Any],
        params: dict[str, Any],
        tag: str | None = None,
    ) -> Task:
        """Create a task, journaled before the request is sent (write-ahead): whatever happens
        next, ``client.history()`` shows the attempt or the task. The request says it creates
        a task, so it is never sent twice."""
        server = self.server_id()
        journal = self.journal
        attempt = journal.attempt(type, server, inputs, params, tag)  # JournalError: not sent
        task_id: int | None = None
        try:
            try:
                data = self.transport.call("POST", type.path, json=body, creates_task=True)
            except MioError as e:
                if e.task_may_exist:
                    _quietly(journal.unconfirmed, attempt, server, e.message)
                else:
                    _quietly(journal.refused, attempt, server, e.code, e.message)
                raise
            try:
                task_id = int(data["task_id"])
            except (TypeError, KeyError, ValueError, OverflowError):
                _quietly(journal.unconfirmed, attempt, server, "the answer had no task id")
                raise ServerError(
                    f"The server accepted the {type} task but sent no task id "
                    f"({str(data)[:200]!r}).",
                    task_may_exist=True,
                ) from None
            _quietly(journal.submitted, task_id, type, server, inputs, params, tag, attempt)
        except KeyboardInterrupt:
            if task_id is not None:
                _quietly(journal.submitted, task_id, type, server, inputs, params, tag, attempt)
                raise KeyboardInterrupt(
                    f"Interrupted after task {task_id} ({type}) was created; it runs on the "
                    f"server. Resume with client.task({task_id}).wait()"
                ) from None
            _quietly(journal.unconfirmed, attempt, server, "interrupted before the answer came")
            raise KeyboardInterrupt(
                f"Interrupted while creating a {type} task (attempt {attempt[:8]}): the request "
                "may have reached the server, so the task may exist and be charged. It is in "
                "client.history() as 'unconfirmed'; check your MioCreate task list before "
                "submitting it again."
            ) from None
        log.info("Submitted %s task %s", type, task_id)
        return Task(self, task_id, type, inputs)


def _quietly(write: Callable[..., None], *args: Any) -> None:
    """A journal record after the request: a failing disk is logged, never hides the task."""
    try:
        write(*args)
    except JournalError as e:
        log.error("%s (%s not recorded)", e.message, write.__name__)


def _status_name(status: int | None) -> str:
    return _STATUS_NAMES.get(status, str(status)) if status is not None else "unknown"


def poll_interval(elapsed: float) -> float:
    """Seconds to sleep before the next poll, ``elapsed`` seconds into waiting.

    0.1 s growing to 0.4 s over the first 10 s (a finished task is seen within ~0.25 s), then
    up to 4 s at 30 s (at most 15 polls a minute after that), then slowly to 5 s.
    """
    if elapsed < 10.0:
        return 0.1 + 0.03 * elapsed
    if elapsed < 30.0:
        return 0.4 + (elapsed - 10.0) * (4.0 - 0.4) / 20.0
    return min(4.0 + (elapsed - 30.0) / 120.0, 5.0)


def _has_result(produces: protocol.Produces | None, data: Any) -> bool:
    if produces == "faces":
        return isinstance(data, list) and len(data) > 0
    if produces in ("image", "video"):
        return isinstance(data, Mapping) and bool(data.get("merge_url"))
    # Unknown type (a task id from elsewhere): any of the two shapes.
    return (isinstance(data, list) and len(data) > 0) or (
        isinstance(data, Mapping) and bool(data.get("merge_url"))
    )


def _infer_produces(data: Any) -> protocol.Produces:
    if isinstance(data, list):
        return "faces"
    key = str(data.get("merge_key") or data.get("merge_url") or "").split("?")[0].lower()
    if "duration" in data or "cover_url" in data or key.endswith(VIDEO_SUFFIXES):
        return "video"
    return "image"


class Task:
    """A task on the server: ``task.refresh()``, ``task.status``, ``task.wait()``.

    ``wait()`` returns the saved result: an ImageResult, VideoResult or FaceSet. Made by a
    :class:`~mio_nb.client.Client` (``client.task(id)``, ``client.submit_*``), it works with
    the client's :class:`TaskContext` only: the HTTP layer, the journal and the saver.
    """

    def __init__(
        self,
        context: TaskContext,
        task_id: int,
        type: TaskType | str | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> None:
        self.id = int(task_id)
        self.type = TaskType.parse(type) if isinstance(type, str) else type
        self.inputs = inputs or {}
        self.status: int | None = None
        self.message = ""
        self.data: Any = None
        self.error: MioError | None = None
        self.state: State = "pending"
        #: monotonic times of detail requests made by wait() (benchmarks read them).
        self.poll_times: list[float] = []
        self._ctx = context
        self._result: Saved | None = None
        self._warned_status: set[Any] = set()

    def __repr__(self) -> str:
        status = _status_name(self.status) if self.status is not None else "?"
        return f"<Task {self.id} {self.type or 'unknown type'}: {self.state}, status {status}>"

    @property
    def produces(self) -> protocol.Produces | None:
        """ "image", "video" or "faces" (None while unknown)."""
        if self.type is not None:
            return self.type.produces
        if self.state == "done":
            return _infer_produces(self.data)
        return None

    @property
    def done(self) -> bool:
        return self.state == "done"

    def refresh(self, *, deadline: float | None = None) -> Task:
        """Ask the server for the task's state once; updates ``status``/``state``/``error``.

        Raises only for problems of the call itself (network, auth, unknown id, the
        ``deadline``, a ``time.monotonic()`` value, passed), not when the task failed (see
        ``task.error``).
        """
        if self.state != "pending":
            return self
        try:
            data = self._ctx.transport.call(
                "GET", protocol.TASK_DETAIL_PATH, params={"id": self.id}, deadline=deadline
            )
        except MioError as e:
            e.task_id = self.id  # its hint names the task: client.task(ID).wait()
            if (
                e.code is not None
                and protocol.Code.TASK_ERROR <= e.code < 900
                and e.code != protocol.Code.RATE_LIMITED
            ):
                self._fail(e)
                return self
            if e.code == protocol.Code.BAD_PARAMETER and not e.message:
                e.message = f"Task {self.id} was not found."
            raise
        data = data if isinstance(data, Mapping) else {}
        self.status = data.get("status")
        try:
            self.status = int(self.status) if self.status is not None else None
        except (TypeError, ValueError, OverflowError):
            self.status = None
        self.message = str(data.get("message") or "")
        add = data.get("additional_data")
        if _has_result(self.produces, add):
            self.data = add
            self.state = "done"
        elif self.status == protocol.TaskStatus.FAILED or (
            self.status in (protocol.TaskStatus.DONE_AS_ZERO, protocol.TaskStatus.SUCCESS)
            and self.message
        ):
            self._fail(TaskError(self.message or "The task failed.", code=601, task_id=self.id))
        elif (
            self.status not in (protocol.TaskStatus.WAITING, protocol.TaskStatus.PROCESSING)
            and self.status not in self._warned_status
        ):
            self._warned_status.add(self.status)
            known = self.status in (protocol.TaskStatus.DONE_AS_ZERO, protocol.TaskStatus.SUCCESS)
            log.log(
                logging.INFO if known else logging.WARNING,
                "Task %s: status %r without result data; still waiting for the result.",
                self.id,
                self.status,
            )
        return self

    def _fail(self, error: MioError) -> None:
        if error.task_id is None:
            error.task_id = self.id
        self.state = "failed"
        self.error = error
        _quietly(
            self._ctx.journal.failed, self.id, self._ctx.server_id(), error.code, error.message
        )

    def result(self, *, deadline: float | None = None) -> Saved:
        """The saved result of a finished task (downloads it on first call, checks its content,
        then records it as done)."""
        if self._result is None:
            if self.state == "failed" and self.error is not None:
                raise self.error
            if self.state != "done":
                raise MioError(
                    f"Task {self.id} has not finished yet.",
                    task_id=self.id,
                    hint=f"Call client.task({self.id}).wait().",
                )
            self._result = self._save(deadline)
        return self._result

    def _save(self, deadline: float | None = None) -> Saved:
        from .saver import files_of

        server = self._ctx.server_id()
        entry = self._ctx.journal.find(self.id, server)
        reuse = entry.files if entry is not None and entry.status == "done" else ()
        produces = self.produces or _infer_produces(self.data)
        try:
            result = self._ctx.saver.save(
                self.id, produces, self.data, self.inputs, reuse, deadline=deadline
            )
        except MioError as e:
            e.task_id = self.id  # its hint names the task: client.task(ID).wait()
            raise
        except OSError as e:  # the folder went away, filled up, became read-only...
            raise OutputFolderError(
                f"Task {self.id} finished, but its result could not be saved in "
                f"'{self._ctx.saver.output_dir}': {e.strerror or e}.",
                task_id=self.id,
                hint=f"Free some space or fix the folder, then client.task({self.id}).wait() "
                "saves it (the result stays on the server for 7 days; nothing is paid again).",
            ) from None
        _quietly(self._ctx.journal.done, self.id, server, files_of(result))
        return result

    def wait(
        self,
        timeout: float | None = None,
        progress: bool = True,
        *,
        stop: threading.Event | None = None,
        on_status: Callable[[Task], None] | None = None,
    ) -> Saved:
        """Poll until the task finishes, save its result to the output folder and return it.

        ``timeout``: total seconds (default: 15 min, 60 min for videos) -> TaskTimeoutError,
        the task keeps running. Ctrl-C stops waiting; ``client.task(ID).wait()`` resumes.
        ``stop``: an event that, once set, ends the wait with :class:`WaitStopped` (the task keeps
        running); ``on_status(task)`` is called after every poll (a widget shows the state).
        """
        timeout = check_timeout(timeout) or self._ctx.wait_timeout
        if timeout is None:
            timeout = DEFAULT_TIMEOUTS.get(self.produces or "", 3600.0)
        start = time.monotonic()
        deadline = start + timeout
        bar = None
        try:
            while True:
                self.poll_times.append(time.monotonic())
                try:
                    self.refresh(deadline=deadline)
                except TaskTimeoutError as e:
                    raise self._timed_out(timeout, e.message) from None
                if on_status is not None:
                    on_status(self)
                if self.state == "done":
                    if bar is not None:
                        bar.set_description_str(f"Task {self.id}: saving result")
                    try:
                        return self.result(deadline=deadline)
                    except TaskTimeoutError as e:
                        raise self._timed_out(timeout, e.message) from None
                if self.state == "failed":
                    assert self.error is not None
                    raise self.error
                now = time.monotonic()
                elapsed = now - start
                if now >= deadline:
                    raise self._timed_out(timeout)
                if progress and self._ctx.progress and elapsed > 1.0:
                    if bar is None:
                        bar = self._progress_bar()
                    bar.set_description_str(f"Task {self.id}: {_status_name(self.status)}")
                pause = max(0.0, min(poll_interval(elapsed), deadline - now))
                if stop is None:
                    time.sleep(pause)
                elif stop.wait(pause):
                    raise WaitStopped(
                        f"Stopped waiting for task {self.id}; it keeps running on the server.",
                        task_id=self.id,
                    )
        except KeyboardInterrupt:
            raise KeyboardInterrupt(
                f"Stopped waiting for task {self.id}; it keeps running on the server. "
                f"Resume with client.task({self.id}).wait()"
            ) from None
        finally:
            if bar is not None:
                bar.close()

    def _timed_out(self, timeout: float, why: str = "") -> TaskTimeoutError:
        what = "was not saved" if self.state == "done" else "did not finish"
        detail = f" ({why})" if why else ""
        return TaskTimeoutError(
            f"Task {self.id} {what} within {timeout:g} s (last status: "
            f"{_status_name(self.status)}){detail}.",
            task_id=self.id,
        )

    def _progress_bar(self) -> Any:
        from tqdm.auto import tqdm

        return tqdm(total=None, bar_format="{desc} [{elapsed}]", leave=False)
