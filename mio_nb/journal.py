"""The task journal: every task submitted, its inputs and saved result, in the output folder.

One JSON object per line in ``<output_dir>/journal.jsonl``, appended as things happen, so neither
a kernel restart nor a crash loses a paid task. Write-ahead: a task-creating request is recorded
as an *attempt* before it is sent; its answer turns the attempt into a task (``submitted``) or
removes it (``refused``: the server made nothing). An attempt with no outcome is shown by
``client.history()`` as "unconfirmed": sent, answer not received, the task may exist.
``client.history()`` folds the lines into one :class:`JournalEntry` per task or attempt and
``client.task(id).wait()`` resumes a pending one. Entries are keyed by the server's identity (see
``Client.server_id``), not its URL, so a sandbox on a new port still finds its tasks. Appends are
single ``write`` calls of one line, so several clients can share a folder.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .protocol import TaskType

log = logging.getLogger("mio_nb.journal")

JOURNAL_NAME = "journal.jsonl"

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


class Journal:
    """Append-only JSON-lines journal at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        # Events read so far, and where the file was read up to (which file, how far, how many
        # lines): every read parses only what was appended since, by this or another process.
        self._read_lock = threading.Lock()
        self._read: tuple[list[dict[str, Any]], tuple[int, int] | None, int, int] = ([], None, 0, 0)

    def __repr__(self) -> str:
        return f"<Journal {self.path}>"

    def _append(self, event: dict[str, Any], *, sync: bool = False) -> None:
        event.setdefault("time", time.time())
        line = json.dumps(event, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                if sync:
                    f.flush()
                    os.fsync(f.fileno())

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
        with self._read_lock:
            events, identity, offset, lines = self._read
            if identity != (st.st_dev, st.st_ino) or st.st_size < offset:  # a new or cut file
                events, offset, lines = [], 0, 0
            if st.st_size > offset:
                with open(self.path, "rb") as f:
                    f.seek(offset)
                    tail = f.read(st.st_size - offset)
                complete = tail.rfind(b"\n") + 1  # a line being written is read next time
                for raw in tail[:complete].splitlines():
                    lines += 1
                    line = raw.strip()
                    if not line:
                        continue
                    try:
                        events.append(json.loads(line))
                    except ValueError:  # a torn line after a crash: skip it, keep the rest
                        log.warning("Skipping unreadable line %d of %s", lines, self.path)
                offset += complete
            self._read = (events, (st.st_dev, st.st_ino), offset, lines)
            return list(events)

    def entries(self) -> list[JournalEntry]:
        """One entry per task or unconfirmed attempt, oldest first."""
        rows: dict[tuple[str, Any], dict[str, Any]] = {}
        for ev in self._events():
            kind = ev.get("event")
            server = str(ev.get("server") or "")
            attempt_key = ("attempt", ev.get("attempt"))
            if kind in ("attempt", "unconfirmed") and attempt_key not in rows:
                if kind == "unconfirmed" and ev.get("type") is None:
                    continue  # the outcome of an attempt already answered
                rows[attempt_key] = {
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
                }
            if kind == "unconfirmed":
                if attempt_key in rows:
                    rows[attempt_key]["updated_at"] = ev.get("time", 0.0)
                    message = (ev.get("error") or {}).get("message")
                    detail = f"{UNCONFIRMED_MESSAGE} ({message})" if message else None
                    rows[attempt_key]["error"] = {"message": detail or UNCONFIRMED_MESSAGE}
                continue
            if kind == "attempt":
                continue
            if kind == "refused":
                rows.pop(attempt_key, None)
                continue
            key = (server, ev.get("task_id"))
            if kind == "submitted":
                started = rows.pop(attempt_key, None) if ev.get("attempt") else None
                rows[key] = {
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
                }
                continue
            row = rows.setdefault(
                key,
                {
                    "task_id": ev.get("task_id"),
                    "type": "",
                    "status": "pending",
                    "server": server,
                    "submitted_at": ev.get("time", 0.0),
                },
            )
            row["updated_at"] = ev.get("time", 0.0)
            if kind == "done":
                row["status"] = "done"
                row["files"] = tuple(ev.get("files") or ())
                row["error"] = None
            elif kind == "failed":
                row["status"] = "failed"
                row["error"] = ev.get("error")
        entries = [JournalEntry(**row) for row in rows.values()]
        entries.sort(key=lambda e: e.submitted_at)
        return entries

    def find(self, task_id: int, server: str | None = None) -> JournalEntry | None:
        """The entry of ``task_id`` on ``server`` (or on any server if none matches)."""
        matches = [e for e in self.entries() if e.task_id == task_id]
        same = [e for e in matches if e.server == server]
        if same:
            return same[-1]
        return matches[-1] if matches and server is None else None
