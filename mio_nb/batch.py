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
  A job that failed for a reason a rerun cannot change (no face, several faces, a refused or
  unreadable file: :data:`FINAL_CODES`) or whose earlier request went unanswered (the task may
  exist) is reported again, not paid again, unless ``retry_failed=True`` (``--retry-failed``).
- Identical jobs in one batch (same files, same options) run once and share the result.
- Several runs at once (processes, notebooks, threads on one output folder) pay each job once:
  a job is decided and its task created under the journal's exclusive claim of the job
  (:meth:`mio_nb.journal.Journal.claim`), and the journal is read again once the claim is held,
  so a run that waited finds the other run's task and waits for it (or reuses its result).
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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import InsufficientCreditsError, MioError, error_for
from .formats import VIDEO_SUFFIXES
from .journal import JournalEntry
from .preflight import check_hd
from .protocol import Code, TaskType
from .results import Asset, FaceSet, ImageResult, VideoResult
from .uploads import prepare

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger("mio_nb.batch")

Status = Literal["done", "failed", "not run"]

#: Codes of failures that running the same job again cannot change: not paid again on a rerun
#: unless asked (no face, several faces, content policy, unreadable/unsupported/too large file).
FINAL_CODES = frozenset(
    {
        Code.NO_FACE,
        Code.MULTIPLE_FACES,
        Code.FILE_POLICY,
        Code.TARGET_POLICY,
        Code.FILE_ERROR,
        Code.UNSUPPORTED_FORMAT,
        Code.FILE_TOO_LARGE,
    }
)


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
            return cls(job[0], job[1], check_hd(job[2]) if len(job) == 3 else check_hd(hd))
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
    #: The index of an identical job of the same batch whose task this record shares.
    same_as: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "done"

    def __str__(self) -> str:
        task = f" (task {self.task_id})" if self.task_id is not None else ""
        if self.result is not None:
            again = ", from an earlier run" if self.resumed else ""
            if self.same_as is not None:
                again += f", same job as #{self.same_as}"
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
    retry_failed: bool = False,
) -> list[BatchRecord]:
    """See :meth:`mio_nb.client.Client.batch`."""
    batch = [BatchJob.coerce(job, hd) for job in jobs]
    if not batch:
        return []
    # Every input is checked (and fingerprinted) before the first request.
    tags: list[str | None] = []
    records: list[BatchRecord | None] = []
    for index, job in enumerate(batch):
        try:
            tags.append(fingerprint(job))
            records.append(None)
        except MioError as error:
            tags.append(None)
            records.append(BatchRecord(index, job.name, "failed", error=error))
    first_of: dict[str, int] = {}
    for index, tag in enumerate(tags):
        if tag is not None:
            first_of.setdefault(tag, index)
    todo = [i for i, tag in enumerate(tags) if tag is not None and first_of[tag] == i]
    stop = threading.Event()
    interrupted = threading.Event()  # Ctrl-C or SIGTERM: the workers stop waiting
    concurrency = _Concurrency(max(1, workers))
    server = client.server_id if todo else ""
    bar = _progress_bar(len(batch)) if progress else None

    def run(index: int) -> BatchRecord:
        job, tag = batch[index], tags[index]
        assert tag is not None
        try:
            if stop.is_set() or interrupted.is_set():
                return _not_run(index, job)
            with concurrency:
                if stop.is_set():
                    return _not_run(index, job)
                with client.journal.claim(tag, cancelled=stop.is_set):
                    # Read with the claim held: what this and every other run did with the job.
                    earlier = client.journal.entries_of_job(tag, server)
                    return _run_job(
                        client, index, job, tag, timeout, earlier, retry_failed, interrupted
                    )
        except TimeoutError:  # stopped while another run held the job
            return _not_run(index, job)
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
            try:
                for index, record in zip(todo, ex.map(run, todo), strict=True):
                    records[index] = record
            except KeyboardInterrupt:
                interrupted.set()  # workers stop waiting; their tasks stay in the journal
                stop.set()
                raise
    finally:
        client.rate_limit_listeners.remove(concurrency.rate_limited)
        if bar is not None:
            bar.update(len(batch) - len(todo))
            bar.close()
    out: list[BatchRecord] = []
    for index, maybe in enumerate(records):
        if maybe is None:  # an identical job ran already: share its outcome
            tag = tags[index]
            assert tag is not None
            shared = records[first_of[tag]]
            assert shared is not None
            maybe = replace(shared, index=index, name=batch[index].name, same_as=first_of[tag])
        out.append(maybe)
    left = sum(r.status == "not run" for r in out)
    if left:
        log.warning(
            "Credits ran out: %d of %d jobs were not run. Add credits, then run the same batch "
            "again: finished jobs are skipped and submitted ones are waited for.",
            left,
            len(out),
        )
    return out


