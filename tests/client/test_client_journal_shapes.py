"""A journal with lines of every wrong shape: each is skipped and counted, never fatal, for
history(), batch() and ``mio-nb history`` alike; a torn line never swallows the next record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mio_nb.client import Client
from mio_nb.journal import Journal
from mio_nb.protocol import TaskType
from mio_nb.sandbox import Sandbox

MALFORMED = [
    "42",
    "[]",
    '"text"',
    "null",
    "true",
    "{}",
    '{"event": "done"}',
    '{"event": "done", "task_id": "7", "server": "s"}',
    '{"event": "done", "task_id": 7, "server": "s", "files": 5}',
    '{"event": "done", "task_id": 7, "server": "s", "files": [1, 2]}',
    '{"event": "submitted", "task_id": true, "type": "face-swap", "server": "s"}',
    '{"event": "submitted", "task_id": 1e400, "type": "face-swap", "server": "s"}',
    '{"event": "submitted", "task_id": 3, "type": 5, "server": "s"}',
    '{"event": "submitted", "task_id": 3, "type": "face-swap", "server": ["s"]}',
    '{"event": "submitted", "task_id": 3, "type": "face-swap", "server": "s", "inputs": 5}',
    '{"event": "attempt", "attempt": 12, "type": "face-swap", "server": "s"}',
    '{"event": "failed", "task_id": 3, "server": "s", "error": "boom"}',
    '{"event": "failed", "task_id": 3, "server": "s", "error": {"code": "x"}}',
    '{"event": "done", "task_id": 3, "server": "s", "time": 1e400}',
    '{"event": "launch", "task_id": 3, "server": "s"}',
    '{"event": "unconfirmed", "server": "s"}',
    "[" * 100_000 + "]" * 100_000,  # deeper than the JSON parser's recursion
    '{"event": "submitted", "task_id": 3, "ty',  # torn
    "\udcff\udcfe not utf-8",
]


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        for line in lines:
            f.write(line + "\n")


def _good(task_id: int, server: str = "s") -> str:
    return json.dumps(
        {
            "event": "submitted",
            "task_id": task_id,
            "type": "face-swap",
            "server": server,
            "inputs": {},
            "params": {},
            "time": 1.0 + task_id,
        }
    )


@pytest.mark.parametrize("line", MALFORMED, ids=range(len(MALFORMED)))
def test_each_malformed_line_is_skipped_and_counted(tmp_path: Path, line: str) -> None:
    path = tmp_path / "journal.jsonl"
    _write(path, [_good(1), line, _good(2)])
    history = Journal(path).entries()
    assert [e.task_id for e in history] == [1, 2]
    assert history.skipped == 1


def test_history_and_batch_run_with_every_shape_at_once(
    sandbox: Sandbox, tmp_path: Path, media: dict[str, Path]
) -> None:
    out = tmp_path / "out"
    _write(out / "journal.jsonl", [_good(1), *MALFORMED, _good(2)])
    with Client.for_sandbox(sandbox, output_dir=out, progress=False) as client:
        history = client.history()
        assert [e.task_id for e in history] == [1, 2]
        assert history.skipped == len(MALFORMED)
        records = client.batch([(media["jpg"], media["png"])], progress=False)
        assert [r.status for r in records] == ["done"]
        assert client.history().skipped == len(MALFORMED)


def test_the_history_command_says_how_many_lines_it_skipped(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write(out / "journal.jsonl", [_good(1), *MALFORMED[:5]])
    run = subprocess.run(
        [sys.executable, "-m", "mio_nb.cli", "history", "--output-dir", str(out)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "skipped 5" in run.stderr


@pytest.mark.parametrize("tail", ['{"event": "done", "task_id"', '{"ev', "{", '"'])
def test_a_torn_last_line_never_swallows_the_next_record(tmp_path: Path, tail: str) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text(_good(1) + "\n" + tail)
    journal = Journal(path)
    attempt = journal.attempt(TaskType.FACE_SWAP, "s", {"original": {"name": "a.jpg"}}, {})
    entries = journal.entries()
    assert [e.attempt for e in entries if e.status == "unconfirmed"] == [attempt]
    assert entries.skipped == 1


def test_concurrent_appends_from_processes_stay_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    script = (
        "import sys; from pathlib import Path; from mio_nb.journal import Journal;"
        "from mio_nb.protocol import TaskType; j = Journal(Path(sys.argv[1]));"
        "[j.attempt(TaskType.FACE_SWAP, 's', {'pad': 'x' * 5000}, {}) for _ in range(100)]"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path)], env=dict(os.environ))
        for _ in range(4)
    ]
    for p in procs:
        assert p.wait(60) == 0
    entries = Journal(path).entries()
    assert len(entries) == 400
    assert entries.skipped == 0
