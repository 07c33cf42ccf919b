"""HTTP for the client: sessions, auth, retries, envelopes and presigned storage transfers.

Two sessions, never mixed:

- ``api``: the API host, with ``Authorization`` on every request. Calls without side effects
  (upload-url, access-url, task detail) are retried by urllib3 ``Retry`` on connection errors,
  broken connections, timeouts and 5xx, with jittered backoff honouring ``Retry-After``.
  A call that says it creates a task (``creates_task=True``: the decision is made per request,
  never by matching its URL) goes through ``api_create``, whose adapter retries only errors
  raised while connecting (the request was certainly not sent): after a request may have
  reached the server, a task may exist, so the call is never repeated and the error says so.
- ``storage``: presigned PUT/GET URLs, with no credentials at all (an auth hook strips any
  ``Authorization`` header, even one ``requests`` would take from ``~/.netrc``).

Envelope-level answers urllib3 cannot see are handled here with the same ``Retry`` policy
object for the backoff: 802 (rate limited: wait and retry, also for task creation, as the server
refused and made nothing), 401 (fetch a new token once when client credentials are set), and a
500 envelope inside an HTTP 200 (retried for side-effect-free calls only).

Bounds: a call with a ``deadline`` (``time.monotonic()`` value; ``Task.wait`` passes one) ends by
it whatever the server does: each request gets at most the time left as its socket timeout, the
body is read in pieces with the clock checked between them (a trickled answer), and a retry or
``Retry-After`` that would end past it raises TaskTimeoutError instead of sleeping. API answers
are capped at ``API_BODY_CAP``; downloads at their caller's cap (results: declared size + margin,
never over ``RESULT_CAP``), streamed to disk. Storage URLs are checked by
:func:`mio_nb.urls.check_storage_url` before any connection; redirects are followed only on the
same host.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError
from urllib3.util.retry import Retry

from . import __version__, protocol
from .bounds import (
    DeadlineReached,
    DeadlineRetry,
    Watchdog,
    WatchedAdapter,
    bounded,
    deadline_of_thread,
    read_body,
    time_left,
)
from .credentials import Credentials
from .errors import (
    TASK_MAY_EXIST_HINT,
    AuthError,
    FileError,
    MioError,
    NetworkError,
    OutputFolderError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
    TaskTimeoutError,
    UnsafeURLError,
    error_class,
    error_for,
)
from .protocol import Code
from .urls import check_storage_url

log = logging.getLogger("mio_nb.transport")

RETRY_STATUSES = frozenset({500, 502, 503, 504})
#: The largest API answer read (a task detail with hundreds of faces is well under 1 MB).
API_BODY_CAP = 8 << 20
#: The largest file ever downloaded (the API's own limit for uploads is far below).
RESULT_CAP = 500 << 20
#: Redirects followed by a storage download (same host only).
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class RetryConfig:
    """How hard the client tries. ``rate_limit_wait``: seconds to keep retrying on 802."""

    retries: int = 5
    backoff_factor: float = 0.25
    backoff_max: float = 10.0
    backoff_jitter: float = 0.25
    rate_limit_wait: float = 120.0
    rate_limit_backoff: float = 0.5
    rate_limit_backoff_max: float = 15.0
    retry_after_max: int = 60

    def idempotent(self) -> Retry:
        """For calls without side effects: retry connection, read and 5xx failures."""
        return DeadlineRetry(
            total=self.retries,
            connect=self.retries,
            read=self.retries,
            status=self.retries,
            other=0,
            redirect=0,
            allowed_methods=None,  # every verb: only side-effect-free calls use this adapter
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff_factor,
            backoff_max=self.backoff_max,
            backoff_jitter=self.backoff_jitter,
            respect_retry_after_header=True,
            retry_after_max=self.retry_after_max,
            raise_on_status=False,
        )

    def connect_only(self) -> Retry:
        """For task-creating POSTs: retry only errors raised while connecting (not sent)."""
        return DeadlineRetry(
            total=self.retries,
            connect=self.retries,
            read=False,  # re-raise read errors/timeouts: the request may have been handled
            status=0,
            other=0,
            redirect=0,
            allowed_methods=frozenset({"GET"}),  # never POST on read or status
            status_forcelist=frozenset(),
            backoff_factor=self.backoff_factor,
            backoff_max=self.backoff_max,
            backoff_jitter=self.backoff_jitter,
            respect_retry_after_header=False,
            raise_on_status=False,
        )

    def envelope_policy(self) -> Retry:
        """Backoff for a 500 envelope inside an HTTP 200 (urllib3 sees only the status)."""
        return Retry(
            total=None,
            backoff_factor=self.backoff_factor,
            backoff_max=self.backoff_max,
            backoff_jitter=self.backoff_jitter,
            retry_after_max=self.retry_after_max,
        )

    def rate_limit_policy(self) -> Retry:
        """Backoff while rate limited (802): 0.5 s, 1 s, 2 s ... up to 15 s between tries."""
        return Retry(
            total=None,
            backoff_factor=self.rate_limit_backoff,
            backoff_max=self.rate_limit_backoff_max,
            backoff_jitter=self.backoff_jitter,
            retry_after_max=self.retry_after_max,
        )


class _TokenAuth(requests.auth.AuthBase):
    """Adds ``Authorization: <scheme> <token>``; remembers which token each request carried."""

    def __init__(self, credentials: Credentials, scheme: str) -> None:
        self._credentials = credentials
        self._scheme = scheme

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self._credentials.token()
        r.headers["Authorization"] = f"{self._scheme} {token}" if self._scheme else token
        r._mio_token = token  # type: ignore[attr-defined]
        return r

    def __repr__(self) -> str:
        return "<_TokenAuth>"


class _NoAuth(requests.auth.AuthBase):
    """Storage requests carry no credentials: presigned URLs are their own authorisation."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers.pop("Authorization", None)
        return r


