"""Bounded connections for the sandbox's HTTP server: few threads, short timeouts, no pile-up.

One selector thread owns the listening socket and every connection that waits for its next
request, so an idle connection costs a file descriptor and no thread. It also reads each
request's head; once the head is complete the connection goes to one of ``Limits.workers``
threads, which handles the request(s) and gives the connection back to the selector
(keep-alive) or closes it. A slow sender therefore holds no thread.

- On Linux, a connection is handed to the server only once its first bytes arrive (or after the
  idle timeout), so connections that send nothing cost no file descriptor here.
- Open connections are capped (``Limits.max_connections``, and never more than the process's
  open-files limit allows). At the cap, the connection idle the longest (one that never sent a
  request first) is closed to make room; when every connection is busy the server stops
  accepting and new ones wait in the listen backlog (``Limits.backlog``).
- A connection idle for ``Limits.idle_timeout`` seconds is closed; a request head not complete
  ``Limits.io_timeout`` seconds after its first byte is answered 408, and a request body (or a
  download) that stalls that long is abandoned.
- When ``Limits.queue`` requests already wait for a thread, a new one is answered
  ``503 Service Unavailable`` with ``Retry-After``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("mio_nb.sandbox")

#: File descriptors kept free for everything but client connections (the task table, uploads
#: being written, files being sent, the engine), on top of two per worker thread.
_RESERVED_FDS = 48


@dataclass(frozen=True)
class Limits:
    """How much the sandbox's HTTP server takes on at once.

    max_connections: open client connections, idle ones included (None: 1024, lowered to fit
        the open-files limit, e.g. 144 under ``ulimit -n 256``).
    workers: requests handled at the same time (threads).
    queue: requests that may wait for a thread; beyond that, 503 with Retry-After.
    idle_timeout: seconds a connection may wait for its (next) request.
    io_timeout: seconds a request's head or body may stall (no byte received) before it is
        abandoned; also bounds a stalled download.
    backlog: the listen backlog (connections the kernel holds before they are accepted; the
        system may lower it, e.g. to 128 on macOS). Large, so that a burst of clients or a
        flood of idle connections never fills it: a full backlog drops new connections, and
        their clients retry only a second later.
    retry_after: the Retry-After of a 503, in seconds.
    defer_accept: on Linux, leave connections that have sent nothing to the kernel (for up to
        ``idle_timeout``) instead of accepting them (TCP_DEFER_ACCEPT).
    """

    max_connections: int | None = None
    workers: int = 32
    queue: int = 256
    idle_timeout: float = 10.0
    io_timeout: float = 10.0
    backlog: int = 1024
    retry_after: int = 1
    defer_accept: bool = True

    def __post_init__(self) -> None:
        if self.workers < 1 or self.queue < 0 or self.backlog < 1 or self.retry_after < 0:
            raise ValueError("workers and backlog must be >= 1, queue and retry_after >= 0")
        if self.idle_timeout <= 0 or self.io_timeout <= 0:
            raise ValueError("idle_timeout and io_timeout must be positive")
        if self.max_connections is not None and self.max_connections < 1:
            raise ValueError("max_connections must be >= 1")

    def connection_cap(self) -> int:
        """``max_connections`` as it fits the process's open-files limit."""
        wanted = self.max_connections or 1024
        if selectors.DefaultSelector is selectors.SelectSelector:  # Windows: select() < 512
            wanted = min(wanted, 500)
        try:
            import resource

            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        except (ImportError, OSError, ValueError):
            return wanted
        if soft == resource.RLIM_INFINITY:
            return wanted
        return max(4, min(wanted, soft - _RESERVED_FDS - 2 * self.workers))


class Connection:
    """One client connection: its socket, and whatever the request handler keeps with it."""

    __slots__ = ("address", "handler", "head", "idle_since", "served", "sock")

    def __init__(self, sock: socket.socket, address: Any) -> None:
        self.sock = sock
        self.address = address
        self.handler: Any = None  # set by the serve callback; has ``finish()``
        #: Bytes of the next request read ahead by the selector thread, not yet handled.
        self.head = bytearray()
        self.idle_since = time.monotonic()
        self.served = 0

    def close(self) -> None:
        if self.handler is not None:
            with contextlib.suppress(Exception):
                self.handler.finish()  # closes its file objects, which hold the socket open
        with contextlib.suppress(OSError):
            self.sock.close()


def _peek(sock: socket.socket) -> bool | None:
    """Whether bytes have arrived on a new connection (False: it is closed already; None:
    nothing yet). Leaves the socket blocking."""
    try:
        sock.setblocking(False)
        return bool(sock.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return None
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            sock.setblocking(True)


#: Bytes of a request head beyond which it goes to a worker anyway (which answers 414 or 431).
_HEAD_LIMIT = 65536 + 8192


def _answer(status: str, message: str, extra: str = "") -> bytes:
    body = json.dumps(
        {"code": 400 if status.startswith("4") else 500, "message": message, "data": None}
    ).encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n"
    )
    return head.encode() + body


