"""client.batch pays for nothing twice: identical jobs, failures that cannot change, a multi-face
job interrupted after its detection, and a batch process killed with -9. Counted in the
sandbox's task table."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import requests

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.batch import BatchJob, fingerprint
from mio_nb.client import Client
from mio_nb.errors import NoFaceError
from mio_nb.results import FaceSet, ImageResult
from mio_nb.sandbox import Faults, Sandbox


def _duplicates(sb: Sandbox, since: int) -> int:
    """Swap tasks (after id ``since``) made for the same job as an earlier one: the same
    original and new face by content (each upload has its own key)."""

    def content(key: str) -> str:
        resp = requests.get(sb.presign(key), timeout=30)
        resp.raise_for_status()
        return hashlib.sha256(resp.content).hexdigest()

    jobs = Counter(
        (row.type, content(row.params["main_key"]), content(row.params["target_key"]))
        for row in sb.tasks()
        if row.id > since and row.type == "face-swap"
    )
    return sum(n - 1 for n in jobs.values())


def _last_id(sb: Sandbox) -> int:
    return max((row.id for row in sb.tasks()), default=0)


def test_identical_jobs_in_one_batch_run_once_and_share_the_result(
    sb: Sandbox, client: Client, photos: list[Path]
) -> None:
    since = _last_id(sb)
    jobs = [(photos[0], photos[1]), (str(photos[0]), photos[1]), (photos[2], photos[1])]
    records = client.batch(jobs, workers=3, progress=False)
    assert [r.status for r in records] == ["done"] * 3
    assert records[1].same_as == 0 and records[1].result == records[0].result
    assert "same job as #0" in str(records[1])
    assert len([r for r in sb.tasks() if r.id > since]) == 2


def test_a_failure_that_cannot_change_is_not_paid_again_unless_asked(
    sb: Sandbox, client: Client, photos: list[Path]
) -> None:
    # The instant engine detects faces only for get-face: a multi-face job on a photo with no
    # face fails its detection with 602, which no rerun can change.
    jobs = [(samples.no_face(), {0: photos[1]}), (photos[3], photos[1])]
    since = _last_id(sb)
    first = client.batch(jobs, progress=False)
    assert isinstance(first[0].error, NoFaceError) and first[1].ok
    made = len([r for r in sb.tasks() if r.id > since])
    assert made == 2

    second = client.batch(jobs, progress=False)
    assert isinstance(second[0].error, NoFaceError) and second[0].task_id == first[0].task_id
    assert "earlier run" in str(second[0].error) and "retry_failed" in str(second[0].error)
    assert second[1].resumed
    assert len([r for r in sb.tasks() if r.id > since]) == made  # nothing paid again

    third = client.batch(jobs, progress=False, retry_failed=True)
    assert isinstance(third[0].error, NoFaceError) and third[0].task_id != first[0].task_id
    assert len([r for r in sb.tasks() if r.id > since]) == made + 1  # asked for: paid once more


def test_a_multi_face_job_interrupted_after_its_detection_resumes_from_it(
    sb: Sandbox, client: Client, photos: list[Path]
) -> None:
    group = samples.group_photo(faces=3)
    job = (group, {0: photos[1], 2: photos[3]})
    tag = fingerprint(BatchJob.coerce(job, False))
    since = _last_id(sb)
    sb.set_faults(Faults(task_seconds=1.0))
    # What an interrupted run left: the detection submitted under the job's tag, then nothing.
    detection = client.submit_detect_faces(group, tag=tag)
    (pending,) = client.pending()
    assert pending.id == detection.id

    (record,) = client.batch([job], progress=False)
    assert record.ok, record
    assert isinstance(record.result, ImageResult) and "-swap-" in record.result.path.name
    rows = [r for r in sb.tasks() if r.id > since]
    assert [r.type for r in rows] == ["get-face", "multiple-face-swap"]  # one detection
    assert rows[1].params["get_face_id"] == detection.id

    (again,) = client.batch([job], progress=False)
    assert again.resumed and again.result is not None
    assert again.result.path == record.result.path
    assert len([r for r in sb.tasks() if r.id > since]) == 2
    faces = client.task(detection.id).wait(timeout=10)
    assert isinstance(faces, FaceSet) and len(faces) == 3


def _journal_events(out: Path) -> list[dict]:
    path = out / "journal.jsonl"
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            events.append(json.loads(line))
    return events


def test_kill_9_of_a_batch_with_slow_answers_then_a_rerun_pays_nothing_twice(
    sb: Sandbox, photos: list[Path], tmp_path: Path
) -> None:
    originals = []
    for i in range(12):  # twelve distinct originals (the photos, with bytes appended)
        path = tmp_path / f"o{i}.jpg"
        path.write_bytes(photos[i % 8].read_bytes() + bytes(i // 8 + 1))
        originals.append(path)
    (tmp_path / "jobs.csv").write_text(
        "original,new_face\n" + "".join(f"{p.name},{photos[7]}\n" for p in originals)
    )
    out = tmp_path / "out"
    since = _last_id(sb)
    # Every task is created at once but its answer takes 2 s: a kill lands between the two.
    sb.set_faults(Faults(latency=2.0, fault_phase="after", only_paths=(P.FACE_SWAP_PATH,)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIOCREATE_")}
    command = [sys.executable, "-m", "mio_nb.cli", "batch", "jobs.csv", "-o", str(out)]
    command += ["--workers", "4", "--base-url", sb.base_url, "--token", sb.token]
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill once some tasks are answered, others not
            events = _journal_events(out)
            answered = sum(e["event"] == "submitted" for e in events)
            if answered >= 2 and len(sb.tasks()) - since > answered:
                break
            time.sleep(0.05)
        proc.kill()  # SIGKILL: no handler runs, no line is written after this
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    sb.set_faults(Faults())
    made_before_kill = len([r for r in sb.tasks() if r.id > since])
    assert 0 < made_before_kill < 12

    with Client.for_sandbox(sb, output_dir=out, progress=False) as client:
        unconfirmed = [e for e in client.history() if e.status == "unconfirmed"]
        assert unconfirmed, "the kill landed when no answer was missing: the test proves nothing"
        records = client.batch([(p, photos[7]) for p in originals], workers=4, progress=False)
        assert _duplicates(sb, since) == 0  # nothing paid twice
        rows = [r for r in sb.tasks() if r.id > since]
        known = {e.task_id for e in client.history() if e.task_id is not None}
        # Nothing lost: every task the journal cannot name is one of its unconfirmed attempts
        # (an attempt killed before it was sent made no task at all).
        unnamed = [r for r in rows if r.id not in known]
        assert len(unnamed) <= len(unconfirmed)
        assert len(rows) == 12 - len(unconfirmed) + len(unnamed)
        failed = [r for r in records if not r.ok]
        assert len(failed) == len(unconfirmed)  # reported, not paid again
        assert all("got no answer" in str(r.error) for r in failed)
        assert sum(r.ok for r in records) == 12 - len(unconfirmed)

        # Asked to, the rerun pays again exactly for the unconfirmed attempts.
        retried = client.batch(
            [(p, photos[7]) for p in originals], workers=4, progress=False, retry_failed=True
        )
        assert all(r.ok for r in retried)
        assert _duplicates(sb, since) == len(unnamed) <= len(unconfirmed)
