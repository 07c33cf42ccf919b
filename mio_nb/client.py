"""The synchronous MioCreate Face Swap client.

>>> from mio_nb import Client
>>> client = Client()                                  # MIOCREATE_TOKEN, or client credentials
>>> result = client.swap_image("photo.jpg", "me.jpg")  # saved to ./mio_outputs/, then returned
>>> faces = client.detect_faces("group.jpg")
>>> client.swap_faces("group.jpg", {faces[0]: "me.jpg", faces[2]: "you.png"})

Every swap also has a ``submit_*`` form returning a :class:`~mio_nb.tasks.Task`. Everything that
can be checked (files decode, arguments in range, the output folder writable) is checked before
the first request. Every task-creating request is recorded in the output folder's journal before
it is sent (``client.history()``), so neither a kernel restart nor Ctrl-C nor a crash loses a paid
task: ``client.pending()`` and ``client.task(task_id).wait()`` pick tasks up again, also after
the sandbox restarted on another port (the journal knows a server by ``client.server_id``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import protocol
from .backend import is_local
from .credentials import ENV_BASE_URL, Credentials, resolve_auth_scheme
from .errors import BadRequestError, InvalidArgumentError, MioError, ServerError
from .journal import JOURNAL_NAME, Journal, JournalEntry
from .preflight import check_hd, check_output_dir, check_request_timeout, check_timeout
from .protocol import TaskType
from .recording import Recorder, open_recorder
from .results import Asset, Face, FaceSet, ImageResult, VideoResult
from .saver import Saver, server_tag
from .tasks import Task, TaskContext
from .transport import RetryConfig, Transport
from .uploads import Prepared, Source, prepare, require_kind, upload_source

if TYPE_CHECKING:
    from .batch import BatchRecord
    from .sandbox import Sandbox

log = logging.getLogger("mio_nb.client")

DEFAULT_OUTPUT_DIR = "mio_outputs"
MAX_PARALLEL_UPLOADS = 4


class Client:
    """A client of the MioCreate Face Swap API (or of the local sandbox).

    Credentials: ``token`` or ``client_id``/``client_secret`` (+ ``token_url``), else the
    environment (``MIOCREATE_TOKEN``, ``MIOCREATE_CLIENT_ID``/``_SECRET``/``_TOKEN_URL``), else
    Colab secrets of the same names. ``base_url``: else ``MIOCREATE_BASE_URL``, else the public
    API. Results and the task journal go to ``output_dir`` (results are never overwritten:
    their names carry the server's tag and the task id). ``timeout`` is per HTTP request
    (seconds or ``(connect, read)``); ``wait_timeout`` the default total wait of a task; both
    must be more than 0. ``auth_scheme``: the ``Authorization`` scheme (else
    ``MIOCREATE_AUTH_SCHEME``, else ``Bearer``; ``""`` sends the bare token). ``record``: a folder
    where every exchange is written, redacted, for a bug report (else ``MIO_NB_RECORD``).
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_url: str | None = None,
        output_dir: str | os.PathLike[str] = DEFAULT_OUTPUT_DIR,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        wait_timeout: float | None = None,
        auth_scheme: str | None = None,
        retry: RetryConfig | None = None,
        progress: bool = True,
        record: str | os.PathLike[str] | Recorder | None = None,
    ) -> None:
        self.base_url = base_url or os.environ.get(ENV_BASE_URL) or protocol.DEFAULT_BASE_URL
        self.base_url = self.base_url.rstrip("/")
        timeout = check_request_timeout(timeout)
        wait_timeout = check_timeout(wait_timeout, "wait_timeout")
        credentials = Credentials.resolve(
            token=token, client_id=client_id, client_secret=client_secret, token_url=token_url
        )
        self._transport = Transport(
            self.base_url,
            credentials,
            timeout=timeout,
            auth_scheme=resolve_auth_scheme(auth_scheme),
            retry=retry,
            recorder=open_recorder(record),  # record=, else MIO_NB_RECORD (mio_nb.recording)
        )
        self.output_dir = Path(output_dir).expanduser().absolute()
        self.journal = Journal(self.output_dir / JOURNAL_NAME)
        self._server_id: str | None = None
        self._server_lock = threading.Lock()
        self._tasks = TaskContext(
            transport=self._transport,
            journal=self.journal,
            saver=Saver(self._transport, self.output_dir, lambda: server_tag(self.server_id)),
            server_id=lambda: self.server_id,
            wait_timeout=wait_timeout,
            progress=progress,
        )

    @property
    def progress(self) -> bool:
        """Show progress bars (uploads, long waits)."""
        return self._tasks.progress

    @progress.setter
    def progress(self, value: bool) -> None:
        self._tasks.progress = bool(value)

    @property
    def wait_timeout(self) -> float | None:
        """The default total wait of a task in seconds (None: 15 min, 60 min for videos)."""
        return self._tasks.wait_timeout

    @wait_timeout.setter
    def wait_timeout(self, value: float | None) -> None:
        self._tasks.wait_timeout = check_timeout(value, "wait_timeout")

    @property
    def server_id(self) -> str:
        """What the journal and result names know this server by, the same on every port.

        For a sandbox, the id kept in its data dir (asked once, at the first need); for any
        other server, its base URL.
        """
        if self._server_id is None:
            with self._server_lock:
                if self._server_id is None:
                    self._server_id = self._ask_server_id()
        return self._server_id

    def _ask_server_id(self) -> str:
        if not is_local(self.base_url):
            return self.base_url
        try:
            data = self._transport.call("GET", protocol.SERVER_INFO_PATH)
        except BadRequestError:  # a local server that is no sandbox (a proxy, an old sandbox)
            return self.base_url
        server_id = data.get("server_id") if isinstance(data, dict) else None
        return str(server_id) if server_id else self.base_url

    # -- construction helpers ------------------------------------------------------------------

    @classmethod
    def from_env(cls, **kwargs: Any) -> Client:
        """A client configured from the environment (and Colab secrets); kwargs override."""
        return cls(**kwargs)

    @classmethod
    def for_sandbox(
        cls, sandbox: Sandbox, *, client_credentials: bool = False, **kwargs: Any
    ) -> Client:
        """A client of a running :class:`mio_nb.sandbox.Sandbox` (static token by default,
        or its client id/secret with ``client_credentials=True``)."""
        if client_credentials:
            kwargs.setdefault("client_id", sandbox.client_id)
            kwargs.setdefault("client_secret", sandbox.client_secret)
            kwargs.setdefault("token_url", sandbox.base_url + protocol.TOKEN_PATH)
        else:
            kwargs.setdefault("token", sandbox.token)
        return cls(base_url=sandbox.base_url, **kwargs)

    def __repr__(self) -> str:
        return (
            f"<mio_nb.Client {self.base_url} ({self._transport.credentials.source} "
            f"credentials), output {self.output_dir}>"
        )

    def close(self) -> None:
        """Close the HTTP sessions."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- files --------------------------------------------------------------------------------

    def upload(self, src: Any, *, progress: bool | None = None) -> Asset:
        """Upload a file (path, bytes, PIL image) and return its :class:`Asset`.

        An Asset or key passes through unchanged.
        """
        item = prepare(src, "input")
        return self._upload_prepared([item], progress)[0]

    def upload_many(self, sources: Sequence[Any], *, progress: bool | None = None) -> list[Asset]:
        """Upload several files in parallel (all checked before the first request)."""
        items = [prepare(s, f"input #{i}") for i, s in enumerate(sources)]
        return self._upload_prepared(items, progress)

    def access_url(self, asset: Asset | str) -> str:
        """A presigned URL (valid 3 days) to download an uploaded file or a result."""
        key = asset.key if isinstance(asset, Asset) else str(asset)
        data = self._transport.call("POST", protocol.ACCESS_URL_PATH, json={"key": key})
        return str(data["url"])

    def download(self, asset: Asset | str, dest: str | os.PathLike[str] | None = None) -> Path:
        """Download an uploaded file or result by key to ``dest`` (default: the output folder)."""
        key = asset.key if isinstance(asset, Asset) else str(asset)
        path = Path(dest) if dest is not None else self.output_dir / key.rsplit("/", 1)[-1]
        return self._transport.download(self.access_url(key), path, overwrite=dest is not None)

    def _upload_prepared(self, items: Sequence[Prepared], progress: bool | None) -> list[Asset]:
        show = self.progress if progress is None else progress
        sources = [(i, it) for i, it in enumerate(items) if isinstance(it, Source)]
        out: list[Any] = list(items)
        if len(sources) > 1:
            with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_UPLOADS, len(sources))) as pool:
                futures = [
                    (i, pool.submit(upload_source, self._transport, s, progress=show))
                    for i, s in sources
                ]
                for i, fut in futures:
                    out[i] = fut.result()
        else:
            for i, s in sources:
                out[i] = upload_source(self._transport, s, progress=show)
        return out

    def _resolve(
        self,
        inputs: Mapping[str, Any],
        kinds: Mapping[str, str | None],
        hints: Mapping[str, str],
        prepared: Mapping[str, Prepared] | None = None,
    ) -> tuple[dict[str, Asset], dict[str, dict[str, Any]]]:
        """Check every input and the output folder (no request yet), then upload the local
        inputs in parallel. ``prepared``: inputs the caller has checked already."""
        items = dict(prepared or {})
        for role, src in inputs.items():
            if role not in items:
                items[role] = prepare(src, role)
        for role, item in items.items():
            kind = kinds.get(role)
            if kind:
                require_kind(item, kind, role, hints.get(role))  # type: ignore[arg-type]
        check_output_dir(self.output_dir)
        roles = list(items)
        assets = dict(
            zip(roles, self._upload_prepared([items[r] for r in roles], None), strict=True)
        )
        record = {role: _describe(items[role], assets[role]) for role in roles}
        return assets, record

    # -- tasks --------------------------------------------------------------------------------

    def submit_detect_faces(self, src: Any, *, tag: str | None = None) -> Task:
        """Start finding the faces of an image or video (get-face); returns the Task.

        ``tag`` is recorded with the task in the journal (``JournalEntry.job``)."""
        assets, record = self._resolve({"original": src}, {}, {})
        body = {"main_key": assets["original"].key}
        return self._submit(TaskType.GET_FACE, body, record, {}, tag)

    def detect_faces(
        self, src: Any, *, timeout: float | None = None, progress: bool = True
    ) -> FaceSet:
        """The faces of an image or video, crops saved locally: ``faces[0]``, ``faces.plot()``."""
        check_timeout(timeout)
        result = self.submit_detect_faces(src).wait(timeout=timeout, progress=progress)
        assert isinstance(result, FaceSet)
        return result

    def submit_image_swap(
        self, original: Any, new_face: Any, hd: bool = False, *, tag: str | None = None
    ) -> Task:
        """Start putting the face of ``new_face`` onto the single face of image ``original``."""
        return self._submit_swap(TaskType.FACE_SWAP, original, new_face, hd, tag)

    def swap_image(
        self,
        original: Any,
        new_face: Any,
        hd: bool = False,
        *,
        timeout: float | None = None,
        progress: bool = True,
    ) -> ImageResult:
        """Swap the face of image ``original`` with ``new_face``; the result is saved first."""
        check_timeout(timeout)
        result = self.submit_image_swap(original, new_face, hd).wait(timeout, progress)
        assert isinstance(result, ImageResult)
        return result

    def submit_video_swap(
        self, original: Any, new_face: Any, hd: bool = False, *, tag: str | None = None
    ) -> Task:
        """Start putting ``new_face`` onto the main face of every frame of video ``original``."""
        return self._submit_swap(TaskType.VIDEO_FACE_SWAP, original, new_face, hd, tag)

    def swap_video(
        self,
        original: Any,
        new_face: Any,
        hd: bool = False,
        *,
        timeout: float | None = None,
        progress: bool = True,
    ) -> VideoResult:
        """Swap the face in video ``original`` with ``new_face``; the result is saved first."""
        check_timeout(timeout)
        result = self.submit_video_swap(original, new_face, hd).wait(timeout, progress)
        assert isinstance(result, VideoResult)
        return result

    def swap(
        self,
        original: Any,
        new_face: Any,
        hd: bool = False,
        *,
        timeout: float | None = None,
        progress: bool = True,
    ) -> ImageResult | VideoResult:
        """swap_image or swap_video, by what ``original`` is."""
        check_timeout(timeout)
        task = self.submit_swap(original, new_face, hd)
        result = task.wait(timeout, progress)
        assert isinstance(result, (ImageResult, VideoResult))
        return result

    def submit_swap(
        self, original: Any, new_face: Any, hd: bool = False, *, tag: str | None = None
    ) -> Task:
        """submit_image_swap or submit_video_swap, by what ``original`` is."""
        item = prepare(original, "original")
        if item.kind is None:
            raise BadRequestError(
                f"Cannot tell whether '{item.name}' is an image or a video.",
                hint="Use swap_image() or swap_video().",
            )
        type = TaskType.VIDEO_FACE_SWAP if item.kind == "video" else TaskType.FACE_SWAP
        return self._submit_swap(type, item, new_face, hd, tag)

    def _submit_swap(
        self, type: TaskType, original: Any, new_face: Any, hd: Any, tag: str | None
    ) -> Task:
        hd = check_hd(hd)
        kind = type.produces
        other = "swap_image()" if kind == "video" else "swap_video()"
        assets, record = self._resolve(
            {"original": original, "new face": new_face},
            {"original": kind, "new face": "image"},
            {"original": f"Use {other} for that.", "new face": "The new face must be a photo."},
        )
        body = {
            "main_key": assets["original"].key,
            "target_key": assets["new face"].key,
            "is_hd": protocol.HD_ON if hd else protocol.HD_OFF,
        }
        return self._submit(type, body, record, {"hd": hd}, tag)

    def submit_face_swap(
        self,
        original: Any,
        faces: Mapping[Face, Any] | Mapping[int, Any] | Mapping[Face | int, Any],
        faceset: FaceSet | None = None,
        hd: bool = False,
        *,
        tag: str | None = None,
    ) -> Task:
        """Start swapping chosen faces of a group image or video.

        ``faces`` maps a :class:`Face` of ``client.detect_faces(original)`` (or its index, with
        ``faceset=``) to the new face for it; faces left out stay as they are. ``original``
        (optional with ``faceset``) must be the file the faces were found in.
        """
        hd = check_hd(hd)
        chosen = _chosen_faces(faces, faceset)
        get_face_id = chosen[0].task_id
        assert get_face_id is not None
        given = None if original is None else prepare(original, "original")
        roles = {
            f"new face for face {f.index}": v for f, v in zip(chosen, faces.values(), strict=True)
        }
        prepared = {role: prepare(src, role) for role, src in roles.items()}
        for role, item in prepared.items():
            require_kind(item, "image", role, "The new face must be a photo.")
        check_output_dir(self.output_dir)
        known = self._known_original(faceset, get_face_id)
        if given is not None:
            _require_same_original(given, known)
        kind = known.get("kind") or (given.kind if given is not None else None)
        if kind not in ("image", "video"):
            raise BadRequestError(
                "Cannot tell whether the faces are from an image or a video.",
                hint="Pass the original file (or the FaceSet) too.",
            )
        assets, record = self._resolve(
            roles,
            dict.fromkeys(roles, "image"),
            dict.fromkeys(roles, "The new face must be a photo."),
            prepared,
        )
        pairs = [
            {"target_part_key": f.key, "avatar_part_key": assets[role].key}
            for f, role in zip(chosen, roles, strict=True)
        ]
        record["faces"] = {"indexes": [f.index for f in chosen], "get_face_id": get_face_id}
        if known.get("name") or known.get("key"):
            record["original"] = {k: v for k, v in known.items() if v is not None}
        elif given is not None:
            record["original"] = {"name": given.name, "kind": given.kind}
        body = {
            "avatar_key": pairs,
            "get_face_id": get_face_id,
            "is_hd": protocol.HD_ON if hd else protocol.HD_OFF,
        }
        type = TaskType.MULTIPLE_VIDEO_FACE_SWAP if kind == "video" else TaskType.MULTIPLE_FACE_SWAP
        return self._submit(type, body, record, {"hd": hd}, tag)

    def swap_faces(
        self,
        original: Any,
        faces: Mapping[Face, Any] | Mapping[int, Any] | Mapping[Face | int, Any],
        faceset: FaceSet | None = None,
        hd: bool = False,
        *,
        timeout: float | None = None,
        progress: bool = True,
    ) -> ImageResult | VideoResult:
        """Swap chosen faces of a group image or video; see :meth:`submit_face_swap`."""
        check_timeout(timeout)
        result = self.submit_face_swap(original, faces, faceset, hd).wait(timeout, progress)
        assert isinstance(result, (ImageResult, VideoResult))
        return result

    def _known_original(self, faceset: FaceSet | None, get_face_id: int) -> dict[str, Any]:
        """What is known of the file the faces were found in: name, key, size, kind, path."""
        if faceset is not None and faceset.source is not None:
            src = faceset.source
            return {
                "name": src.name,
                "key": src.key,
                "size": src.size,
                "kind": src.kind,
                "path": faceset.source_path,
            }
        entry = self.journal.find(get_face_id, self.server_id)
        if entry is not None and entry.inputs.get("original"):
            return dict(entry.inputs["original"])
        return {}

    def _submit(
        self,
        type: TaskType,
        body: dict[str, Any],
        inputs: dict[str, Any],
        params: dict[str, Any],
        tag: str | None,
    ) -> Task:
        """Create a task, journaled before the request is sent (write-ahead): whatever happens
        next, ``client.history()`` shows the attempt or the task."""
        server = self.server_id
        attempt = self.journal.attempt(type, server, inputs, params, tag)
        task_id: int | None = None
        try:
            try:
                data = self._transport.call("POST", type.path, json=body, creates_task=True)
            except MioError as e:
                if e.task_may_exist:
                    self.journal.unconfirmed(attempt, server, e.message)
                else:
                    self.journal.refused(attempt, server, e.code, e.message)
                raise
            try:
                task_id = int(data["task_id"])
            except (TypeError, KeyError, ValueError):
                self.journal.unconfirmed(attempt, server, "the answer had no task id")
                raise ServerError(
                    f"The server accepted the {type} task but sent no task id ({data!r}).",
                    task_may_exist=True,
                ) from None
            self.journal.submitted(task_id, type, server, inputs, params, tag, attempt)
        except KeyboardInterrupt:
            if task_id is not None:
                self.journal.submitted(task_id, type, server, inputs, params, tag, attempt)
                raise KeyboardInterrupt(
                    f"Interrupted after task {task_id} ({type}) was created; it runs on the "
                    f"server. Resume with client.task({task_id}).wait()"
                ) from None
            self.journal.unconfirmed(attempt, server, "interrupted before the answer came")
            raise KeyboardInterrupt(
                f"Interrupted while creating a {type} task (attempt {attempt[:8]}): the request "
                "may have reached the server, so the task may exist and be charged. It is in "
                "client.history() as 'unconfirmed'; check your MioCreate task list before "
                "submitting it again."
            ) from None
        log.info("Submitted %s task %s", type, task_id)
        return Task(self._tasks, task_id, type, inputs)

    def batch(
        self,
        jobs: Iterable[Any],
        *,
        workers: int = 4,
        hd: bool = False,
        progress: bool = True,
        timeout: float | None = None,
        retry_failed: bool = False,
    ) -> list[BatchRecord]:
        """Swap many files: one :class:`~mio_nb.batch.BatchRecord` per job, in input order.

        A job is ``(original, new_face)`` or ``(original, {face index: new_face})``. Jobs run on
        ``workers`` threads; one job's error never stops the others; identical jobs run once;
        running the same jobs again skips those done, waits for those already submitted and
        does not pay again for those that failed for good (a 602 "no face"...) or whose
        earlier attempt is unconfirmed, unless ``retry_failed`` (see :mod:`mio_nb.batch`).
        """
        from .batch import run_batch

        return run_batch(
            self,
            jobs,
            workers=workers,
            hd=hd,
            progress=progress,
            timeout=timeout,
            retry_failed=retry_failed,
        )

    def task(self, task_id: int) -> Task:
        """The task ``task_id`` (from the journal when known): ``client.task(id).wait()``."""
        entry = self.journal.find(int(task_id), self.server_id)
        if entry is not None:
            return Task(self._tasks, task_id, entry.type or None, entry.inputs)
        return Task(self._tasks, task_id)

    def history(self) -> list[JournalEntry]:
        """Every task (and unconfirmed attempt) recorded in this output folder's journal,
        oldest first, whatever server it was on."""
        return self.journal.entries()

    def pending(self) -> list[Task]:
        """Tasks submitted to this server, not saved yet: ``[t.wait() for t in client.pending()]``
        (after a restart of the sandbox on another port too)."""
        server = self.server_id
        return [
            Task(self._tasks, e.task_id, e.type, e.inputs)
            for e in self.history()
            if e.status == "pending" and e.task_id is not None and e.server == server
        ]

    @property
    def rate_limit_listeners(self) -> list[Callable[[float], None]]:
        """Functions called with the wait each time the server answers 802 (rate limited)."""
        return self._transport.rate_limit_listeners

    @property
    def answer_listeners(self) -> list[Callable[[str, int], None]]:
        """Functions called with (path, envelope code) for every API answer."""
        return self._transport.answer_listeners

    @property
    def request_count(self) -> int:
        """API requests sent so far by this client (retries included)."""
        return self._transport.request_count


def _chosen_faces(
    faces: Mapping[Face, Any] | Mapping[int, Any] | Mapping[Face | int, Any],
    faceset: FaceSet | None,
) -> list[Face]:
    """The faces a face swap names, checked: one FaceSet, each face once, indexes in range."""
    if not faces:
        raise BadRequestError("No face to swap: pass {face: new_face, ...}.")
    chosen: list[Face] = []
    for key in faces:
        if isinstance(key, Face):
            if faceset is not None and key.task_id != faceset.task_id:
                raise BadRequestError(
                    f"Face {key.index} comes from get-face task {key.task_id}, not from "
                    f"the faceset of task {faceset.task_id}."
                )
            chosen.append(key)
        elif isinstance(key, int) and not isinstance(key, bool):
            if faceset is None:
                raise BadRequestError(
                    "Face numbers need the FaceSet they refer to.",
                    hint="Pass faceset=client.detect_faces(original), or use its Face "
                    "objects as keys: {faces[0]: 'me.jpg'}.",
                )
            if not 0 <= key < len(faceset):
                raise InvalidArgumentError(
                    f"There is no face {key}: the faceset has {len(faceset)} "
                    f"(numbered 0..{len(faceset) - 1})."
                )
            chosen.append(faceset[key])
        else:
            raise BadRequestError(f"Cannot use {key!r} as a face: pass a Face or an index.")
    if len(set(chosen)) != len(chosen):
        raise BadRequestError("A face is listed twice: give each face one new face.")
    get_face_ids = {f.task_id for f in chosen}
    if len(get_face_ids) != 1 or None in get_face_ids:
        raise BadRequestError(
            "The faces come from different detect_faces() calls; use faces of one FaceSet."
        )
    return chosen


def _require_same_original(given: Prepared, known: Mapping[str, Any]) -> None:
    """BadRequestError unless ``given`` is the file the faces were found in (as far as
    ``known`` tells: its key, its path, its size, its content)."""
    if not known:
        return
    where = known.get("name") or known.get("key") or "another file"
    label = given.label if isinstance(given, Source) else f"The original '{given.name}'"
    mismatch = BadRequestError(
        f"{label} is not the file these faces were found in ('{where}').",
        hint="Pass the original the faces were detected in, or detect the faces of this one "
        "first: faces = client.detect_faces(original).",
    )
    if isinstance(given, Asset):
        if known.get("key") and given.key != known["key"]:
            raise mismatch
        return
    known_path = Path(known["path"]) if known.get("path") else None
    if known_path is not None and given.path is not None:
        try:
            if known_path.resolve() == given.path.resolve():
                return
        except OSError:
            pass
    if known.get("size") is not None and int(known["size"]) != given.size:
        raise mismatch
    if known_path is None or not known_path.is_file():
        return
    with open(known_path, "rb") as f:
        known_digest = hashlib.file_digest(f, "sha256").hexdigest()
    if _sha256(given) != known_digest:
        raise mismatch


def _sha256(source: Source) -> str:
    digest = hashlib.sha256()
    with source.open() as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _describe(item: Prepared, asset: Asset) -> dict[str, Any]:
    """What the journal keeps about an input: enough to know what was sent, no content."""
    out: dict[str, Any] = {"name": asset.name, "key": asset.key, "kind": asset.kind}
    if asset.size is not None:
        out["size"] = asset.size
    if isinstance(item, Source) and item.path is not None:
        out["path"] = str(item.path.absolute())
    return out
