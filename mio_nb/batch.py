"""Many swaps at once: ``client.batch(jobs)``, resumable, inside the API's limits.

>>> records = client.batch([("a.jpg", "me.jpg"), ("group.png", {0: "me.jpg", 2: "you.png"})])
>>> [r.status for r in records]  # doctest: +SKIP
['done', 'done']

- A job is ``(original, new_face)``, ``(original, {face index: new_face})`` (multi-face, indexes
  of ``client.detect_faces(original)``), optionally with a third item ``hd``.
- One record per job, in input order, with the result or the error; one job's error never
  stops the others.
- Resumable: every task is journaled under a fingerprint of the job's inputs (their content)
  and options. Running the same jobs again returns the results of jobs already done (from the
  saved files, without a request) and waits for tasks already submitted instead of paying twice.
- Inside the limits: when the server answers 802 the client waits as told (``Retry-After``) and
  the batch lowers its concurrency, raising it again as jobs succeed; on 801 (no credits) it
  starts no new job, records the rest as "not run" and says how to resume.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import InsufficientCreditsError, MioError
from .journal import JournalEntry
from .results import Asset, ImageResult, VideoResult
from .uploads import prepare

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger("mio_nb.batch")

Status = Literal["done", "failed", "not run"]


@dataclass(frozen=True)
class BatchJob:
    """One job: ``new_face`` is a file, or a mapping of face index -> file (multi-face)."""

    original: Any
    new_face: Any
    hd: bool = False

    @classmethod
    def coerce(cls, job: Any, hd: bool) -> BatchJob:
        if isinstance(job, BatchJob):
            return job
        if isinstance(job, tuple | list) and len(job) in (2, 3):
            return cls(job[0], job[1], bool(job[2]) if len(job) == 3 else hd)
        raise TypeError(
            f"A batch job is (original, new_face) or (original, {{face index: new_face}}), "
            f"optionally with hd as a third item; got {job!r}."
        )

    @property
    def name(self) -> str:
        """The original's name, for progress and records."""
        original = self.original
        if isinstance(original, str | Path):
            return Path(original).name
        return getattr(original, "name", None) or type(original).__name__


@dataclass(frozen=True)
class BatchRecord:
    """What became of one job: ``status`` "done" (``result``), "failed" (``error``) or
    "not run" (the batch stopped first, e.g. credits ran out). ``resumed``: the result or the
    task came from an earlier run of the same job."""

    index: int
    name: str
    status: Status
    result: ImageResult | VideoResult | None = None
    error: BaseException | None = field(default=None, repr=False)
    task_id: int | None = None
    resumed: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "done"

    def __str__(self) -> str:
        task = f" (task {self.task_id})" if self.task_id is not None else ""
        if self.result is not None:
            again = ", from an earlier run" if self.resumed else ""
            return f"#{self.index} {self.name}: done{task}{again} -> {self.result.path}"
        # One line per record: the error's hint follows its message.
        reason = f"{type(self.error).__name__}: {' '.join(str(self.error).split())}"
        reason = reason if self.error else ""
        return f"#{self.index} {self.name}: {self.status}{task} {reason}".rstrip()


def fingerprint(job: BatchJob) -> str:
    """A stable id of a job: the content of its files (or their keys) and its options."""
    digest = hashlib.sha256()
    digest.update(f"mio-nb batch v1 hd={job.hd}\n".encode())
    _digest_input(digest, job.original)
    if isinstance(job.new_face, Mapping):
        for index in sorted(job.new_face):
            digest.update(f"face {int(index)}\n".encode())
            _digest_input(digest, job.new_face[index])
    else:
        _digest_input(digest, job.new_face)
    return digest.hexdigest()[:32]


def _digest_input(digest: Any, src: Any) -> None:
    item = prepare(src, "input")
    if isinstance(item, Asset):
        digest.update(f"key {item.key}\n".encode())
        return
    digest.update(f"file {item.size}\n".encode())
    with item.open() as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)


