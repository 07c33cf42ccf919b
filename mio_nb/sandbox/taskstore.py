"""The sandbox's task table and face parts, in SQLite under the data dir (survives restarts)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mio_nb.protocol import TaskStatus

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    params TEXT NOT NULL,
    status INTEGER NOT NULL,
    code INTEGER NOT NULL DEFAULT 200,
    message TEXT NOT NULL DEFAULT '',
    result TEXT,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS face_parts (
    part_key TEXT PRIMARY KEY,
    task_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS face_parts_task ON face_parts (task_id);
"""


@dataclass(frozen=True)
class TaskRow:
    """One task as stored. ``result`` holds the additional data with keys but no URLs."""

    id: int
    type: str
    params: dict[str, Any]
    status: int
    code: int
    message: str
    created_at: float
    finished_at: float | None
    result: Any = None


@dataclass(frozen=True)
class FacePartRow:
    part_key: str
    task_id: int
    index: int
    record: dict[str, Any]


class TaskStore:
    """Thread-safe access to the SQLite file ``<data_dir>/tasks.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._closed = False

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def create(self, task_type: str, params: dict[str, Any]) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO tasks (type, params, status, created_at) VALUES (?, ?, ?, ?)",
                (task_type, json.dumps(params), int(TaskStatus.WAITING), time.time()),
            )
            return int(cur.lastrowid)

    def get(self, task_id: int) -> TaskRow | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, type, params, status, code, message, created_at, finished_at, result"
                " FROM tasks WHERE id = ?",
                (task_id,),
            ).fetchone()
        return _row(row) if row else None

    def all(self) -> list[TaskRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, type, params, status, code, message, created_at, finished_at, result"
                " FROM tasks ORDER BY id"
            ).fetchall()
        return [_row(r) for r in rows]

    def set_processing(self, task_id: int) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE tasks SET status = ? WHERE id = ?", (int(TaskStatus.PROCESSING), task_id)
            )

    def finish(
        self,
        task_id: int,
        *,
        result: Any = None,
        code: int = 200,
        message: str = "",
        parts: list[FacePartRow] | None = None,
    ) -> None:
        """Record success (``result``) or failure (``code`` != 200) plus any face parts."""
        status = TaskStatus.SUCCESS if code == 200 else TaskStatus.FAILED
        with self._lock:
            if self._closed:
                return
            self._db.execute("BEGIN")
            try:
                for p in parts or ():
                    self._db.execute(
                        "INSERT OR REPLACE INTO face_parts (part_key, task_id, idx, record)"
                        " VALUES (?, ?, ?, ?)",
                        (p.part_key, p.task_id, p.index, json.dumps(p.record)),
                    )
                self._db.execute(
                    "UPDATE tasks SET status = ?, code = ?, message = ?, result = ?,"
                    " finished_at = ? WHERE id = ?",
                    (
                        int(status),
                        code,
                        message,
                        None if result is None else json.dumps(result),
                        time.time(),
                        task_id,
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def requeue_unfinished(self) -> list[int]:
        """Put tasks left waiting or processing (by a stop or a crash) back to waiting."""
        with self._lock:
            self._db.execute(
                "UPDATE tasks SET status = ? WHERE status = ?",
                (int(TaskStatus.WAITING), int(TaskStatus.PROCESSING)),
            )
            rows = self._db.execute(
                "SELECT id FROM tasks WHERE status = ? ORDER BY id", (int(TaskStatus.WAITING),)
            ).fetchall()
        return [int(r[0]) for r in rows]

    def last_id(self) -> int:
        """The highest task id ever given (removed tasks included), 0 before the first."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'tasks'"
            ).fetchone()
        return int(row[0]) if row else 0

    def referenced_keys(self) -> set[str]:
        """Every object key a task's result or a face part refers to."""
        with self._lock:
            results = self._db.execute("SELECT result FROM tasks WHERE result IS NOT NULL")
            keys = {k for (r,) in results.fetchall() for k in keys_in(json.loads(r))}
            keys.update(k for (k,) in self._db.execute("SELECT part_key FROM face_parts"))
        return keys

    def remove_created_before(self, cutoff: float) -> list[TaskRow]:
        """Remove the finished tasks created before ``cutoff`` (a time.time()) and their face
        parts; returns the removed tasks."""
        with self._lock:
            if self._closed:
                return []
            rows = self._db.execute(
                "SELECT id, type, params, status, code, message, created_at, finished_at, result"
                " FROM tasks WHERE created_at < ? AND status IN (?, ?)",
                (cutoff, int(TaskStatus.SUCCESS), int(TaskStatus.FAILED)),
            ).fetchall()
            if rows:
                ids = [(r[0],) for r in rows]
                self._db.execute("BEGIN")
                self._db.executemany("DELETE FROM face_parts WHERE task_id = ?", ids)
                self._db.executemany("DELETE FROM tasks WHERE id = ?", ids)
                self._db.execute("COMMIT")
        return [_row(r) for r in rows]

    def face_part(self, part_key: str) -> FacePartRow | None:
        with self._lock:
            row = self._db.execute(
                "SELECT part_key, task_id, idx, record FROM face_parts WHERE part_key = ?",
                (part_key,),
            ).fetchone()
        return FacePartRow(row[0], int(row[1]), int(row[2]), json.loads(row[3])) if row else None


def keys_in(value: Any) -> set[str]:
    """The values of every ``*_key`` field in a result (dicts and lists, nested)."""
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    if not isinstance(value, dict):
        return set()
    keys = {v for k, v in value.items() if k.endswith("_key") and isinstance(v, str)}
    for v in value.values():
        if isinstance(v, (dict, list)):
            keys |= keys_in(v)
    return keys


def _row(r: tuple[Any, ...]) -> TaskRow:
    return TaskRow(
        id=int(r[0]),
        type=r[1],
        params=json.loads(r[2]),
        status=int(r[3]),
        code=int(r[4]),
        message=r[5],
        created_at=float(r[6]),
        finished_at=None if r[7] is None else float(r[7]),
        result=None if r[8] is None else json.loads(r[8]),
    )