class SupportsRead(Protocol):
    """A body ``put`` can stream: ``read(n)`` and ``seek`` (to rewind for a retry)."""

    def read(self, n: int = -1, /) -> bytes: ...

    def seek(self, pos: int, whence: int = 0, /) -> int: ...


class StorageURLExpired(Exception):
    """A presigned URL was refused (HTTP 403): get a fresh one and try once more."""


def _sent_before_failure(exc: BaseException) -> bool:
    """False only when the failure certainly happened before the request was sent."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, MaxRetryError):
            return not isinstance(e.reason, (NewConnectionError, ConnectTimeoutError))
        if isinstance(e, (NewConnectionError, ConnectTimeoutError)):
            return False
        todo.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
        todo.extend([e.__cause__, e.__context__])
    return True


def _short_reason(exc: BaseException) -> str:
    """A short, secret-free description of a network failure (no URLs, no headers)."""
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    text = str(exc)
    for marker in (
        "Connection refused",
        "Connection reset",
        "Remote end closed",
        "Name or service",
    ):
        if marker.lower() in text.lower():
            return marker.lower()
    return type(exc).__name__


def _strip_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _html_title(text: str) -> str:
    low = text.lower()
    start, end = low.find("<title>"), low.find("</title>")
    if 0 <= start < end:
        return " ".join(text[start + 7 : end].split())[:100]
    return ""


def parse_envelope(resp: requests.Response) -> tuple[int, str, Any]:
    """``(code, message, data)`` of an API answer; ServerError etc. if it is not an envelope."""
    try:
        body = resp.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        body = None
    if isinstance(body, dict) and "code" in body:
        try:
            code = int(body["code"])
        except (TypeError, ValueError, OverflowError):
            code = None
        if code is not None:
            message = str(body.get("message") or "")
            if resp.status_code >= 500 and code == Code.OK:
                code = resp.status_code
            return code, message, body.get("data")
    status = resp.status_code
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
    title = _html_title(resp.text[:2000]) if "html" in ctype else ""
    what = f"an HTML page ({title})" if title else f"a {ctype} body"
    message = f"The server answered HTTP {status} with {what} instead of the API's JSON."
    if status == 401:
        return Code.AUTH_FAILED, message, None
    if status == 429:
        return Code.RATE_LIMITED, message, None
    if 400 <= status < 500:
        return Code.BAD_PARAMETER, message, None
    return (status if status >= 500 else Code.SERVER_ERROR), message, None


class Transport:
    """The client's HTTP layer. ``call()`` returns the envelope's ``data`` or raises MioError."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        storage_timeout: tuple[float, float] = (10.0, 300.0),
        auth_scheme: str = "Bearer",
        retry: RetryConfig | None = None,
        user_agent: str | None = None,
        recorder: Any = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.timeout = timeout
        self.storage_timeout = storage_timeout
        self.retry = retry or RetryConfig()
        #: Called with the delay each time the server answers 802 (client.batch slows down).
        self.rate_limit_listeners: list[Callable[[float], None]] = []
        #: Called with (path, envelope code) for every API answer (telemetry, benchmarks).
        self.answer_listeners: list[Callable[[str, int], None]] = []
        agent = user_agent or f"mio-nb/{__version__} python-requests/{requests.__version__}"

        self.api = requests.Session()
        self.api_create = requests.Session()  # calls that create a task: never resent
        for session, policy in (
            (self.api, self.retry.idempotent()),
            (self.api_create, self.retry.connect_only()),
        ):
            session.headers["User-Agent"] = agent
            session.auth = _TokenAuth(credentials, auth_scheme)
            session.mount("http://", WatchedAdapter(max_retries=policy))
            session.mount("https://", WatchedAdapter(max_retries=policy))

        self.storage = requests.Session()
        self.storage.headers["User-Agent"] = agent
        self.storage.auth = _NoAuth()
        storage_adapter = WatchedAdapter(max_retries=self.retry.idempotent(), pool_maxsize=16)
        self.storage.mount("http://", storage_adapter)
        self.storage.mount("https://", storage_adapter)

        #: Sees every answer, redacted (``mio_nb.recording.Recorder``); None records nothing.
        self.recorder = recorder
        if recorder is not None:
            self.storage.hooks["response"].append(recorder.storage_exchange)

        if credentials.token_url is None and credentials.can_refresh:
            credentials.token_url = self.base_url + protocol.TOKEN_PATH
        credentials.set_fetcher(self._fetch_token)
        #: Number of API requests sent (each retry counts); benchmarks and tests read it.
        self.request_count = 0

    def __repr__(self) -> str:
        return f"<Transport {self.base_url}>"

    def close(self) -> None:
        self.api.close()
        self.api_create.close()
        self.storage.close()

    # -- the API ----------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        creates_task: bool = False,
        timeout: float | tuple[float, float] | None = None,
        deadline: float | None = None,
    ) -> Any:
        """Send one API call and return the envelope's ``data``.

        ``creates_task`` marks calls that must never be repeated once they may have been sent.
        ``deadline`` (a ``time.monotonic()`` value): the call ends by then, retries and waits
        included, else TaskTimeoutError.
        """
        url = self.base_url + path
        policy = self.retry.envelope_policy()
        limit_policy = self.retry.rate_limit_policy()
        refreshed = False
        waited_for_limit = 0.0
        server_retries = 0
        what = f"{method} {path}"
        while True:
            started = time.monotonic()
            self.request_count += 1
            resp, failure = self._send(method, url, json, params, timeout, deadline, creates_task)
            if failure is not None:
                # Raised outside the except block: the error keeps no reference to the
                # request (whose headers hold the token).
                if isinstance(failure, MioError):
                    if creates_task and isinstance(
                        failure, TaskTimeoutError | ResponseTooLargeError
                    ):
                        failure.task_may_exist = True
                        failure.hint = TASK_MAY_EXIST_HINT
                    raise failure
                raise self._network_error(method, path, failure, creates_task)
            assert resp is not None
            code, message, data = parse_envelope(resp)
            for listener in self.answer_listeners:
                listener(path, code)
            log.debug(
                "%s %s -> HTTP %s, code %s (%.0f ms)",
                method,
                path,
                resp.status_code,
                code,
                (time.monotonic() - started) * 1000,
            )
            if code == protocol.Code.OK:
                return data
            if code == protocol.Code.AUTH_FAILED and self.credentials.can_refresh and not refreshed:
                log.info("Token refused (401); fetching a new one.")
                self.credentials.refresh(getattr(resp.request, "_mio_token", None))
                refreshed = True
                continue
            if code == protocol.Code.RATE_LIMITED:
                # The server refused the request: nothing was done, so even a task-creating
                # call may be sent again.
                limit_policy = limit_policy.increment(method, url)
                delay = self._retry_after(resp, limit_policy) or max(
                    limit_policy.get_backoff_time(), self.retry.rate_limit_backoff
                )
                self._sleep_within(delay, deadline, f"{what} was rate limited (802)")
                if waited_for_limit + delay > self.retry.rate_limit_wait:
                    raise RateLimitError(
                        f"Rate limited: {message or 'not enough requests'}. The server asks to "
                        f"wait {delay:.1f} s more, past the {self.retry.rate_limit_wait:g} s "
                        "this client may wait (RetryConfig.rate_limit_wait); waited "
                        f"{waited_for_limit:.1f} s over {len(limit_policy.history)} tries.",
                        code=protocol.Code.RATE_LIMITED,
                        http_status=resp.status_code,
                    )
                log.info("Rate limited (802) on %s; waiting %.1f s.", path, delay)
                for on_limit in self.rate_limit_listeners:
                    on_limit(delay)
                time.sleep(delay)
                waited_for_limit += delay
                continue
            server_side = Code.SERVER_ERROR <= code < 600
            if (
                server_side
                and resp.status_code < 500  # HTTP 5xx were already retried by urllib3
                and not creates_task
                and server_retries < self.retry.retries
            ):
                server_retries += 1
                policy = policy.increment(method, url)
                delay = self._retry_after(resp, policy) or policy.get_backoff_time()
                self._sleep_within(delay, deadline, f"{what} failed ({code})")
                log.info("Server error %s on %s; retrying in %.1f s.", code, path, delay)
                time.sleep(delay)
                continue
            may_exist = creates_task and server_side
            if code == protocol.Code.AUTH_FAILED and refreshed:
                message = f"{message} (a freshly fetched token was refused too)".strip()
            raise error_for(
                code,
                message or f"{method} {path} failed",
                http_status=resp.status_code,
                task_may_exist=may_exist,
            )

    @staticmethod
    def _sleep_within(delay: float, deadline: float | None, what: str) -> None:
        """TaskTimeoutError when sleeping ``delay`` would end past ``deadline``."""
        if deadline is not None and time.monotonic() + delay >= deadline:
            raise TaskTimeoutError(
                f"{what}; the server asks to wait {delay:.1f} s, past the deadline."
            )

    def _send(
        self,
        method: str,
        url: str,
        json: Any,
        params: Any,
        timeout: Any,
        deadline: float | None = None,
        creates_task: bool = False,
    ) -> tuple[requests.Response | None, BaseException | None]:
        session = self.api_create if creates_task else self.api
        what = f"{method} {urlsplit(url).path}"
        deadline_of_thread.value = deadline
        try:
            with Watchdog(deadline):
                return self._request(session, method, url, json, params, timeout, deadline, what)
        except requests.RequestException as exc:
            exc.request = None  # drop the prepared request (and its Authorization header)
            if deadline is not None and time.monotonic() >= deadline - 0.05:
                return None, TaskTimeoutError(f"{what}: no answer before the deadline.")
            return None, exc
        except DeadlineReached as exc:
            return None, TaskTimeoutError(
                f"{what}: retrying would take {exc.delay:.1f} s more, past the deadline."
            )
        except MioError as exc:
            return None, exc
        except Exception as exc:  # urllib3's own errors while reading (ProtocolError...)
            if deadline is not None and time.monotonic() >= deadline - 0.05:
                return None, TaskTimeoutError(f"{what}: no answer before the deadline.")
            return None, exc
        finally:
            deadline_of_thread.value = None

    def _request(
        self,
        session: requests.Session,
        method: str,
        url: str,
        json: Any,
        params: Any,
        timeout: Any,
        deadline: float | None,
        what: str,
    ) -> tuple[requests.Response, None]:
        left = time_left(deadline, what)
        resp = session.request(
            method,
            url,
            json=json,
            params=params,
            timeout=bounded(timeout or self.timeout, left),
            stream=True,
        )
        try:
            resp._content = read_body(resp, API_BODY_CAP, deadline, what)
            resp._content_consumed = True  # type: ignore[attr-defined]  # back to the pool
        finally:
            resp.close()
        # The recorder sees the answer here, once its body is read (and capped): a session
        # "response" hook would run before, on a stream not read yet, and miss api_create.
        if self.recorder is not None:
            self.recorder.api_exchange(resp)
        return resp, None

    @staticmethod
    def _retry_after(resp: requests.Response, policy: Retry) -> float | None:
        value = resp.headers.get("Retry-After")
        if not value:
            return None
        try:
            return policy.parse_retry_after(value)
        except Exception:
            return None

    def _network_error(
        self, method: str, path: str, exc: BaseException, creates_task: bool
    ) -> MioError:
        host = urlsplit(self.base_url).netloc
        reason = _short_reason(exc)
        if creates_task and _sent_before_failure(exc):
            return NetworkError(
                f"{method} {path} to {host}: {reason} after the request was sent; "
                "no answer came back.",
                hint=TASK_MAY_EXIST_HINT,
                task_may_exist=True,
            )
        return NetworkError(f"{method} {path} to {host}: {reason}.")

    def _fetch_token(self, client_id: str, client_secret: str, token_url: str) -> tuple[str, Any]:
        """Exchange client credentials for ``(access_token, expires_in)`` at ``token_url``."""
        try:
            self.request_count += 1
            resp = self.storage.post(
                token_url,
                json={"client_id": client_id, "client_secret": client_secret},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            exc.request = None  # its body holds the client secret
            raise NetworkError(
                f"Token request to {urlsplit(token_url).netloc}: {_short_reason(exc)}."
            ) from None
        code, message, data = parse_envelope(resp)
        if code != 200 or not isinstance(data, dict) or not data.get("access_token"):
            refused = (Code.OK, Code.BAD_PARAMETER, Code.AUTH_FAILED)
            cls = AuthError if code in refused else error_class(code)
            raise cls(
                f"The token endpoint refused the client credentials: {message or code}",
                code=Code.AUTH_FAILED if cls is AuthError else code,
            )
        log.info("Fetched a new access token (expires in %s s).", data.get("expires_in"))
        return str(data["access_token"]), data.get("expires_in")

    # -- presigned storage --------------------------------------------------------------------

    def put(
        self,
        url: str,
        body: IO[bytes] | SupportsRead,
        length: int,
        content_type: str,
    ) -> None:
        """PUT ``length`` bytes from ``body`` (file-like, seekable) to a presigned URL."""
        headers = {"Content-Type": content_type, "Content-Length": str(length)}
        check_storage_url(url, self.base_url, what="An upload URL")
        try:
            resp = self.storage.put(
                url,
                data=body,
                headers=headers,
                timeout=self.storage_timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise NetworkError(
                f"Upload to {urlsplit(url).netloc} failed: {_short_reason(exc)}."
            ) from None
        if resp.status_code == 403:
            raise StorageURLExpired()
        if resp.status_code >= 300:
            raise self._storage_error("Upload", url, resp)

    def download(
        self,
        url: str,
        dest: Path,
        *,
        progress: Callable[[int], None] | None = None,
        overwrite: bool = False,
        max_bytes: int = RESULT_CAP,
        deadline: float | None = None,
    ) -> Path:
        """Stream a presigned GET to ``dest`` via a temporary file; returns the saved path.

        The URL (and every redirect, which must stay on its host) is checked before any
        connection (:func:`mio_nb.urls.check_storage_url`). At most ``max_bytes`` are read
        (ResponseTooLargeError), by ``deadline`` (TaskTimeoutError). Unless ``overwrite``, an
        existing file is never replaced: the download goes to the first free name
        ``<stem>-2<suffix>``, ``-3``... next to ``dest``.
        """
        max_bytes = min(max_bytes, RESULT_CAP)
        what = f"Download of {_strip_query(url)}"
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputFolderError(
                f"Cannot make the folder {dest.parent}: {e.strerror or e}."
            ) from None
        try:
            with Watchdog(deadline), self._open_storage(url, deadline, what) as resp:
                if resp.status_code == 403:
                    raise StorageURLExpired()
                if resp.status_code >= 300:
                    raise self._storage_error("Download", url, resp)
                declared = resp.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise ResponseTooLargeError(
                        f"{what}: the server announces {int(declared) / 1e6:.1f} MB, more than "
                        f"the {max_bytes / 1e6:.1f} MB expected; nothing was downloaded."
                    )
                fd, tmp = tempfile.mkstemp(prefix=".part-", dir=dest.parent)
                try:
                    with os.fdopen(fd, "wb") as out:

                        def sink(piece: bytes) -> None:
                            out.write(piece)
                            if progress:
                                progress(len(piece))

                        read_body(resp, max_bytes, deadline, what, sink)
                    if overwrite:
                        os.replace(tmp, dest)
                        return dest
                    return _link_free_name(Path(tmp), dest)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
        except requests.RequestException as exc:
            if deadline is not None and time.monotonic() >= deadline - 0.05:
                raise TaskTimeoutError(f"{what}: not finished before the deadline.") from None
            raise NetworkError(f"{what} failed: {_short_reason(exc)}.") from None
        except (MioError, StorageURLExpired, OSError):
            raise
        except DeadlineReached:
            raise TaskTimeoutError(f"{what}: not finished before the deadline.") from None
        except Exception as exc:  # urllib3's errors while reading the body
            if deadline is not None and time.monotonic() >= deadline - 0.05:
                raise TaskTimeoutError(f"{what}: not finished before the deadline.") from None
            raise NetworkError(f"{what} failed: {_short_reason(exc)}.") from None

    def _open_storage(self, url: str, deadline: float | None, what: str) -> requests.Response:
        """GET ``url`` (checked first), following redirects on the same host only."""
        deadline_of_thread.value = deadline
        try:
            for _ in range(MAX_REDIRECTS + 1):
                check_storage_url(url, self.base_url)
                left = time_left(deadline, what)
                resp = self.storage.get(
                    url,
                    stream=True,
                    allow_redirects=False,
                    timeout=bounded(self.storage_timeout, left),
                )
                if not resp.is_redirect:
                    return resp
                target = urljoin(url, resp.headers.get("Location", ""))
                resp.close()
                here, there = urlsplit(url), urlsplit(target)
                if (there.hostname or "").lower() != (here.hostname or "").lower():
                    raise UnsafeURLError(
                        f"{what} redirects to another host ({there.hostname}); it was not followed."
                    )
                url = target
            raise UnsafeURLError(f"{what} redirects more than {MAX_REDIRECTS} times.")
        finally:
            deadline_of_thread.value = None

    @staticmethod
    def _storage_error(what: str, url: str, resp: requests.Response) -> MioError:
        code, message, _ = parse_envelope(resp)
        if code in (Code.UNSUPPORTED_FORMAT, Code.FILE_TOO_LARGE):
            return error_for(code, message, http_status=resp.status_code)
        where = _strip_query(url)
        if resp.status_code >= 500:
            return ServerError(
                f"{what} of {where}: storage answered HTTP {resp.status_code}.",
                http_status=resp.status_code,
            )
        return FileError(
            f"{what} of {where}: storage answered HTTP {resp.status_code}. {message}".strip(),
            http_status=resp.status_code,
        )


def _link_free_name(tmp: Path, dest: Path) -> Path:
    """Move the complete file ``tmp`` to ``dest``, or to the first free ``dest-N`` name; never
    replaces a file (a hard link fails if the name exists, even if another process just took
    it)."""
    for n in range(1, 1000):
        target = dest if n == 1 else dest.with_name(f"{dest.stem}-{n}{dest.suffix}")
        try:
            os.link(tmp, target)
        except FileExistsError:
            continue
        except OSError:  # no hard links on this file system: check, then rename
            if target.exists():
                continue
            os.replace(tmp, target)
            return target
        tmp.unlink()
        return target
    raise FileExistsError(f"No free file name next to {dest}")