class _Concurrency:
    """How many jobs may run at once: halved when the server rate-limits, raised by one for
    every job that finishes (AIMD, as TCP does), between 1 and ``most``."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.limit = most
        self._running = 0
        self._cond = threading.Condition()

    def __enter__(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._running < self.limit)
            self._running += 1

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._running -= 1
            if exc[0] is None:
                self.limit = min(self.most, self.limit + 1)
            self._cond.notify_all()

    def rate_limited(self, _delay: float) -> None:
        with self._cond:
            self.limit = max(1, self.limit // 2)


def run_batch(
    client: Client,
    jobs: Iterable[Any],
    *,
    workers: int = 4,
    hd: bool = False,
    progress: bool = True,
    timeout: float | None = None,
) -> list[BatchRecord]:
    """See :meth:`mio_nb.client.Client.batch`."""
    batch = [BatchJob.coerce(job, hd) for job in jobs]
    if not batch:
        return []
    stop = threading.Event()
    concurrency = _Concurrency(max(1, workers))
    # One read of the journal for the whole batch: what earlier runs did with these jobs.
    earlier: dict[str, list[JournalEntry]] = {}
    for entry in client.journal.entries():
        if entry.job and entry.server == client.base_url and entry.type != "get-face":
            earlier.setdefault(entry.job, []).append(entry)
    bar = _progress_bar(len(batch)) if progress else None

    def run(index: int, job: BatchJob) -> BatchRecord:
        try:
            if stop.is_set():
                return _not_run(index, job)
            with concurrency:
                if stop.is_set():
                    return _not_run(index, job)
                return _run_job(client, index, job, timeout, earlier)
        except InsufficientCreditsError as error:
            stop.set()
            return BatchRecord(index, job.name, "not run", error=error)
        except MioError as error:
            return BatchRecord(index, job.name, "failed", error=error, task_id=error.task_id)
        except Exception as error:  # one job's surprise must not end the batch
            log.exception("Batch job %d (%s) failed", index, job.name)
            return BatchRecord(index, job.name, "failed", error=error)
        finally:
            if bar is not None:
                bar.update(1)

    client.rate_limit_listeners.append(concurrency.rate_limited)
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="mio-batch") as ex:
            records = list(ex.map(run, range(len(batch)), batch))
    finally:
        client.rate_limit_listeners.remove(concurrency.rate_limited)
        if bar is not None:
            bar.close()
    left = sum(r.status == "not run" for r in records)
    if left:
        log.warning(
            "Credits ran out: %d of %d jobs were not run. Add credits, then run the same batch "
            "again: finished jobs are skipped and submitted ones are waited for.",
            left,
            len(records),
        )
    return records


def _not_run(index: int, job: BatchJob) -> BatchRecord:
    error = InsufficientCreditsError(
        "Not run: the batch stopped when the credits ran out.",
        hint="Add credits, then run the same batch again; finished jobs are skipped.",
    )
    return BatchRecord(index, job.name, "not run", error=error)


def _run_job(
    client: Client,
    index: int,
    job: BatchJob,
    timeout: float | None,
    earlier: Mapping[str, list[JournalEntry]],
) -> BatchRecord:
    tag = fingerprint(job)
    last = earlier[tag][-1] if tag in earlier else None
    if last is not None and last.status == "done":
        result = _saved_result(last)
        if result is not None:
            return BatchRecord(index, job.name, "done", result, task_id=last.task_id, resumed=True)
    if last is not None and last.status == "pending" and last.task_id is not None:
        result = client.task(last.task_id).wait(timeout=timeout, progress=False)
        assert isinstance(result, ImageResult | VideoResult)
        return BatchRecord(index, job.name, "done", result, task_id=last.task_id, resumed=True)
    if last is not None and last.status == "unconfirmed":
        raise MioError(
            "An earlier run sent this job but got no answer: the task may exist on the server.",
            hint="Look for it in the MioCreate console or client.history(); to submit it again "
            "anyway, remove the job's 'unconfirmed' line from the journal.",
        )
    with client.journal_tag(tag):
        if isinstance(job.new_face, Mapping):
            faces = client.detect_faces(job.original, timeout=timeout, progress=False)
            chosen = {faces[int(i)]: new for i, new in job.new_face.items()}
            task = client.submit_face_swap(job.original, chosen, faceset=faces, hd=job.hd)
        elif prepare(job.original, "original").kind == "video":
            task = client.submit_video_swap(job.original, job.new_face, hd=job.hd)
        else:
            task = client.submit_image_swap(job.original, job.new_face, hd=job.hd)
    result = task.wait(timeout=timeout, progress=False)
    assert isinstance(result, ImageResult | VideoResult)
    return BatchRecord(index, job.name, "done", result, task_id=task.id)


def _saved_result(entry: JournalEntry) -> ImageResult | VideoResult | None:
    """The result of a finished job from its saved files, or None if they are gone."""
    files = [Path(f) for f in entry.files]
    if not files or not files[0].exists() or entry.task_id is None:
        return None
    path = files[0]
    data = {"size": path.stat().st_size}
    if path.suffix.lower() in (".mp4", ".mov", ".m4v", ".webm"):
        cover = files[1] if len(files) > 1 and files[1].exists() else None
        return VideoResult.from_api(entry.task_id, data, path, cover)
    return ImageResult.from_api(entry.task_id, data, path)


def _progress_bar(total: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Swaps", unit="job")
