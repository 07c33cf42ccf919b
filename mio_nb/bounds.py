"""Bounds of every HTTP exchange of the client: deadlines that hold and bodies that are capped.

A call with a ``deadline`` (a ``time.monotonic()`` value) ends by it whatever the server does:

- each request gets at most the time left as its socket timeout (:func:`bounded`);
- urllib3's own retries never sleep or retry past it (:class:`DeadlineRetry`, reading the
  calling thread's deadline);
- a :class:`Watchdog` shuts the socket in use down at the deadline, so a blocked read of a
  trickled status line, header or body returns (one shared thread keeps every deadline);
- :func:`read_body` reads in pieces, checking the clock between them, and stops at a cap
  (ResponseTooLargeError), passing the pieces to a sink (a file) or keeping them.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import io
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

from .errors import ResponseTooLargeError, TaskTimeoutError

CHUNK = 1 << 20

deadline_of_thread = threading.local()


class DeadlineReached(Exception):
    """Raised inside urllib3 when a retry would end past the calling thread's deadline."""

    def __init__(self, delay: float) -> None:
        super().__init__(delay)
        self.delay = delay


class DeadlineRetry(Retry):
    """urllib3 ``Retry`` that never sleeps or retries past the deadline of the calling thread."""

    def _check(self, delay: float) -> None:
        deadline = getattr(deadline_of_thread, "value", None)
        if deadline is not None and time.monotonic() + delay >= deadline:
            raise DeadlineReached(delay)

    def increment(self, *args: Any, **kwargs: Any) -> Retry:  # type: ignore[override]
        self._check(0.0)
        return super().increment(*args, **kwargs)

    def sleep(self, response: Any = None) -> None:
        delay = None
        if response is not None and self.respect_retry_after_header:
            delay = self.get_retry_after(response)
        self._check(delay if delay is not None else self.get_backoff_time())
        super().sleep(response)


class Watchdog:
    """Ends, at ``deadline``, whatever the calling thread's connection is doing (reading the
    headers or body of a trickled answer): the socket in use is shut down, so the blocked read
    returns and the caller raises TaskTimeoutError. No-op without a deadline. One shared thread
    (:class:`Watchman`) keeps every deadline: no thread is started per call."""

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.sock: Any = None
        self.expired = False
        self._lock = threading.Lock()
        self._finished = False

    def watch(self, sock: Any) -> None:
        with self._lock:
            self.sock = sock
            if self.expired:
                self._shut()

    def _shut(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)

    def expire(self) -> None:
        with self._lock:
            if self._finished:  # the call ended: its connection may be back in the pool
                return
            self.expired = True
            self._shut()

    def __enter__(self) -> Watchdog:
        if self.deadline is not None:
            Watchman.shared().add(self)
            deadline_of_thread.watchdog = self
        return self

    @property
    def finished(self) -> bool:
        return self._finished

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._finished = True
            self.sock = None
        if self.deadline is not None:
            deadline_of_thread.watchdog = None


class Watchman:
    """One daemon thread that expires every :class:`Watchdog` at its deadline."""

    _instance: Watchman | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._count = 0
        threading.Thread(target=self._run, name="mio-watchdog", daemon=True).start()

    @classmethod
    def shared(cls) -> Watchman:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def add(self, dog: Watchdog) -> None:
        assert dog.deadline is not None
        with self._cond:
            if len(self._heap) > 256:  # forget the calls that ended long before their deadline
                self._heap = [entry for entry in self._heap if not entry[2].finished]
                heapq.heapify(self._heap)
            self._count += 1
            heapq.heappush(self._heap, (dog.deadline, self._count, dog))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                deadline, _, dog = self._heap[0]
                now = time.monotonic()
                if deadline > now:
                    self._cond.wait(deadline - now)
                    continue
                heapq.heappop(self._heap)
            dog.expire()


def _watch(sock: Any) -> None:
    dog = getattr(deadline_of_thread, "watchdog", None)
    if dog is not None:
        dog.watch(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        _watch(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        _watch(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections report their socket to the thread's watchdog."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {  # type: ignore[assignment]
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


def time_left(deadline: float | None, what: str) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TaskTimeoutError(f"{what}: no time left before the deadline.")
    return left


def bounded(timeout: Any, left: float | None) -> Any:
    if left is None:
        return timeout
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return (min(connect, left), min(read, left))


def read_body(
    resp: requests.Response,
    cap: int,
    deadline: float | None,
    what: str,
    sink: Callable[[bytes], Any] | None = None,
) -> bytes:
    """Read a streamed body (decoded) in pieces: at most ``cap`` bytes (else
    ResponseTooLargeError), ending by ``deadline`` (else TaskTimeoutError). With ``sink`` each
    piece goes there and nothing is kept."""
    pieces: list[bytes] = []
    total = 0
    raw = resp.raw
    read: Callable[[int], bytes]
    if getattr(resp, "_content_consumed", False) and isinstance(resp._content, bytes):
        # Read already, by a response hook (a recorder keeping bodies for a replay).
        read = io.BytesIO(resp._content).read
    elif hasattr(raw, "read1"):
        read = functools.partial(raw.read1, decode_content=True)
    else:
        read = raw.read
    while True:
        if deadline is not None and time.monotonic() >= deadline:
            raise TaskTimeoutError(f"{what}: the answer did not arrive before the deadline.")
        piece = read(CHUNK)
        if not piece:
            break
        total += len(piece)
        if total > cap:
            raise ResponseTooLargeError(
                f"{what}: the answer is larger than {cap / 1e6:.1f} MB; it was cut off there."
            )
        if sink is not None:
            sink(piece)
        else:
            pieces.append(piece)
    return b"".join(pieces)
