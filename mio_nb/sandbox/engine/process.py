"""The real engine in a process of its own, shared by the sandboxes of this process.

A sandbox in a notebook runs in the kernel. Loading the engine's models takes about a second
during which dlib holds the interpreter's lock, and every detection and swap would hold it too:
the widget, plots and the cells being run would wait. In a process of its own the engine loads
while the notebook goes on (``connect()`` returns at once), then works on the other core.

The child is started with ``python -m`` (never by importing the parent's ``__main__``, so a
script without an ``if __name__ == "__main__"`` guard is safe) and talks over a
:mod:`multiprocessing.connection` with a random key. Calls are answered one at a time; when the
child dies (killed, out of memory), the call fails with an :class:`EngineError` 601 and the next
call starts a new child.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import subprocess
import sys
import threading
import traceback
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from . import EngineError, FacePart, Progress

__all__ = ["EngineProcess", "shared_engine_process"]

log = logging.getLogger("mio_nb.sandbox")

#: Seconds a child has to load its models and say it is ready before a call fails.
START_TIMEOUT = 300.0


class _Start:
    """One child's start: settled once, by the first of "ready", "failed to load" and "ended"."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.conn: Connection | None = None
        self.failure: BaseException | None = None
        self._lock = threading.Lock()

    def settle(self, conn: Connection | None = None, failure: BaseException | None = None) -> None:
        with self._lock:
            if self.done.is_set():
                return
            self.conn, self.failure = conn, failure
            self.done.set()


class EngineProcess:
    """An engine (by name, "real") in a child process; the same interface as the engine."""

    def __init__(self, engine: str = "real") -> None:
        self.name = engine
        self._lock = threading.Lock()  # one call at a time, and one child
        self._child: subprocess.Popen[bytes] | None = None
        self._started = _Start()
        self._start()

    # -- the engine's interface ------------------------------------------------------------

    def get_faces(self, main: Path) -> list[FacePart]:
        return self._call("get_faces", Path(main))

    def swap(
        self, main: Path, new_face: Path, out: Path, *, hd: bool, progress: Progress | None = None
    ) -> None:
        del progress  # the sandbox's workers pass none; a child's progress would need a channel
        self._call("swap", Path(main), Path(new_face), Path(out), hd=hd)

    def swap_faces(
        self,
        main: Path,
        pairs: list[tuple[dict[str, Any], Path]],
        out: Path,
        *,
        hd: bool,
        progress: Progress | None = None,
    ) -> None:
        del progress
        self._call("swap_faces", Path(main), [(r, Path(p)) for r, p in pairs], Path(out), hd=hd)

    # -- the child -------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    @property
    def ready(self) -> bool:
        """True once the child loaded its models (or failed to)."""
        return self._started.done.is_set()

    def wait_ready(self, timeout: float | None = START_TIMEOUT) -> Connection:
        """Block until the child loaded its models: the connection to it; raise what stopped it
        from loading."""
        started = self._started
        if not started.done.wait(timeout):
            raise EngineError(601, f"The sandbox engine did not start within {timeout:.0f} s.")
        if started.failure is not None:
            raise started.failure
        assert started.conn is not None
        return started.conn

    def close(self) -> None:
        """Stop the child (a call in progress fails)."""
        child, conn = self._child, self._started.conn
        self._child = None
        if conn is not None:
            conn.close()
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(5)

    def _start(self) -> None:
        """Start a child and connect to it in the background (the caller does not wait)."""
        started = self._started = _Start()
        key = secrets.token_bytes(32)
        listener = Listener(authkey=key)
        env = dict(os.environ)
        # The child imports this mio_nb, whatever put it on the parent's path.
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self._child = subprocess.Popen(
            [sys.executable, "-m", __name__, str(listener.address), self.name],
            stdin=subprocess.PIPE,
            env=env,
        )
        assert self._child.stdin is not None
        self._child.stdin.write(key.hex().encode() + b"\n")
        self._child.stdin.close()
        child = self._child

        def ended() -> EngineError:
            code = child.poll()
            return EngineError(601, f"The sandbox engine stopped while starting (exit {code}).")

        accepted = threading.Event()

        def connect() -> None:
            try:
                conn = listener.accept()
                accepted.set()
                status, value = conn.recv()  # ("ready", None) once the models are loaded
                if status == "ready":
                    started.settle(conn=conn)
                else:  # what stopped it from loading its engine (a missing package...)
                    conn.close()
                    started.settle(failure=value)
            except BaseException:  # the child died
                started.settle(failure=ended())
            finally:
                listener.close()

        def watch() -> None:
            """A child that ends before it connected leaves accept() waiting: close it (once
            connected, what it said before it ended is read by connect())."""
            child.wait()
            if not accepted.is_set():
                started.settle(failure=ended())
                listener.close()

        threading.Thread(target=connect, name="mio-sandbox-engine-start", daemon=True).start()
        threading.Thread(target=watch, name="mio-sandbox-engine-watch", daemon=True).start()

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self._child is None or self._child.poll() is not None:
                if self._child is not None:
                    log.warning("the sandbox engine process ended: starting a new one")
                self._start()
            conn = self.wait_ready()
            try:
                conn.send((method, args, kwargs))
                status, value = conn.recv()
            except (EOFError, OSError) as exc:
                code = self._child.poll() if self._child is not None else None
                self.close()
                raise EngineError(
                    601,
                    f"The sandbox engine stopped during the task (exit code {code}, e.g. out of "
                    "memory); the next task starts a new one.",
                ) from exc
        if status == "error":
            raise value
        if status == "crash":  # an unexpected error, told as text (it may not pickle)
            log.error("the sandbox engine failed:\n%s", value[1])
            raise RuntimeError(value[0])
        return value


_shared: EngineProcess | None = None
_shared_lock = threading.Lock()


def shared_engine_process(engine: str = "real") -> EngineProcess:
    """The process-wide engine process (started on first use, stopped at exit): every sandbox
    of this process uses it, as they share one set of models in-process."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.name != engine:
            _shared = EngineProcess(engine)
            atexit.register(_shared.close)
        return _shared


def _serve(address: str, engine_name: str, key: bytes) -> None:
    """The child: load the engine, say ready, answer calls until the parent goes."""
    conn = Client(address, authkey=key)
    try:
        from . import load_engine

        engine = load_engine(engine_name)
    except BaseException as exc:
        conn.send(("error", exc))
        conn.close()
        return
    conn.send(("ready", None))
    while True:
        try:
            method, args, kwargs = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        try:
            reply: tuple[str, Any] = ("ok", getattr(engine, method)(*args, **kwargs))
        except EngineError as exc:
            reply = ("error", exc)
        except Exception as exc:
            reply = ("crash", (f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        conn.send(reply)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], bytes.fromhex(sys.stdin.readline().strip()))
