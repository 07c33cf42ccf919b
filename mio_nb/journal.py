"""The task journal: every task submitted, its inputs and saved result, in the output folder.

One JSON object per line in ``<output_dir>/journal.jsonl``, appended as things happen (submitted,
unconfirmed, done, failed), so a kernel restart loses nothing: ``client.history()`` folds the
lines into one :class:`JournalEntry` per task and ``client.task(id).wait()`` resumes a pending one.
Appends are single ``write`` calls of one line, so several clients can share a folder.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger("mio_nb.journal")

JOURNAL_NAME = "journal.jsonl"

State = Literal["pending", "done", "failed", "unconfirmed"]


@dataclass(frozen=True)
class JournalEntry:
    """One task as recorded in the journal.

    ``status``: "pending" (submitted, no result saved yet), "done" (``files`` saved), "failed"
    (``error``), or "unconfirmed" (the create request may have reached the server but no task id
    came back; ``task_id`` is None).
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


class Journal:
    """Append-only JSON-lines journal at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Journal {self.path}>"

    def _append(self, event: dict[str, Any]) -> None:
        event.setdefault("time", time.time())
        line = json.dumps(event, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)

    def submitted(
        self,
        task_id: int,
        type: str,
        server: str,
        inputs: dict[str, Any],
        params: dict[str, Any],
        job: str | None = None,
    ) -> None:
        self._append(
            {
                "event": "submitted",
                "task_id": task_id,
                "type": type,
                "server": server,
                "inputs": inputs,
                "params": params,
                "job": job,
            }
        )

    def unconfirmed(
        self,
        type: str,
        server: str,
        inputs: dict[str, Any],
        params: dict[str, Any],
        message: str,
        job: str | None = None,
    ) -> None:
        self._append(
            {
                "event": "unconfirmed",
                "attempt": uuid.uuid4().hex,
                "type": type,
                "server": server,
                "inputs": inputs,
                "params": params,
                "error": {"message": message},
                "job": job,
            }
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
        if not self.path.exists():
            return []
        events = []
        with open(self.path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    events.append(json.loads(line))
                except ValueError:  # a torn last line after a crash: skip it, keep the rest
                    log.warning("Skipping unreadable line %d of %s", n, self.path)
        return events

    def entries(self) -> list[JournalEntry]:
        """One entry per task, oldest first."""
        rows: dict[tuple[str, Any], dict[str, Any]] = {}
        for ev in self._events():
            kind = ev.get("event")
            server = str(ev.get("server") or "")
            if kind == "unconfirmed":
                rows[("attempt", ev.get("attempt"))] = {
                    "task_id": None,
                    "type": ev.get("type", ""),
                    "status": "unconfirmed",
                    "server": server,
                    "submitted_at": ev.get("time", 0.0),
                    "updated_at": ev.get("time", 0.0),
                    "inputs": ev.get("inputs") or {},
                    "params": ev.get("params") or {},
                    "error": ev.get("error"),
                    "attempt": ev.get("attempt"),
                    "job": ev.get("job"),
                }
                continue
            key = (server, ev.get("task_id"))
            if kind == "submitted":
                rows[key] = {
                    "task_id": ev.get("task_id"),
                    "type": ev.get("type", ""),
                    "status": "pending",
                    "server": server,
                    "submitted_at": ev.get("time", 0.0),
                    "updated_at": ev.get("time", 0.0),
                    "inputs": ev.get("inputs") or {},
                    "params": ev.get("params") or {},
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
