"""The synchronous MioCreate Face Swap client.

>>> from mio_nb import Client
>>> client = Client()                                  # MIOCREATE_TOKEN, or client credentials
>>> result = client.swap_image("photo.jpg", "me.jpg")  # saved to ./mio_outputs/, then returned
>>> faces = client.detect_faces("group.jpg")
>>> client.swap_faces("group.jpg", {faces[0]: "me.jpg", faces[2]: "you.png"})

Every swap also has a ``submit_*`` form returning a :class:`~mio_nb.tasks.Task`; every task is
recorded in the output folder's journal (``client.history()``), so nothing is lost when the
kernel restarts: ``client.task(task_id).wait()`` picks a task up again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import protocol
from .credentials import ENV_BASE_URL, Credentials
from .errors import BadRequestError, MioError, ServerError
from .journal import JOURNAL_NAME, Journal, JournalEntry
from .locate import place_faces
from .results import (
    Asset,
    Face,
    FaceSet,
    ImageResult,
    VideoResult,
    safe_stem,
    save_faces,
    save_swap,
)
from .tasks import TASK_TYPES, Task
from .transport import RetryConfig, Transport
from .uploads import Prepared, Source, looks_like_key, prepare, require_kind, upload_source

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
    API. Results and the task journal go to ``output_dir``. ``timeout`` is per HTTP request
    (seconds or ``(connect, read)``); ``wait_timeout`` the default total wait of a task.
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
        auth_scheme: str = "Bearer",
        retry: RetryConfig | None = None,
        progress: bool = True,
    ) -> None:
        self.base_url = base_url or os.environ.get(ENV_BASE_URL) or protocol.DEFAULT_BASE_URL
        self.base_url = self.base_url.rstrip("/")
        credentials = Credentials.resolve(
            token=token, client_id=client_id, client_secret=client_secret, token_url=token_url
        )
        self._transport = Transport(
            self.base_url, credentials, timeout=timeout, auth_scheme=auth_scheme, retry=retry
        )
        self.output_dir = Path(output_dir).expanduser().absolute()
        self.journal = Journal(self.output_dir / JOURNAL_NAME)
        self.wait_timeout = wait_timeout
        self.progress = progress
        self._journal_tags = threading.local()

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
        self._transport.download(self.access_url(key), path)
        return path

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
        self, inputs: Mapping[str, Any], kinds: Mapping[str, str | None], hints: Mapping[str, str]
    ) -> tuple[dict[str, Asset], dict[str, dict[str, Any]]]:
        """Check every input (no request yet), then upload the local ones in parallel."""
        prepared = {role: prepare(src, role) for role, src in inputs.items()}
        for role, item in prepared.items():
            kind = kinds.get(role)
            if kind:
                require_kind(item, kind, role, hints.get(role))  # type: ignore[arg-type]
        roles = list(prepared)
        assets = dict(
            zip(roles, self._upload_prepared([prepared[r] for r in roles], None), strict=True)
        )
        record = {role: _describe(prepared[role], assets[role]) for role in roles}
        return assets, record

    # -- tasks --------------------------------------------------------------------------------

    def submit_detect_faces(self, src: Any) -> Task:
        """Start finding the faces of an image or video (get-face); returns the Task."""
        assets, record = self._resolve({"original": src}, {}, {})
        body = {"main_key": assets["original"].key}
        return self._submit("detect-faces", body, record, {})

    def detect_faces(
        self, src: Any, *, timeout: float | None = None, progress: bool = True
    ) -> FaceSet:
        """The faces of an image or video, crops saved locally: ``faces[0]``, ``faces.plot()``."""
        result = self.submit_detect_faces(src).wait(timeout=timeout, progress=progress)
        assert isinstance(result, FaceSet)
        return result

    def submit_image_swap(self, original: Any, new_face: Any, hd: bool = False) -> Task:
        """Start putting the face of ``new_face`` onto the single face of image ``original``."""
        return self._submit_swap("image-swap", original, new_face, hd)

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
        result = self.submit_image_swap(original, new_face, hd).wait(timeout, progress)
        assert isinstance(result, ImageResult)
        return result

    def submit_video_swap(self, original: Any, new_face: Any, hd: bool = False) -> Task:
        """Start putting ``new_face`` onto the main face of every frame of video ``original``."""
        return self._submit_swap("video-swap", original, new_face, hd)

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
        item = prepare(original, "original")
        kind = item.kind
        if kind is None:
            raise BadRequestError(
                f"Cannot tell whether '{item.name}' is an image or a video.",
                hint="Use swap_image() or swap_video().",
            )
        task = self._submit_swap(
            "video-swap" if kind == "video" else "image-swap", item, new_face, hd
        )
        result = task.wait(timeout, progress)
        assert isinstance(result, (ImageResult, VideoResult))
        return result

    def _submit_swap(self, type: str, original: Any, new_face: Any, hd: bool) -> Task:
        kind = "video" if type == "video-swap" else "image"
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
        return self._submit(type, body, record, {"hd": bool(hd)})

    def submit_face_swap(
        self,
        original: Any,
        faces: Mapping[Face | int, Any],
        faceset: FaceSet | None = None,
        hd: bool = False,
    ) -> Task:
        """Start swapping chosen faces of a group image or video.

        ``faces`` maps a :class:`Face` of ``client.detect_faces(original)`` (or its index, with
        ``faceset=``) to the new face for it; faces left out stay as they are.
        """
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
                try:
                    chosen.append(faceset[key])
                except IndexError:
                    raise BadRequestError(
                        f"There is no face {key}: the faceset has {len(faceset)} "
                        f"(0..{len(faceset) - 1})."
                    ) from None
            else:
                raise BadRequestError(f"Cannot use {key!r} as a face: pass a Face or an index.")
        if len(set(chosen)) != len(chosen):
            raise BadRequestError("A face is listed twice: give each face one new face.")
        get_face_ids = {f.task_id for f in chosen}
        if len(get_face_ids) != 1 or None in get_face_ids:
            raise BadRequestError(
                "The faces come from different detect_faces() calls; use faces of one FaceSet."
            )
        get_face_id = int(next(iter(get_face_ids)))  # type: ignore[arg-type]
        kind = self._original_kind(original, faceset, get_face_id)
        roles = {
            f"new face for face {f.index}": v for f, v in zip(chosen, faces.values(), strict=True)
        }
        assets, record = self._resolve(
            roles,
            dict.fromkeys(roles, "image"),
            dict.fromkeys(roles, "The new face must be a photo."),
        )
        pairs = [
            {"target_part_key": f.key, "avatar_part_key": assets[role].key}
            for f, role in zip(chosen, roles, strict=True)
        ]
        record["faces"] = {"indexes": [f.index for f in chosen], "get_face_id": get_face_id}
        if original is not None and not isinstance(original, (bytes, bytearray)):
            record["original"] = {"name": _name_of(original)}
        elif faceset is not None and faceset.source is not None:
            record["original"] = {"name": faceset.source.name, "key": faceset.source.key}
        body = {
            "avatar_key": pairs,
            "get_face_id": get_face_id,
            "is_hd": protocol.HD_ON if hd else protocol.HD_OFF,
        }
        type = "multi-video-swap" if kind == "video" else "multi-image-swap"
        return self._submit(type, body, record, {"hd": bool(hd)})

    def swap_faces(
        self,
        original: Any,
        faces: Mapping[Face | int, Any],
        faceset: FaceSet | None = None,
        hd: bool = False,
        *,
        timeout: float | None = None,
        progress: bool = True,
    ) -> ImageResult | VideoResult:
        """Swap chosen faces of a group image or video; see :meth:`submit_face_swap`."""
        result = self.submit_face_swap(original, faces, faceset, hd).wait(timeout, progress)
        assert isinstance(result, (ImageResult, VideoResult))
        return result

    def _original_kind(self, original: Any, faceset: FaceSet | None, get_face_id: int) -> str:
        if faceset is not None and faceset.kind:
            src = faceset.source
            other = None
            if isinstance(original, Asset):
                other = original.key
            elif isinstance(original, str) and not os.path.exists(original):
                other = original if looks_like_key(original) else None
            if src is not None and other is not None and other != src.key:
                raise BadRequestError(
                    f"These faces were found in '{src.name}', not in '{original}'."
                )
            return faceset.kind
        entry = self.journal.find(get_face_id, self.base_url)
        if entry is not None and entry.inputs.get("original", {}).get("kind"):
            return str(entry.inputs["original"]["kind"])
        if original is None:
            raise BadRequestError(
                "Cannot tell whether the faces are from an image or a video.",
                hint="Pass the original file (or the FaceSet) too.",
            )
        kind = prepare(original, "original").kind
        if kind is None:
            raise BadRequestError("Cannot tell whether the original is an image or a video.")
        return kind

    def _submit(
        self, type: str, body: dict[str, Any], inputs: dict[str, Any], params: dict[str, Any]
    ) -> Task:
        path = TASK_TYPES[type][0]
        job = getattr(self._journal_tags, "value", None)
        try:
            data = self._transport.call("POST", path, json=body, creates_task=True)
        except MioError as e:
            if e.task_may_exist:
                self.journal.unconfirmed(type, self.base_url, inputs, params, e.message, job)
            raise
        try:
            task_id = int(data["task_id"])
        except (TypeError, KeyError, ValueError):
            self.journal.unconfirmed(type, self.base_url, inputs, params, "no task_id", job)
            raise ServerError(
                f"The server accepted the {type} task but sent no task id ({data!r}).",
                task_may_exist=True,
            ) from None
        self.journal.submitted(task_id, type, self.base_url, inputs, params, job)
        log.info("Submitted %s task %s", type, task_id)
        return Task(self, task_id, type, inputs)

    @contextlib.contextmanager
    def journal_tag(self, tag: str) -> Iterator[None]:
        """Record ``tag`` in the journal with every task this thread submits inside the block
        (``JournalEntry.job`` in ``client.history()``); ``batch`` tags each job with a
        fingerprint of its inputs, so a second run pays for nothing twice."""
        previous = getattr(self._journal_tags, "value", None)
        self._journal_tags.value = tag
        try:
            yield
        finally:
            self._journal_tags.value = previous

    def batch(
        self,
        jobs: Iterable[Any],
        *,
        workers: int = 4,
        hd: bool = False,
        progress: bool = True,
        timeout: float | None = None,
    ) -> list[BatchRecord]:
        """Swap many files: one :class:`~mio_nb.batch.BatchRecord` per job, in input order.

        A job is ``(original, new_face)`` or ``(original, {face index: new_face})``. Jobs run on
        ``workers`` threads; one job's error never stops the others; running the same jobs
        again skips those done and waits for those already submitted (see :mod:`mio_nb.batch`).
        """
        from .batch import run_batch

        return run_batch(self, jobs, workers=workers, hd=hd, progress=progress, timeout=timeout)

    def task(self, task_id: int) -> Task:
        """The task ``task_id`` (from the journal when known): ``client.task(id).wait()``."""
        entry = self.journal.find(int(task_id), self.base_url)
        if entry is not None:
            return Task(self, task_id, entry.type or None, entry.inputs)
        return Task(self, task_id)

    def history(self) -> list[JournalEntry]:
        """Every task recorded in this output folder's journal, oldest first."""
        return self.journal.entries()

    def pending(self) -> list[Task]:
        """Submitted tasks not saved yet: ``[t.wait() for t in client.pending()]``."""
        return [
            Task(self, e.task_id, e.type, e.inputs)
            for e in self.history()
            if e.status == "pending" and e.task_id is not None and e.server == self.base_url
        ]

    # -- results (called by Task) -------------------------------------------------------------

    def _materialize(self, task: Task) -> ImageResult | VideoResult | FaceSet:
        produces = task.produces
        original = task.inputs.get("original") or {}
        stem = safe_stem(original.get("name"), produces or "result")
        result: ImageResult | VideoResult | FaceSet
        if produces == "faces":
            source = None
            if original.get("key"):
                source = Asset(
                    key=original["key"],
                    name=original.get("name") or "",
                    size=original.get("size"),
                    kind=original.get("kind"),
                )
            result = save_faces(
                self._transport, task.id, task.data, self.output_dir, source, original.get("path")
            )
            result = place_faces(result)  # where each crop lies in the original (Face.box)
            files = [str(f.path) for f in result.faces]
        else:
            kind = "video" if produces == "video" else "image"
            result = save_swap(self._transport, task.id, task.data, self.output_dir, kind, stem)
            files = [str(result.path)]
            if isinstance(result, VideoResult) and result.cover_path:
                files.append(str(result.cover_path))
        self.journal.done(task.id, self.base_url, files)
        return result

    def _journal_failed(self, task: Task, error: MioError) -> None:
        self.journal.failed(task.id, self.base_url, error.code, error.message)

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


def _name_of(src: Any) -> str:
    if isinstance(src, (Asset, Face)):
        return src.name if isinstance(src, Asset) else f"face-{src.index}"
    if isinstance(src, (str, os.PathLike)):
        return Path(os.fspath(src)).name
    return type(src).__name__


def _describe(item: Prepared, asset: Asset) -> dict[str, Any]:
    """What the journal keeps about an input: enough to know what was sent, no content."""
    out: dict[str, Any] = {"name": asset.name, "key": asset.key, "kind": asset.kind}
    if asset.size is not None:
        out["size"] = asset.size
    if isinstance(item, Source) and item.path is not None:
        out["path"] = str(item.path.absolute())
    return out
