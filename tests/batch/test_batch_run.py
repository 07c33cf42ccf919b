"""client.batch: records in order, errors kept per job, resumable, inside the API's limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mio_nb import samples
from mio_nb.client import Client
from mio_nb.errors import (
    InsufficientCreditsError,
    MissingFileError,
    NoFaceError,
    TaskTimeoutError,
    UnsupportedFormatError,
)
from mio_nb.results import ImageResult
from mio_nb.sandbox import Faults, Sandbox


def swap_rows(sb: Sandbox) -> list:
    """The sandbox's swap tasks (not get-face)."""
    return [t for t in sb.tasks() if t.type != "get-face"]


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(port=0, data_dir=tmp_path_factory.mktemp("batch-real"), engine="real") as sb:
        yield sb


def test_mixed_good_and_bad_jobs_each_get_their_record_in_input_order(
    real: Sandbox, photos: list[Path], tmp_path: Path
) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    jobs = [
        (photos[0], photos[1]),
        (samples.no_face(), photos[1]),  # the server finds no face: 602
        (tmp_path / "missing.jpg", photos[1]),  # refused before any request
        (text, photos[1]),  # not a supported format, whatever its name says
        (photos[2], photos[3]),
    ]
    with Client.for_sandbox(real, output_dir=tmp_path / "out", progress=False) as client:
        records = client.batch(jobs, workers=3, progress=False)
    assert [r.index for r in records] == [0, 1, 2, 3, 4]
    assert [r.status for r in records] == ["done", "failed", "failed", "failed", "done"], [
        str(r.error) for r in records
    ]
    assert isinstance(records[1].error, NoFaceError) and records[1].task_id is not None
    assert isinstance(records[2].error, MissingFileError)
    assert isinstance(records[3].error, UnsupportedFormatError)
    for record in (records[0], records[4]):
        assert isinstance(record.result, ImageResult) and record.result.path.exists()
    assert "missing.jpg" in str(records[2]) and "done" in str(records[0])


def test_an_interrupted_batch_resumes_without_paying_twice(
    sb: Sandbox, client: Client, photos: list[Path]
) -> None:
    jobs = [(photos[i], photos[i + 1]) for i in range(0, 8, 2)]
    before = len(swap_rows(sb))
    sb.set_faults(Faults(task_seconds=1.5))
    first = client.batch(jobs, workers=4, progress=False, timeout=0.3)
    assert all(isinstance(r.error, TaskTimeoutError) for r in first)
    assert len(swap_rows(sb)) == before + len(jobs)

    second = client.batch(jobs, workers=4, progress=False)
    assert [r.status for r in second] == ["done"] * len(jobs)
    assert all(r.resumed for r in second)
    assert [r.task_id for r in second] == [r.task_id for r in first]
    assert len(swap_rows(sb)) == before + len(jobs)  # waited for, not submitted again

    requests = client.request_count
    third = client.batch(jobs, workers=4, progress=False)
    assert [r.result.path for r in third] == [r.result.path for r in second]
    assert client.request_count == requests  # finished jobs come from the saved files


def test_rate_limited_batch_backs_off_and_finishes_every_job(
    sb: Sandbox, client: Client, photos: list[Path]
) -> None:
    jobs = [(photos[i], photos[(i + 1) % 8]) for i in range(6)]
    before = len(swap_rows(sb))
    waits: list[float] = []
    client.rate_limit_listeners.append(waits.append)
    sb.set_faults(Faults(rate_limit_per_minute=12, rate_limit_window=2.0))
    records = client.batch(jobs, workers=4, progress=False)
    assert [r.status for r in records] == ["done"] * len(jobs)
    assert waits, "the sandbox never rate-limited: the test proves nothing"
    assert all(0 < w <= 2 for w in waits)  # Retry-After honoured, not a long blind backoff
    assert len(swap_rows(sb)) == before + len(jobs)


def test_credits_running_out_stop_the_batch_cleanly_and_it_resumes(
    sb: Sandbox, client: Client, photos: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    jobs = [(photos[i], photos[(i + 3) % 8]) for i in range(6)]
    before = len(swap_rows(sb))
    sb.set_faults(Faults(credits=3))
    first = client.batch(jobs, workers=1, progress=False)
    assert [r.status for r in first] == ["done"] * 3 + ["not run"] * 3
    assert all(isinstance(r.error, InsufficientCreditsError) for r in first[3:])
    assert "3 of 6 jobs were not run" in caplog.text
    assert len(swap_rows(sb)) == before + 3

    sb.set_faults(Faults())  # credits bought
    second = client.batch(jobs, workers=2, progress=False)
    assert [r.status for r in second] == ["done"] * 6
    assert [r.resumed for r in second] == [True] * 3 + [False] * 3
    assert len(swap_rows(sb)) == before + 6


def test_a_multi_face_job_swaps_the_chosen_faces(
    sb: Sandbox, client: Client, photos: list[Path]
) -> None:
    group = samples.group_photo(faces=3)
    (record,) = client.batch([(group, {0: photos[1], 2: photos[3]})], progress=False)
    assert record.ok, record
    row = swap_rows(sb)[-1]
    assert row.type == "multiple-face-swap" and len(row.params["pairs"]) == 2