_TIMEOUT_ANSWER = _answer("408 Request Timeout", "Request timeout: the request head stalled")


def _busy_answer(retry_after: int) -> bytes:
    return _answer(
        "503 Service Unavailable",
        f"Server busy: retry after {retry_after} s",
        f"Retry-After: {retry_after}\r\n",
    )


class ConnectionServer:
    """Accepts connections on ``address`` and calls ``serve(connection)`` from a worker thread
    whenever a request arrives; ``serve`` returns True to keep the connection open."""

    def __init__(
        self, address: tuple[str, int], limits: Limits, serve: Callable[[Connection], bool]
    ) -> None:
        self.limits = limits
        self.cap = limits.connection_cap()
        self._serve = serve
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind(address)
            self._listener.listen(limits.backlog)
        except OSError:
            self._listener.close()
            raise
        self._listener.setblocking(False)
        if limits.defer_accept and hasattr(socket, "TCP_DEFER_ACCEPT"):  # Linux
            # A connection that sends nothing stays with the kernel (no file descriptor, no
            # work here) for up to the idle timeout: an idle flood costs the server nothing.
            with contextlib.suppress(OSError):
                defer = max(1, math.ceil(limits.idle_timeout))
                self._listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, defer)
        self.server_address = self._listener.getsockname()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._lock = threading.Lock()
        self._open: set[Connection] = set()  # every connection: idle, queued or busy
        self._returned: list[Connection] = []  # given back by workers, to park again
        self._fresh: dict[Connection, None] = {}  # idle, never sent a request (oldest first)
        self._kept: dict[Connection, None] = {}  # idle between requests (oldest first)
        self._reading: dict[Connection, None] = {}  # a request head is arriving (oldest first)
        self._ready: queue.Queue[Connection | None] = queue.Queue()
        self._listening = False
        self._resume_at: float | None = None  # accepting paused until (None: until room)
        self._stopping = threading.Event()
        self._serving = False
        self._stopped = threading.Event()
        self._workers: list[threading.Thread] = []
        self._idle_workers = 0  # workers waiting for a connection
        self._fd_warned_at = -1e9
        self.busy_answers = 0  # 503s sent
        self.evictions = 0  # idle connections closed to make room

    @property
    def open_connections(self) -> int:
        return len(self._open)

    # -- the selector thread -----------------------------------------------------------------
    def serve_forever(self, poll_interval: float = 0.5) -> None:
        if self._stopping.is_set():
            return
        self._serving = True
        port = self.server_address[1]
        self._workers = [
            threading.Thread(target=self._work, name=f"mio-sandbox-http-{port}-{i}", daemon=True)
            for i in range(self.limits.workers)
        ]
        for t in self._workers:
            t.start()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._listen(True)
        tick = min(poll_interval, self.limits.idle_timeout / 4, self.limits.io_timeout / 4)
        try:
            while not self._stopping.is_set():
                for key, _ in self._selector.select(tick):
                    if key.fileobj is self._listener:
                        self._accept()
                    elif key.data is None:
                        with contextlib.suppress(OSError):
                            while self._wake_r.recv(4096):
                                pass
                    else:
                        conn = key.data
                        if conn.served == 0 and not conn.head:
                            self._prepare(conn)
                        self._read_head(conn)
                self._park_returned()
                self._expire()
                self._maybe_resume()
        finally:
            self._stopped.set()

    def _listen(self, on: bool) -> None:
        if on and not self._listening:
            self._selector.register(self._listener, selectors.EVENT_READ, None)
        elif not on and self._listening:
            self._selector.unregister(self._listener)
        self._listening = on

    def _accept(self) -> None:
        for _ in range(64):
            if len(self._open) >= self.cap and not (self._fresh or self._kept or self._reading):
                self._pause(None)  # every connection is busy: new ones wait in the backlog
                return
            try:
                sock, address = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    if time.monotonic() - self._fd_warned_at > 60:
                        self._fd_warned_at = time.monotonic()
                        log.warning("sandbox: out of file descriptors (%s): closing idle ones", exc)
                    if not self._evict():
                        self._pause(time.monotonic() + 0.1)
                    return
                if exc.errno == errno.ECONNABORTED:
                    continue
                log.debug("sandbox: accept failed: %s", exc)
                return
            if len(self._open) >= self.cap:
                self._evict()  # make room: the connection idle the longest goes
            conn = Connection(sock, address)
            with self._lock:
                self._open.add(conn)
            if _peek(sock) is None:
                self._park(conn, self._fresh)
            else:  # its request (or its end) is here already
                self._prepare(conn)
                self._read_head(conn)

    @staticmethod
    def _prepare(conn: Connection) -> None:
        with contextlib.suppress(OSError):
            # Headers and body leave in separate writes: without this, Nagle's algorithm and
            # the client's delayed ACK add ~40 ms to every small answer.
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _pause(self, until: float | None) -> None:
        self._listen(False)
        self._resume_at = until

    def _maybe_resume(self) -> None:
        if self._listening or self._stopping.is_set():
            return
        if self._resume_at is None:
            if len(self._open) < self.cap:
                self._listen(True)
        elif time.monotonic() >= self._resume_at:
            self._listen(True)

    def _park(self, conn: Connection, where: dict[Connection, None]) -> None:
        conn.idle_since = time.monotonic()
        if self._register(conn):
            where[conn] = None

    def _register(self, conn: Connection) -> bool:
        try:
            self._selector.register(conn.sock, selectors.EVENT_READ, conn)
        except (ValueError, OSError):  # closed meanwhile
            self._close(conn)
            return False
        return True

    def _unpark(self, conn: Connection) -> None:
        self._fresh.pop(conn, None)
        self._kept.pop(conn, None)
        self._reading.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(conn.sock)

    def _park_returned(self) -> None:
        with self._lock:
            returned, self._returned = self._returned, []
        for conn in returned:
            self._park(conn, self._kept)

    def _read_head(self, conn: Connection) -> None:
        """Read what has arrived; hand the connection to a worker once its request's head is
        complete, so that a slow sender holds no thread (only a file descriptor, for at most
        ``io_timeout`` seconds)."""
        try:
            conn.sock.setblocking(False)
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return  # a spurious wake-up: still registered
        except OSError:
            data = b""
        finally:
            with contextlib.suppress(OSError):
                conn.sock.settimeout(self.limits.io_timeout)
        if not data:  # closed by the client
            self._unpark(conn)
            self._close(conn)
            return
        conn.head += data
        if b"\n\r\n" in conn.head or b"\n\n" in conn.head or len(conn.head) > _HEAD_LIMIT:
            self._unpark(conn)
            self._dispatch(conn)
            return
        if conn not in self._reading:  # the first bytes of a head: its deadline starts
            self._fresh.pop(conn, None)
            self._kept.pop(conn, None)
            conn.idle_since = time.monotonic()
            self._reading[conn] = None
            if conn.sock not in self._selector.get_map():
                self._register(conn)

    def _evict(self) -> bool:
        """Close the connection idle the longest (never-used ones first, then those between
        requests, then the slowest to send a request) to make room."""
        for where in (self._fresh, self._kept, self._reading):
            if where:
                conn = next(iter(where))
                self._unpark(conn)
                self._close(conn)
                self.evictions += 1
                return True
        return False

    def _expire(self) -> None:
        now = time.monotonic()
        for where, timeout in (
            (self._fresh, self.limits.idle_timeout),
            (self._kept, self.limits.idle_timeout),
            (self._reading, self.limits.io_timeout),
        ):
            while where:
                conn = next(iter(where))
                if conn.idle_since > now - timeout:
                    break
                self._unpark(conn)
                if where is self._reading:  # a head that stalled: say so
                    with contextlib.suppress(OSError):
                        conn.sock.setblocking(False)
                        conn.sock.send(_TIMEOUT_ANSWER)
                self._close(conn)

    def _dispatch(self, conn: Connection) -> None:
        if self._ready.qsize() - self._idle_workers >= self.limits.queue:
            self._answer_busy(conn)
            return
        self._ready.put(conn)

    def _answer_busy(self, conn: Connection) -> None:
        self.busy_answers += 1
        sock = conn.sock
        with contextlib.suppress(OSError):
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                sock.recv(65536)  # what has arrived, so that closing does not reset
            sock.send(_busy_answer(self.limits.retry_after))
            sock.shutdown(socket.SHUT_WR)
        self._close(conn)

    # -- workers -----------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle_workers += 1
            conn = self._ready.get()
            with self._lock:
                self._idle_workers -= 1
            if conn is None:
                return
            keep = False
            try:
                keep = not self._stopping.is_set() and self._serve(conn)
            except OSError as exc:  # closed under our feet (at stop) or by the client
                log.debug("sandbox: connection lost: %s", exc)
            except Exception:
                log.exception("sandbox: a connection failed")
            conn.served += 1
            if keep and not self._stopping.is_set():
                with self._lock:
                    self._returned.append(conn)
                self._wake()
            else:
                self._close(conn)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _close(self, conn: Connection) -> None:
        with self._lock:
            was_open = conn in self._open
            self._open.discard(conn)
        conn.close()
        if was_open and not self._listening and self._resume_at is None:
            self._wake()  # room again: the selector thread resumes accepting

    # -- stopping ----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the selector thread (returns when it has stopped)."""
        self._stopping.set()
        self._wake()
        if self._serving:
            self._stopped.wait(10)

    def close_connections(self) -> None:
        """Shut every open connection down, busy ones included (their threads see the end)."""
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    def server_close(self) -> None:
        while True:  # connections still waiting for a worker: closed unanswered
            try:
                queued = self._ready.get_nowait()
            except queue.Empty:
                break
            if queued is not None:
                self._close(queued)
        for _ in self._workers:
            self._ready.put(None)
        deadline = time.monotonic() + 5
        for t in self._workers:
            t.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            conns = list(self._open)
            self._open.clear()
        for conn in conns:
            conn.close()
        for closable in (self._selector, self._listener, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                closable.close()
