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

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import protocol
from .credentials import ENV_BASE_URL, Credentials, resolve_auth_scheme
from .errors import BadRequestError
from .inputs import FaceMap, Inputs, Request
from .journal import JOURNAL_NAME, History, Journal
from .preflight import check_request_timeout, check_timeout
from .protocol import TaskType
from .recording import Recorder, open_recorder
from .results import Asset, FaceSet, ImageResult, VideoResult
from .saver import Saver, server_tag
from .tasks import Task, TaskContext
from .transport import RetryConfig, Transport
from .uploads import prepare
from .urls import ServerIdentity, canonical_url

if TYPE_CHECKING:
    from .batch import BatchRecord
    from .sandbox import Sandbox

log = logging.getLogger("mio_nb.client")

DEFAULT_OUTPUT_DIR = "mio_outputs"
_SWAPPED = (ImageResult, VideoResult)


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
        #: The server's canonical URL: one spelling per server (see :func:`canonical_url`).
        self.base_url = canonical_url(
            base_url or os.environ.get(ENV_BASE_URL) or protocol.DEFAULT_BASE_URL
        )
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
        self._identity = ServerIdentity(
            self.base_url, lambda: self._transport.call("GET", protocol.SERVER_INFO_PATH)
        )
        self._tasks = TaskContext(
            transport=self._transport,
            journal=self.journal,
            saver=Saver(self._transport, self.output_dir, lambda: server_tag(self.server_id)),
            server_id=self._identity,
            wait_timeout=wait_timeout,
            progress=progress,
        )
        self._inputs = Inputs(
            self._transport, self.output_dir, lambda: self.progress, self.journal, self._identity
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
        """What the journal and result names know this server by, the same on every port and
        in every spelling (see :class:`mio_nb.urls.ServerIdentity`)."""
        return self._identity()

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
        return self._inputs.upload([prepare(src, "input")], progress)[0]

    def upload_many(self, sources: Sequence[Any], *, progress: bool | None = None) -> list[Asset]:
        """Upload several files in parallel (all checked before the first request)."""
        items = [prepare(s, f"input #{i}") for i, s in enumerate(sources)]
        return self._inputs.upload(items, progress)

    def access_url(self, asset: Asset | str) -> str:
        """A presigned URL (valid 3 days) to download an uploaded file or a result."""
        key = asset.key if isinstance(asset, Asset) else str(asset)
        data = self._transport.call("POST", protocol.ACCESS_URL_PATH, json={"key": key})
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            raise BadRequestError(f"The server sent no URL for '{key}'.")
        return data["url"]

    def download(self, asset: Asset | str, dest: str | os.PathLike[str] | None = None) -> Path:
        """Download an uploaded file or result by key to ``dest`` (default: the output folder)."""
        key = asset.key if isinstance(asset, Asset) else str(asset)
        path = Path(dest) if dest is not None else self.output_dir / key.rsplit("/", 1)[-1]
        return self._transport.download(self.access_url(key), path, overwrite=dest is not None)

    # -- tasks --------------------------------------------------------------------------------

    def submit_detect_faces(self, src: Any, *, tag: str | None = None) -> Task:
        """Start finding the faces of an image or video (get-face); returns the Task.

        ``tag`` is recorded with the task in the journal (``JournalEntry.job``)."""
        return self._create(self._inputs.detect(src), tag)

    def detect_faces(
        self, src: Any, *, timeout: float | None = None, progress: bool = True
    ) -> FaceSet:
        """The faces of an image or video, crops saved locally: ``faces[0]``, ``faces.plot()``."""
        return self._run(lambda: self.submit_detect_faces(src), timeout, progress, FaceSet)

    def submit_image_swap(
        self, original: Any, new_face: Any, hd: bool = False, *, tag: str | None = None
    ) -> Task:
        """Start putting the face of ``new_face`` onto the single face of image ``original``."""
        return self._create(self._inputs.swap(TaskType.FACE_SWAP, original, new_face, hd), tag)

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
        submit = self.submit_image_swap
        return self._run(lambda: submit(original, new_face, hd), timeout, progress, ImageResult)

    def submit_video_swap(
        self, original: Any, new_face: Any, hd: bool = False, *, tag: str | None = None
    ) -> Task:
        """Start putting ``new_face`` onto the main face of every frame of video ``original``."""
        request = self._inputs.swap(TaskType.VIDEO_FACE_SWAP, original, new_face, hd)
        return self._create(request, tag)

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
        submit = self.submit_video_swap
        return self._run(lambda: submit(original, new_face, hd), timeout, progress, VideoResult)

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
        submit = self.submit_swap
        return self._run(lambda: submit(original, new_face, hd), timeout, progress, _SWAPPED)

    def submit_swap(
        self, original: Any, new_face: Any, hd: bool = False, *, tag: str | None = None
    ) -> Task:
        """submit_image_swap or submit_video_swap, by what ``original`` is."""
        return self._create(self._inputs.swap(None, original, new_face, hd), tag)

    def submit_face_swap(
        self,
        original: Any,
        faces: FaceMap,
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
        request = self._inputs.face_swap(original, faces, faceset, hd)
        return self._create(request, tag)

    def swap_faces(
        self,
        original: Any,
        faces: FaceMap,
        faceset: FaceSet | None = None,
        hd: bool = False,
        *,
        timeout: float | None = None,
        progress: bool = True,
    ) -> ImageResult | VideoResult:
        """Swap chosen faces of a group image or video; see :meth:`submit_face_swap`."""
        submit = self.submit_face_swap
        return self._run(lambda: submit(original, faces, faceset, hd), timeout, progress, _SWAPPED)

    @staticmethod
    def _run(submit: Callable[[], Task], timeout: Any, progress: bool, kinds: Any) -> Any:
        """Check ``timeout`` (before anything is sent), submit, wait and return the result."""
        check_timeout(timeout)
        result = submit().wait(timeout, progress)
        assert isinstance(result, kinds)
        return result

    def _create(self, request: Request, tag: str | None) -> Task:
        """Create the task (write-ahead journaled, never sent twice: see :mod:`mio_nb.tasks`)."""
        return self._tasks.create(request.type, request.body, request.inputs, request.params, tag)

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

        A job is ``(original, new_face)`` or ``(original, {face index: new_face})``; running
        the same jobs again (here or in another process) pays for none twice, unless
        ``retry_failed`` (see :mod:`mio_nb.batch`).
        """
        from .batch import run_batch

        options = {"workers": workers, "hd": hd, "progress": progress, "timeout": timeout}
        return run_batch(self, jobs, retry_failed=retry_failed, **options)  # type: ignore[arg-type]

    def task(self, task_id: int) -> Task:
        """The task ``task_id`` (from the journal when known): ``client.task(id).wait()``."""
        entry = self.journal.find(int(task_id), self.server_id)
        if entry is not None:
            return Task(self._tasks, task_id, entry.type or None, entry.inputs)
        return Task(self._tasks, task_id)

    def history(self) -> History:
        """Every task (and unconfirmed attempt) recorded in this output folder's journal,
        oldest first, whatever server it was on; ``.skipped``: journal lines that could not be
        used (torn, or not an entry), skipped."""
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
