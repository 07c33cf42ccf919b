"""The task journal: every task submitted, its inputs and saved result, in the output folder.

One JSON object per line in ``<output_dir>/journal.jsonl``, appended as things happen, so neither
a kernel restart nor a crash loses a paid task. Write-ahead: a task-creating request is recorded
as an *attempt* before it is sent; its answer turns the attempt into a task (``submitted``) or
removes it (``refused``: the server made nothing). An attempt with no outcome is shown by
``client.history()`` as "unconfirmed": sent, answer not received, the task may exist.
``client.history()`` folds the lines into one :class:`JournalEntry` per task or attempt and
``client.task(id).wait()`` resumes a pending one. Entries are keyed by the server's identity (see
``Client.server_id``), not its URL, so a sandbox on a new port still finds its tasks.

Several processes (and threads, and notebooks) may share one folder:

- appends are made under an exclusive lock of ``journal.jsonl.lock``, and a line is never glued
  to a torn one (a crash mid-write): when the file does not end with a newline, the new line
  starts with one;
- ``claim(job)`` holds an exclusive lock of ``.mio-claims/<job>.lock`` while one process decides
  about a job and creates its task: the others wait, then read what it did;
- every line is validated on read: one that is not JSON, or not an event of the right shape, is
  skipped and counted (``Journal.skipped``, ``client.history().skipped``), never fatal.

The locks are ``fcntl.flock`` (Linux, macOS; NFS emulates it with byte-range locks) or
``msvcrt.locking`` (Windows).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import JournalError
from .protocol import TaskType

log = logging.getLogger("mio_nb.journal")

JOURNAL_NAME = "journal.jsonl"
CLAIMS_DIR = ".mio-claims"

State = Literal["pending", "done", "failed", "unconfirmed"]

#: What an attempt with no recorded answer means.
UNCONFIRMED_MESSAGE = "sent, answer not received: the task may exist (and be charged)"


@dataclass(frozen=True)
class JournalEntry:
    """One task (or one attempt to create one) as recorded in the journal.

    ``status``: "pending" (submitted, no result saved yet), "done" (``files`` saved), "failed"
    (``error``), or "unconfirmed" (the create request was sent, or was being sent, but no answer
    was recorded: the task may exist on the server; ``task_id`` is None, ``attempt`` names it).
    ``type`` is a :class:`~mio_nb.protocol.TaskType` value ("face-swap", "get-face", ...);
    ``server`` the server's identity.
    """

    task_id: int | None
    type: str
    status: State
    server: str
    submitted_at: float
    updated_at: float
    inputs: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    error: dict[str, Any] | None = None
    attempt: str | None = field(default=None, repr=False)
    #: The tag the task was submitted under (``client.batch`` tags each job by its inputs).
    job: str | None = field(default=None, repr=False)

    @property
    def when(self) -> str:
        """Submission time, local, as ``YYYY-MM-DD HH:MM:SS``."""
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.submitted_at))

    @property
    def task_type(self) -> TaskType | None:
        return TaskType.parse(self.type)


def _type_name(name: Any) -> str:
    """The current name of a task type (journals of mio-nb 0.1 used other names)."""
    parsed = TaskType.parse(str(name or ""))
    return parsed.value if parsed else str(name or "")


class History(list[JournalEntry]):
    """``client.history()``: the journal's entries, oldest first; ``skipped`` counts the lines
    that could not be used (torn by a crash, not JSON, or not an event of the right shape)."""

    skipped: int = 0

    def __init__(self, entries: list[JournalEntry], skipped: int = 0) -> None:
        super().__init__(entries)
        self.skipped = skipped


if sys.platform == "win32":  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def file_lock(
    path: Path, *, poll: float = 0.02, cancelled: Callable[[], bool] | None = None
) -> Iterator[None]:
    """Hold an exclusive lock of ``path`` (created if missing) across processes and threads.

    ``cancelled()`` is asked between tries; when it says True, the wait ends with
    ``TimeoutError``.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        pause = poll / 4
        while not _try_lock(fd):
            if cancelled is not None and cancelled():
                raise TimeoutError(f"Gave up waiting for {path.name}")
            time.sleep(pause)
            pause = min(pause * 2, poll * 4)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


