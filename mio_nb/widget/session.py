"""The widget's background work as one small typed object: a worker thread running jobs in
order, the clock of the running task (since it was submitted), Stop, and the polling loop.

The kernel keeps handling the widget's messages meanwhile (Stop works while a task runs)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from .. import protocol
from ..errors import TaskTimeoutError

__all__ = ["Session", "Stopped"]

_STATUS_WORDS = {
    protocol.TaskStatus.WAITING: "waiting in the queue",
    protocol.TaskStatus.PROCESSING: "processing",
}


class Stopped(Exception):
    """The user pressed Stop: stop waiting, the task keeps running on the server."""


class _Worker:
    """One daemon thread running jobs in order (a daemon, unlike ThreadPoolExecutor's, so a
    kernel shutting down never waits for a long task to be polled to its end)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Future, Callable[[], Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="mio-nb-widget", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], Any]) -> Future:
        future: Future = Future()
        self._queue.put((future, fn))
        return future

    def shutdown(self) -> None:
        self._queue.put(None)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            future, fn = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as e:
                future.set_exception(e)


class Session:
    """Jobs (detect, swap, resume, checks) run one after the other; ``started`` is when the
    current job began, ``submitted`` when its task was submitted (what Resume counts from)."""

    def __init__(self) -> None:
        self._worker = _Worker()
        self._lock = threading.Lock()
        self._jobs: list[Future] = []
        self.stop_event = threading.Event()
        self.started = time.monotonic()
        self.submitted = time.monotonic()
        self._closed = False

    def submit(self, job: Callable[[], Any], *, after: Callable[[], None] | None = None) -> Future:
        """Run ``job`` after the jobs before it (Stop cleared, the clock restarted); ``after``
        runs when it ends, whatever happened."""

        def run() -> Any:
            if self._closed:
                return None  # queued before the widget was closed: nothing to do now
            self.stop_event.clear()
            self.started = time.monotonic()
            try:
                return job()
            finally:
                if after is not None:
                    after()

        return self._track(self._worker.submit(run))

    def background(self, job: Callable[[], Any]) -> Future:
        """Run ``job`` in turn, without touching the clock or Stop (e.g. checking a new face)."""
        return self._track(self._worker.submit(lambda: None if self._closed else job()))

    def _track(self, future: Future) -> Future:
        with self._lock:
            self._jobs = [j for j in self._jobs if not j.done()] + [future]
        return future

    def mark_submitted(self, since: float = 0.0) -> None:
        """The task was submitted ``since`` seconds ago (0: now)."""
        self.submitted = time.monotonic() - since

    def resume_clock(self, since_submitted: float) -> None:
        """Count the current job's time from its task's submission, ``since_submitted`` ago."""
        self.started = self.submitted = time.monotonic() - since_submitted

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def since_submitted(self) -> float:
        return time.monotonic() - self.submitted

    def stop(self) -> None:
        self.stop_event.set()

    def follow(
        self,
        task: Any,
        timeout: float | None,
        on_state: Callable[[str, int], None],
    ) -> Any:
        """Poll ``task`` until it finishes (its saved result), fails (raises), times out
        (TaskTimeoutError) or Stop is pressed (:class:`Stopped`); ``on_state(word, task_id)``
        hears each new state ("waiting in the queue", "processing", "saving the result")."""
        from ..tasks import DEFAULT_TIMEOUTS, poll_interval

        limit = timeout or DEFAULT_TIMEOUTS.get(task.produces or "", 3600.0)
        start = time.monotonic()
        last = None
        while True:
            task.refresh()
            if task.state == "done":
                on_state("saving the result", task.id)
                return task.result()
            if task.state == "failed":
                raise task.error
            word = _STATUS_WORDS.get(task.status, "running")
            if word != last:
                last = word
                on_state(word, task.id)
            elapsed = time.monotonic() - start
            if elapsed >= limit:
                raise TaskTimeoutError(
                    f"Task {task.id} did not finish within {limit:g} s.", task_id=task.id
                )
            if self.stop_event.wait(poll_interval(elapsed)):
                raise Stopped(task.id)

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the jobs submitted so far (checks included) are done; the last one's
        value (or raise)."""
        with self._lock:
            jobs = list(self._jobs)
        value = None
        for job in jobs:
            value = job.result(timeout=timeout)
        return value

    def close(self) -> None:
        """Stop waiting; jobs still queued are skipped."""
        self._closed = True
        self.stop_event.set()
        self._worker.shutdown()
