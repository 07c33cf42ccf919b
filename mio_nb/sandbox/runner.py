"""``Sandbox``: the whole local API (HTTP server, storage, tasks, workers) in background threads.

>>> with Sandbox(engine="instant") as sb:  # doctest: +SKIP
...     print(sb.base_url, sb.token)
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import logging
import os
import secrets
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from typing import Any

from mio_nb.protocol import ACCESS_URL_EXPIRES, TaskStatus
from mio_nb.sandbox.api import Api, Context
from mio_nb.sandbox.auth import Auth
from mio_nb.sandbox.connections import Limits
from mio_nb.sandbox.faults import Faults, FaultState
from mio_nb.sandbox.housekeeping import (
    DEFAULT_RETENTION_DAYS,
    Housekeeper,
    clean_at_start,
    expire,
)
from mio_nb.sandbox.jobs import Jobs
from mio_nb.sandbox.server import SandboxHTTPServer
from mio_nb.sandbox.storage import DEFAULT_UPLOAD_QUOTA, Storage
from mio_nb.sandbox.taskstore import TaskRow, TaskStore
from mio_nb.sandbox.workers import WorkerPool

log = logging.getLogger("mio_nb.sandbox")

_SECRETS_FILE = "sandbox.json"


def _load_secrets(data_dir: Path) -> dict[str, str]:
    """The sandbox's persistent secrets (static token, client credentials, signing key)."""
    path = data_dir / _SECRETS_FILE
    if path.exists():
        values = json.loads(path.read_text())
        if "server_id" in values:
            return values
        # A data dir of mio-nb 0.1: give it its id once, kept from now on.
        values["server_id"] = "sandbox-" + secrets.token_hex(8)
        _write_secrets(path, values)
        return values
    values = {
        "token": "sbx_" + secrets.token_urlsafe(24),
        "client_id": "sandbox-" + secrets.token_hex(4),
        "client_secret": secrets.token_urlsafe(24),
        "signing_key": secrets.token_hex(32),
        "server_id": "sandbox-" + secrets.token_hex(8),
    }
    _write_secrets(path, values)
    return values