_EVENTS = frozenset({"attempt", "submitted", "refused", "unconfirmed", "done", "failed"})
_JOB = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and -(2**62) < v < 2**62


def valid_event(ev: Any) -> bool:
    """Whether ``ev`` is a journal event of a known kind with fields of the right types."""
    if not isinstance(ev, dict) or ev.get("event") not in _EVENTS:
        return False
    t = ev.get("time", 0.0)
    if not isinstance(t, int | float) or isinstance(t, bool) or not math.isfinite(t):
        return False
    if not isinstance(ev.get("server", ""), str):
        return False
    kind = ev["event"]
    if kind in ("attempt", "refused", "unconfirmed") and not isinstance(ev.get("attempt"), str):
        return False
    if kind in ("submitted", "done", "failed") and not _is_int(ev.get("task_id")):
        return False
    if kind in ("attempt", "submitted") and not isinstance(ev.get("type"), str):
        return False
    for name in ("inputs", "params"):
        if not isinstance(ev.get(name) or {}, dict):
            return False
    if ev.get("job") is not None and not isinstance(ev["job"], str):
        return False
    if ev.get("attempt") is not None and not isinstance(ev["attempt"], str):
        return False
    files = ev.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return False
    error = ev.get("error")
    if error is not None:
        if not isinstance(error, dict):
            return False
        code = error.get("code")
        if code is not None and not _is_int(code):
            return False
        if not isinstance(error.get("message", ""), str | None):
            return False
    return True


