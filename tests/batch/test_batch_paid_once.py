"""Nothing paid twice, whatever happens: several processes and a notebook on one journal, every
spelling of one server, a torn journal tail and a kill -9 during the POST. Each test counts the
tasks in the sandbox's task table."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mio_nb.client import Client
from mio_nb.sandbox import Faults, Sandbox

RUN_BATCH = """
import json, sys
from mio_nb.client import Client
base, token, out, jobs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
with Client(base_url=base, token=token, output_dir=out, progress=False) as client:
    records = client.batch([tuple(j) for j in jobs], workers=3, progress=False)
print(json.dumps([[r.status, r.task_id] for r in records]))
"""


def _spellings(base_url: str) -> list[str]:
    """Other ways of writing the same server."""
    scheme, rest = base_url.split("://")
    host, port = rest.split(":")
    return [
        base_url,
        f"{scheme.upper()}://{host}:{port}/",
        f"{scheme}://{host}:0{port}",
        f"{scheme}://{host}:{port}/v1/..",
        f"{scheme}://{host}:{port}/./",
        f"{scheme}://{host}:00{port}//",
    ]


def _start(base: str, token: str, out: Path, jobs: list[list[str]]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", RUN_BATCH, base, token, str(out), json.dumps(jobs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),  # PYTHONPATH: this worktree's code
    )


def _jobs(photos: list[Path], n: int) -> list[list[str]]:
    return [[str(photos[i]), str(photos[(i + 3) % len(photos)])] for i in range(n)]


@pytest.mark.parametrize(
    ("processes", "stagger", "spelled"),
    [(3, 0.0, False), (4, 0.3, False), (3, 0.0, True), (3, 1.0, True)],
    ids=["3-together", "4-staggered", "3-spellings", "3-spellings-staggered"],
)
def test_processes_and_a_notebook_on_one_journal_pay_each_job_once(
    sb: Sandbox, photos: list[Path], tmp_path: Path, processes: int, stagger: float, spelled: bool
) -> None:
    sb.set_faults(Faults(task_seconds=0.4))
    before = {row.id for row in sb.tasks()}
    out = tmp_path / "shared"
    jobs = _jobs(photos, 6)
    spellings = _spellings(sb.base_url) if spelled else [sb.base_url]
    procs = []
    notebook: dict[str, object] = {}

    def in_process() -> None:  # the notebook: a client in this process, same folder, same jobs
        with Client.for_sandbox(sb, output_dir=out, progress=False) as client:
            notebook["records"] = client.batch([tuple(j) for j in jobs], progress=False)

    thread = threading.Thread(target=in_process)
    thread.start()
    for i in range(processes):
        procs.append(_start(spellings[i % len(spellings)], sb.token, out, jobs))
        time.sleep(stagger)
    results = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    thread.join(120)
    new = [row for row in sb.tasks() if row.id not in before]
    assert len(new) == len(jobs), f"{len(new)} tasks for {len(jobs)} jobs: {new}"
    ids = {row.id for row in new}
    for records in results:
        assert [status for status, _ in records] == ["done"] * len(jobs)
        assert {task for _, task in records} == ids  # every run saw the same tasks
    assert [r.status for r in notebook["records"]] == ["done"] * len(jobs)  # type: ignore[attr-defined]


def test_every_spelling_of_a_server_that_is_no_sandbox_is_one_server(
    tmp_path: Path, photos: list[Path]
) -> None:
    """A sandbox on 127.0.0.2 is "not a sandbox" to the client (its identity is its URL): a
    finished batch run again under every other spelling pays nothing."""
    with Sandbox(port=0, data_dir=tmp_path / "sb", engine="instant", host="127.0.0.2") as other:
        out = tmp_path / "out"
        jobs = [tuple(j) for j in _jobs(photos, 3)]
        ids: set[str] = set()
        for base in _spellings(other.base_url):
            with Client(base_url=base, token=other.token, output_dir=out, progress=False) as c:
                ids.add(c.server_id)
                records = c.batch(jobs, progress=False)
                assert [r.status for r in records] == ["done"] * 3
        assert len(other.tasks()) == 3
        assert ids == {other.base_url}
        # The result names carry one server tag.
        saved = {p.name.split("-swap-")[1].split("-")[0] for p in out.glob("*-swap-*")}
        assert len(saved) == 1


@pytest.mark.parametrize("spelling", range(7))
def test_never_retry_holds_for_every_spelling_of_the_base_url(
    sb: Sandbox, media_pair: tuple[Path, Path], tmp_path: Path, spelling: int
) -> None:
    """The server creates the task, then answers 500: one call, one task, whatever the URL."""
    from mio_nb.errors import ServerError

    base = [*_spellings(sb.base_url), sb.base_url.replace("127.0.0.1", "LOCALHOST")][spelling]
    sb.set_faults(Faults(error_rate=1.0, fault_phase="after", only_paths=("/v1/task/face-swap",)))
    before = len(sb.tasks())
    with Client(base_url=base, token=sb.token, output_dir=tmp_path, progress=False) as client:
        with pytest.raises(ServerError) as caught:
            client.swap_image(*media_pair)
        assert caught.value.task_may_exist
        assert [e.status for e in client.history()] == ["unconfirmed"]
    assert len(sb.tasks()) == before + 1


def test_torn_tail_then_kill_during_post_then_rerun_pays_once(
    sb: Sandbox, photos: list[Path], tmp_path: Path
) -> None:
    """A journal cut mid-line; a run killed (-9) while its POST is at the server; a rerun:
    the attempt was recorded (not swallowed by the torn line), so the rerun pays nothing."""
    out = tmp_path / "out"
    out.mkdir()
    journal = out / "journal.jsonl"
    journal.write_text('{"event": "submitted", "task_id": 9, "type": "face-sw')  # torn
    jobs = _jobs(photos, 1)
    before = len(sb.tasks())
    sb.set_faults(Faults(latency=30.0, only_paths=("/v1/task/face-swap",), fault_phase="after"))
    proc = _start(sb.base_url, sb.token, out, jobs)
    deadline = time.monotonic() + 60
    while len(sb.tasks()) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sb.tasks()) == before + 1  # the task exists; its answer is held back
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    sb.set_faults(Faults())
    lines = journal.read_text().splitlines()
    assert any('"event": "attempt"' in line and line.startswith("{") for line in lines)
    with Client.for_sandbox(sb, output_dir=out, progress=False) as client:
        records = client.batch([tuple(j) for j in jobs], progress=False)
        assert records[0].status == "failed" and "no answer" in str(records[0].error)
        assert client.history().skipped == 1  # the torn line, counted
    assert len(sb.tasks()) == before + 1


@pytest.fixture
def media_pair(photos: list[Path]) -> tuple[Path, Path]:
    return photos[0], photos[1]
