"""The widget's background work: one worker thread running jobs in order (the kernel keeps
handling the widget's messages meanwhile, so Stop works while a task runs). Waiting for tasks is
``Task.wait``'s job (see :mod:`.jobs`); this module only runs and tracks jobs."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

__all__ = ["Session"]


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
    """Jobs (detect, swap, resume, checks) run one after the other; :meth:`wait` blocks until
    those submitted so far are done."""

    def __init__(self) -> None:
        self._worker = _Worker()
        self._lock = threading.Lock()
        self._jobs: list[Future] = []
        self._closed = False

    def submit(self, job: Callable[[], Any], *, after: Callable[[], None] | None = None) -> Future:
        """Run ``job`` after the jobs before it; ``after`` runs when it ends, whatever happened."""

        def run() -> Any:
            if self._closed:
                return None  # queued before the widget was closed: nothing to do now
            try:
                return job()
            finally:
                if after is not None:
                    after()

        future = self._worker.submit(run)
        with self._lock:
            self._jobs = [j for j in self._jobs if not j.done()] + [future]
        return future

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the jobs submitted so far are done; the last one's value (or raise)."""
        with self._lock:
            jobs = list(self._jobs)
        value = None
        for job in jobs:
            value = job.result(timeout=timeout)
        return value

    def close(self) -> None:
        """Jobs still queued are skipped."""
        self._closed = True
        self._worker.shutdown()