class Journal:
    """Append-only JSON-lines journal at ``path``, shared safely by threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        # Events read so far, and where the file was read up to (which file, how far, how many
        # lines, how many skipped): every read parses only what was appended since.
        self._read_lock = threading.Lock()
        self._read: tuple[list[dict[str, Any]], tuple[int, int] | None, int, int, int] = (
            [],
            None,
            0,
            0,
            0,
        )

        # Rows folded so far: (generation of the events, events folded, rows, job index).
        self._generation = 0
        self._fold_lock = threading.Lock()
        self._folded: tuple[int, int, dict[Any, dict[str, Any]], dict[str, set[Any]]] = (
            -1,
            0,
            {},
            {},
        )

    def __repr__(self) -> str:
        return f"<Journal {self.path}>"

    @property
    def skipped(self) -> int:
        """Lines skipped so far because they were torn, not JSON or of the wrong shape."""
        self._events()
        return self._read[4]

    def _append(self, event: dict[str, Any], *, sync: bool = False) -> None:
        event.setdefault("time", time.time())
        line = json.dumps(event, ensure_ascii=False, default=str) + "\n"
        data = line.encode("utf-8", "surrogateescape")
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with file_lock(self.path.with_name(self.path.name + ".lock")):
                    fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
                    try:
                        end = os.lseek(fd, 0, os.SEEK_END)
                        if end > 0:
                            os.lseek(fd, end - 1, os.SEEK_SET)
                            if os.read(fd, 1) != b"\n":  # a torn line: never glue onto it
                                data = b"\n" + data
                        os.write(fd, data)
                        if sync:
                            os.fsync(fd)
                    finally:
                        os.close(fd)
        except OSError as e:
            raise JournalError(
                f"The task journal {self.path} cannot be written: {e.strerror or e}."
            ) from None

    @contextlib.contextmanager
    def claim(self, job: str, cancelled: Callable[[], bool] | None = None) -> Iterator[None]:
        """Hold the exclusive claim of ``job`` (a batch fingerprint) across processes: whoever
        holds it decides about the job and creates its task; the others wait for it, then read
        the journal and find the task."""
        if not _JOB.match(job):
            raise ValueError(f"Not a job tag: {job!r}")
        folder = self.path.parent / CLAIMS_DIR
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise JournalError(
                f"The journal's claims folder {folder} cannot be made: {e.strerror or e}."
            ) from None
        with file_lock(folder / f"{job}.lock", poll=0.05, cancelled=cancelled):
            yield

    def attempt(
        self,
        type: TaskType,
        server: str,
        inputs: dict[str, Any],
        params: dict[str, Any],
        job: str | None = None,
    ) -> str:
        """Record, before it is sent, a request creating a task; returns the attempt's id."""
        attempt = uuid.uuid4().hex
        self._append(
            {
                "event": "attempt",
                "attempt": attempt,
                "type": type.value,
                "server": server,
                "inputs": inputs,
                "params": params,
                "job": job,
            },
            sync=True,
        )
        return attempt

    def submitted(
        self,
        task_id: int,
        type: TaskType,
        server: str,
        inputs: dict[str, Any],
        params: dict[str, Any],
        job: str | None = None,
        attempt: str | None = None,
    ) -> None:
        """The server created task ``task_id`` (for ``attempt``)."""
        self._append(
            {
                "event": "submitted",
                "attempt": attempt,
                "task_id": task_id,
                "type": type.value,
                "server": server,
                "inputs": inputs,
                "params": params,
                "job": job,
            }
        )

    def refused(self, attempt: str, server: str, code: int | None, message: str) -> None:
        """The server answered ``attempt`` with an error: no task was made, nothing to show."""
        self._append(
            {
                "event": "refused",
                "attempt": attempt,
                "server": server,
                "error": {"code": code, "message": message},
            }
        )

    def unconfirmed(self, attempt: str, server: str, message: str) -> None:
        """``attempt`` may have reached the server but no task id came back (``message``: why)."""
        self._append(
            {
                "event": "unconfirmed",
                "attempt": attempt,
                "server": server,
                "error": {"message": message},
            },
            sync=True,
        )

    def done(self, task_id: int, server: str, files: list[str]) -> None:
        self._append({"event": "done", "task_id": task_id, "server": server, "files": files})

    def failed(self, task_id: int, server: str, code: int | None, message: str) -> None:
        self._append(
            {
                "event": "failed",
                "task_id": task_id,
                "server": server,
                "error": {"code": code, "message": message},
            }
        )

    def _events(self) -> list[dict[str, Any]]:
        try:
            st = self.path.stat()
        except (FileNotFoundError, NotADirectoryError):  # no journal (yet), or no folder
            return []
        except OSError as e:
            raise JournalError(
                f"The task journal {self.path} cannot be read: {e.strerror or e}."
            ) from None
        with self._read_lock:
            events, identity, offset, lines, skipped = self._read
            if identity != (st.st_dev, st.st_ino) or st.st_size < offset:  # a new or cut file
                events, offset, lines, skipped = [], 0, 0, 0
                self._generation += 1
            if st.st_size > offset:
                try:
                    with open(self.path, "rb") as f:
                        f.seek(offset)
                        tail = f.read(st.st_size - offset)
                except OSError as e:
                    raise JournalError(
                        f"The task journal {self.path} cannot be read: {e.strerror or e}."
                    ) from None
                complete = tail.rfind(b"\n") + 1  # a line being written is read next time
                for raw in tail[:complete].splitlines():
                    lines += 1
                    line = raw.strip()
                    if not line:
                        continue
                    try:
                        ev = json.loads(line)
                    except (ValueError, RecursionError):
                        ev = None
                    if valid_event(ev):
                        events.append(ev)
                    else:  # torn by a crash, or not an event: skip it, keep the rest
                        skipped += 1
                        log.warning("Skipping unusable line %d of %s", lines, self.path)
                offset += complete
            self._read = (events, (st.st_dev, st.st_ino), offset, lines, skipped)
            return events

    def _fold(self) -> tuple[dict[tuple[str, Any], dict[str, Any]], dict[str, set[Any]]]:
        """The rows of every task and attempt (and an index job -> row keys), folding only the
        events appended since the last call: a batch asks once per job."""
        events = self._events()
        with self._fold_lock:
            generation, folded, rows, by_job = self._folded
            if generation != self._generation or folded > len(events):
                folded, rows, by_job = 0, {}, {}
            for ev in events[folded:]:
                _apply(rows, by_job, ev)
            self._folded = (self._generation, len(events), rows, by_job)
            return rows, by_job

    def entries(self) -> History:
        """One entry per task or unconfirmed attempt, oldest first (``.skipped``: lines that
        could not be used)."""
        rows, _ = self._fold()
        with self._fold_lock:
            entries = [JournalEntry(**row) for row in rows.values()]
        entries.sort(key=lambda e: e.submitted_at)
        return History(entries, self._read[4])

    def entries_of_job(self, job: str, server: str) -> list[JournalEntry]:
        """The entries tagged ``job`` on ``server``, oldest first (without building the rest)."""
        rows, by_job = self._fold()
        with self._fold_lock:
            found = [JournalEntry(**rows[k]) for k in by_job.get(job, ()) if k in rows]
        found = [e for e in found if e.server == server]
        found.sort(key=lambda e: e.submitted_at)
        return found

    def find(self, task_id: int, server: str | None = None) -> JournalEntry | None:
        """The entry of ``task_id`` on ``server`` (or on any server if none matches)."""
        matches = [e for e in self.entries() if e.task_id == task_id]
        same = [e for e in matches if e.server == server]
        if same:
            return same[-1]
        return matches[-1] if matches and server is None else None