def _not_run(index: int, job: BatchJob) -> BatchRecord:
    error = InsufficientCreditsError(
        "Not run: the batch stopped when the credits ran out.",
        hint="Add credits, then run the same batch again; finished jobs are skipped.",
    )
    return BatchRecord(index, job.name, "not run", error=error)


def _best(entries: list[JournalEntry]) -> JournalEntry | None:
    """The entry that says most about a job: done, else pending, else the latest."""
    for status in ("done", "pending"):
        found = [e for e in entries if e.status == status and e.task_id is not None]
        if found:
            return found[-1]
    return entries[-1] if entries else None


def _not_again(entry: JournalEntry, retry_failed: bool) -> MioError | None:
    """The error to report instead of paying again for a job whose ``entry`` failed for good or
    went unanswered; None when it may run again."""
    if retry_failed:
        return None
    if entry.status == "unconfirmed":
        return MioError(
            f"An earlier run sent this job ({entry.type}, {entry.when}) and got no answer: the "
            "task may exist on the server (and be charged).",
            hint="Check client.history() and your MioCreate task list; to submit it again "
            "anyway, run the batch with retry_failed=True (mio-nb batch --retry-failed).",
        )
    code = (entry.error or {}).get("code")
    if entry.status == "failed" and code in FINAL_CODES:
        message = (entry.error or {}).get("message") or "failed"
        error = error_for(code, f"Failed in an earlier run: {message}", task_id=entry.task_id)
        error.hint = (
            f"{error.hint} Running it again would fail the same way, so it was not paid for "
            "again; to retry anyway, pass retry_failed=True (mio-nb batch --retry-failed)."
        )
        return error
    return None


def _run_job(
    client: Client,
    index: int,
    job: BatchJob,
    tag: str,
    timeout: float | None,
    earlier: list[JournalEntry],
    retry_failed: bool,
    interrupted: threading.Event,
) -> BatchRecord:
    detections = [e for e in earlier if e.type == TaskType.GET_FACE]
    swaps = [e for e in earlier if e.type != TaskType.GET_FACE]
    last = _best(swaps)
    if last is not None and last.task_id is not None and last.status in ("done", "pending"):
        result = _saved_result(last) if last.status == "done" else None
        if result is None:  # pending, or its files are gone: wait / fetch again, never re-pay
            result = _swap_result(
                client.task(last.task_id).wait(timeout=timeout, progress=False, stop=interrupted)
            )
        return BatchRecord(index, job.name, "done", result, task_id=last.task_id, resumed=True)
    if last is not None and (error := _not_again(last, retry_failed)) is not None:
        return BatchRecord(index, job.name, "failed", error=error, task_id=last.task_id)
    if isinstance(job.new_face, Mapping):
        faces = _faces_of(client, job, tag, timeout, _best(detections), retry_failed, interrupted)
        chosen = {faces[int(i)]: new for i, new in job.new_face.items()}
        task = client.submit_face_swap(job.original, chosen, faceset=faces, hd=job.hd, tag=tag)
    else:
        task = client.submit_swap(job.original, job.new_face, hd=job.hd, tag=tag)
    result = _swap_result(task.wait(timeout=timeout, progress=False, stop=interrupted))
    return BatchRecord(index, job.name, "done", result, task_id=task.id)


def _faces_of(
    client: Client,
    job: BatchJob,
    tag: str,
    timeout: float | None,
    detection: JournalEntry | None,
    retry_failed: bool,
    interrupted: threading.Event,
) -> FaceSet:
    """The faces of a multi-face job's original: from its earlier detection when there is one
    (done or still running: nothing paid twice), else from a new one."""
    resumable = detection is not None and detection.status in ("done", "pending")
    if detection is not None and detection.task_id is not None and resumable:
        faces = client.task(detection.task_id).wait(
            timeout=timeout, progress=False, stop=interrupted
        )
        assert isinstance(faces, FaceSet)
        return faces
    if detection is not None and (error := _not_again(detection, retry_failed)) is not None:
        raise error
    faces = client.submit_detect_faces(job.original, tag=tag).wait(
        timeout, progress=False, stop=interrupted
    )
    assert isinstance(faces, FaceSet)
    return faces


def _swap_result(result: Any) -> ImageResult | VideoResult:
    if not isinstance(result, ImageResult | VideoResult):
        raise MioError(f"Expected a swapped image or video, got {type(result).__name__}.")
    return result


def _saved_result(entry: JournalEntry) -> ImageResult | VideoResult | None:
    """The result of a finished job from its saved files, or None if they are gone."""
    files = [Path(f) for f in entry.files]
    if not files or not files[0].exists() or entry.task_id is None:
        return None
    path = files[0]
    data = {"size": path.stat().st_size}
    if path.suffix.lower() in VIDEO_SUFFIXES:
        cover = files[1] if len(files) > 1 and files[1].exists() else None
        return VideoResult.from_api(entry.task_id, data, path, cover)
    return ImageResult.from_api(entry.task_id, data, path)


def _progress_bar(total: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Swaps", unit="job")
