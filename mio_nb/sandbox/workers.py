"""A pool of threads running tasks: status 1 waiting -> 2 processing -> 3 success | 4 failed."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from mio_nb.protocol import Code
from mio_nb.sandbox.engine import EngineError
from mio_nb.sandbox.jobs import Jobs
from mio_nb.sandbox.taskstore import TaskStore

log = logging.getLogger("mio_nb.sandbox")


class WorkerPool:
    """Threads taking task ids from a queue. Engine calls share ``engine_slots`` slots; the
    ``task_seconds`` fault is waited out of the slots, so slow tasks still run side by side.

    ``stop()`` abandons tasks in flight without recording anything: they stay "processing" in
    the task table and are re-queued when a sandbox starts again on the same data dir.
    """

    def __init__(
        self,
        jobs: Jobs,
        store: TaskStore,
        task_seconds: Callable[[], float],
        *,
        threads: int = 4,
        engine_slots: int = 1,
    ) -> None:
        self._jobs = jobs
        self._store = store
        self._task_seconds = task_seconds
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._slots = threading.Semaphore(engine_slots)
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, name=f"mio-sandbox-worker-{i}", daemon=True)
            for i in range(threads)
        ]
        for t in self._threads:
            t.start()

    def submit(self, task_id: int) -> None:
        self._queue.put(task_id)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            log.warning("sandbox workers still busy at stop (abandoned): %s", ", ".join(alive))

    def _loop(self) -> None:
        while not self._stopping.is_set():
            task_id = self._queue.get()
            if task_id is None or self._stopping.is_set():
                return
            try:
                self._run(task_id)
            except Exception:  # never let a worker die
                log.exception("sandbox worker failed on task %s", task_id)

    def _run(self, task_id: int) -> None:
        task = self._store.get(task_id)
        if task is None:
            return
        started = time.monotonic()
        self._store.set_processing(task_id)
        code, message, output = int(Code.OK), "", None
        try:
            with self._slots:
                if self._stopping.is_set():
                    return
                output = self._jobs.run(task)
        except Exception as exc:
            code, message = _failure(exc, task_id)
        remaining = self._task_seconds() - (time.monotonic() - started)
        if remaining > 0 and self._stopping.wait(remaining):
            return  # stopped while waiting: the task is re-queued at the next start
        if self._stopping.is_set():
            return
        if output is not None:
            self._store.finish(task_id, result=output.result, parts=output.parts)
        else:
            self._store.finish(task_id, code=code, message=message)
        log.info("task %s (%s) finished with code %s", task_id, task.type, code)


def _failure(exc: Exception, task_id: int) -> tuple[int, str]:
    """The envelope code and message for a failed task."""
    if isinstance(exc, EngineError):
        log.info("task %s failed: %s %s", task_id, exc.code, exc.message)
        return int(exc.code), exc.message
    log.exception("task %s failed with an unexpected error", task_id)
    return int(Code.TASK_ERROR), f"Task exception occurred: {type(exc).__name__}"