def _apply(
    rows: dict[tuple[str, Any], dict[str, Any]], by_job: dict[str, set[Any]], ev: dict[str, Any]
) -> None:
    """Fold one (valid) event into ``rows``, keeping the ``by_job`` index of row keys."""

    def put(key: tuple[str, Any], row: dict[str, Any]) -> None:
        rows[key] = row
        if row.get("job"):
            by_job.setdefault(row["job"], set()).add(key)

    def pop(key: tuple[str, Any]) -> dict[str, Any] | None:
        row = rows.pop(key, None)
        if row is not None and row.get("job"):
            by_job.get(row["job"], set()).discard(key)
        return row

    kind = ev.get("event")
    server = str(ev.get("server") or "")
    attempt_key = ("attempt", ev.get("attempt"))
    if kind in ("attempt", "unconfirmed") and attempt_key not in rows:
        if kind == "unconfirmed" and ev.get("type") is None:
            return  # the outcome of an attempt already answered
        put(
            attempt_key,
            {
                "task_id": None,
                "type": _type_name(ev.get("type")),
                "status": "unconfirmed",
                "server": server,
                "submitted_at": ev.get("time", 0.0),
                "updated_at": ev.get("time", 0.0),
                "inputs": ev.get("inputs") or {},
                "params": ev.get("params") or {},
                "error": {"message": UNCONFIRMED_MESSAGE},
                "attempt": ev.get("attempt"),
                "job": ev.get("job"),
            },
        )
    if kind == "unconfirmed":
        if attempt_key in rows:
            rows[attempt_key]["updated_at"] = ev.get("time", 0.0)
            message = (ev.get("error") or {}).get("message")
            detail = f"{UNCONFIRMED_MESSAGE} ({message})" if message else None
            rows[attempt_key]["error"] = {"message": detail or UNCONFIRMED_MESSAGE}
        return
    if kind == "attempt":
        return
    if kind == "refused":
        pop(attempt_key)
        return
    key = (server, ev.get("task_id"))
    if kind == "submitted":
        started = pop(attempt_key) if ev.get("attempt") else None
        if key in rows:
            pop(key)
        put(
            key,
            {
                "task_id": ev.get("task_id"),
                "type": _type_name(ev.get("type")),
                "status": "pending",
                "server": server,
                "submitted_at": (started or ev).get("submitted_at", ev.get("time", 0.0)),
                "updated_at": ev.get("time", 0.0),
                "inputs": ev.get("inputs") or {},
                "params": ev.get("params") or {},
                "attempt": ev.get("attempt"),
                "job": ev.get("job"),
            },
        )
        return
    row = rows.get(key)
    if row is None:
        row = {
            "task_id": ev.get("task_id"),
            "type": "",
            "status": "pending",
            "server": server,
            "submitted_at": ev.get("time", 0.0),
        }
        put(key, row)
    row["updated_at"] = ev.get("time", 0.0)
    if kind == "done":
        row["status"] = "done"
        row["files"] = tuple(ev.get("files") or ())
        row["error"] = None
    elif kind == "failed":
        row["status"] = "failed"
        row["error"] = ev.get("error")