def _write_secrets(path: Path, values: dict[str, str]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(values, f)
    os.replace(tmp, path)


class Sandbox:
    """A MioCreate-compatible API on loopback, for notebooks and tests.

    Starts at construction on ``host:port`` (port 0: a free port) and serves from background
    threads until :meth:`stop` (or the end of a ``with`` block). ``data_dir`` keeps uploads,
    results and the task table; a sandbox started again on the same directory loses nothing and
    finishes the tasks left in flight. Without ``data_dir`` a temporary directory is used and
    removed at stop.

    engine: "real" (face detection and swapping; needs the ``sandbox`` extra),
        "instant" (fast, Pillow only), or an engine object.
    faults: a :class:`Faults`, changeable later with :meth:`set_faults`.
    success_status: the status reported for finished tasks (3, or 0 as a real server did).
    limits: connections, threads and timeouts of the HTTP server (:class:`Limits`).
    retention_days: tasks and files older than this are removed (at start, then hourly);
        a client then gets code 702 for them. Partial uploads and result files no task refers
        to (left by a crash) are removed at start.
    allow_remote: needed to bind ``host`` to anything but loopback (then a warning is logged:
        whoever reaches the port and knows the token, kept in plain text in the data dir and
        sent unencrypted, can use the sandbox and read every stored file).
    """

    def __init__(
        self,
        port: int = 0,
        data_dir: str | os.PathLike[str] | None = None,
        token: str | None = None,
        engine: Any = "real",
        faults: Faults | None = None,
        *,
        host: str = "127.0.0.1",
        success_status: int = int(TaskStatus.SUCCESS),
        workers: int = 4,
        engine_slots: int | None = None,
        limits: Limits | None = None,
        retention_days: float = DEFAULT_RETENTION_DAYS,
        allow_remote: bool = False,
        upload_quota: int | None = DEFAULT_UPLOAD_QUOTA,
    ) -> None:
        if success_status not in (0, int(TaskStatus.SUCCESS)):
            raise ValueError("success_status must be 3 or 0")
        if not retention_days > 0:
            raise ValueError("retention_days must be positive")
        remote = not is_loopback(host)
        if remote and not allow_remote:
            raise ValueError(
                f"host {host!r} is not loopback: the sandbox would be reachable from other "
                "machines with its token. Pass allow_remote=True (mio-nb sandbox "
                "--allow-remote) if you mean it."
            )
        if isinstance(engine, str):
            from mio_nb.sandbox.engine import load_engine

            engine = load_engine(engine, own_process=True)
        self.engine = engine
        self._own_dir = data_dir is None
        self.data_dir = Path(
            tempfile.mkdtemp(prefix="mio-sandbox-") if data_dir is None else data_dir
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        values = _load_secrets(self.data_dir)
        self.token: str = token or values["token"]
        self.client_id: str = values["client_id"]
        self.client_secret: str = values["client_secret"]
        #: Stays the same for this data dir, whatever the port: clients key their journal by it.
        self.server_id: str = values["server_id"]
        key = bytes.fromhex(values["signing_key"])
        self._faults = FaultState(faults)
        self._store = TaskStore(self.data_dir / "tasks.sqlite3")
        storage = self._storage = Storage(self.data_dir, key, upload_quota)
        slots = engine_slots or (1 if getattr(engine, "name", "") == "real" else 2)
        self._pool = WorkerPool(
            Jobs(engine, storage, self._store),
            self._store,
            lambda: self._faults.faults.task_seconds,
            threads=workers,
            engine_slots=slots,
        )
        ctx = Context(
            storage=storage,
            store=self._store,
            auth=Auth(self.token, self.client_id, self.client_secret, key),
            faults=self._faults,
            submit=self._pool.submit,
            success_status=success_status,
            server_id=self.server_id,
        )
        try:
            self._httpd = SandboxHTTPServer((host, port), Api(ctx), storage, self._faults, limits)
        except BaseException:
            self._pool.stop(timeout=1)
            self._store.close()
            raise
        _bound_host, bound_port = self._httpd.server_address[:2]
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        if ":" in shown:
            shown = f"[{shown}]"
        self.host = host
        self.port: int = int(bound_port)
        self.base_url = f"http://{shown}:{self.port}"
        if remote:
            log.warning(remote_warning(host, self.data_dir))
        self._lock_fd = _lock_data_dir(self.data_dir)
        self._housekeeper: Housekeeper | None = None
        if self._lock_fd is not None:
            self._housekeeper = _clean_data_dir(storage, self._store, retention_days * 86400.0)
            for task_id in self._store.requeue_unfinished():
                self._pool.submit(task_id)
        else:
            log.warning(
                "another running sandbox uses %s: its tasks in flight are left to it",
                self.data_dir,
            )
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"mio-sandbox-{self.port}",
            daemon=True,
        )
        self._stopped = False
        self._thread.start()
        log.info("sandbox serving on %s (engine %s)", self.base_url, getattr(engine, "name", "?"))

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"Sandbox({self.base_url}, {state}, data_dir={str(self.data_dir)!r})"

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return not self._stopped

    @property
    def faults(self) -> Faults:
        return self._faults.faults

    def set_faults(self, faults: Faults | None = None, **knobs: Any) -> None:
        """Replace the fault knobs (``Faults(...)`` or keyword knobs); counters start afresh."""
        if faults is None:
            faults = Faults(**knobs)
        elif knobs:
            raise TypeError("pass either a Faults or keyword knobs, not both")
        self._faults.set(faults)

    def presign(self, key: str, method: str = "GET", expires_in: int = ACCESS_URL_EXPIRES) -> str:
        """A presigned storage URL for ``key`` (negative ``expires_in``: already expired)."""
        return self._storage.sign(self.base_url, key, method.upper(), expires_in)

    def tasks(self) -> list[TaskRow]:
        """The task table, oldest first."""
        return self._store.all()

    def stop(self) -> None:
        """Stop serving and join the threads. Tasks in flight are finished at the next start."""
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        self._thread.join(5)
        if self._housekeeper is not None:
            self._housekeeper.stop()
        self._pool.stop()
        self._store.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        log.info("sandbox on port %s stopped", self.port)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback interface only ("" and "0.0.0.0" do not:
    they mean every interface)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def remote_warning(host: str, data_dir: Path) -> str:
    return (
        f"SECURITY: the sandbox listens on {host or 'every interface'}, not only on loopback. "
        f"Its token is kept in plain text in {data_dir / _SECRETS_FILE} (and printed at start) "
        "and travels unencrypted over HTTP: anyone on the network who knows or sniffs it can "
        "upload files, run tasks and download every stored photo and result. Use it only on a "
        "network you trust, with a token of your own (--token)."
    )


def _clean_data_dir(storage: Storage, store: TaskStore, retention: float) -> Housekeeper:
    """Start-up housekeeping (before any task runs), then the hourly sweep of expired tasks."""
    expired = expire(storage, store, retention)
    left = clean_at_start(storage, store)
    if expired.tasks or expired.expired_files or left.temporary_files or left.orphans:
        log.info(
            "sandbox housekeeping: removed %d temporary file(s), %d orphan result file(s), "
            "%d expired task(s) and %d expired file(s)",
            left.temporary_files,
            left.orphans,
            expired.tasks,
            expired.expired_files,
        )
    housekeeper = Housekeeper(storage, store, retention)
    housekeeper.start()
    return housekeeper


def _lock_data_dir(data_dir: Path) -> int | None:
    """An exclusive lock on the data dir (a file descriptor), or None if another process (or
    another sandbox of this one) holds it. Without fcntl (Windows) the lock always succeeds."""
    fd = os.open(data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        import fcntl
    except ImportError:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


_shared: Sandbox | None = None
_shared_lock = threading.Lock()


def default_data_dir() -> Path:
    """``MIO_NB_SANDBOX_DIR`` or ``~/.cache/mio-nb/sandbox``."""
    env = os.environ.get("MIO_NB_SANDBOX_DIR")
    return Path(env) if env else Path.home() / ".cache" / "mio-nb" / "sandbox"


def shared_sandbox() -> Sandbox:
    """The process-wide sandbox (real engine, or ``MIO_NB_SANDBOX_ENGINE``), started on first
    use and reused after.

    Raises ImportError with the install hint when the real engine's packages are missing.
    """
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running:
            engine = os.environ.get("MIO_NB_SANDBOX_ENGINE") or "real"
            _shared = Sandbox(data_dir=default_data_dir(), engine=engine)
            atexit.register(_shared.stop)
        return _shared
