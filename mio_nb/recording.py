"""A recorded session for bug reports: every exchange with the API and storage, redacted.

``Client(record="dir")``, ``MIO_NB_RECORD=dir`` or ``mio-nb ... --record dir`` write one JSON line
per exchange to ``dir/session-<time>-<pid>.jsonl``:

- API calls: method, path, the query and the request's JSON body (redacted), the HTTP status and
  the answer's JSON envelope (redacted), the shape of the ``Authorization`` header
  (``Bearer <token>`` or ``<token>``), sizes and time;
- the token exchange: its URL, status and envelope (``access_token`` redacted), never the
  request body (it holds the client secret);
- storage (presigned URLs): method, host, path (random parts redacted), status, sizes, and
  whether an ``Authorization`` header went along (it never should). No bodies;
- warnings of the client and of urllib3 (a retried connection failure, which no answer records),
  as ``log`` lines, redacted like the rest.

Redacted: tokens, the client secret, presigned query strings (every value except the algorithm,
date and expiry), and the random parts of keys (UUIDs, long hex runs), replaced by stand-ins
that stay the same within a session so the record still reads as a story (and can be replayed:
:mod:`mio_nb.replay`). Every value the recorder learns is secret (the token each request
carried, a fetched ``access_token``, the client secret of a token request) is also scrubbed from
each line as a last pass.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import sys
import threading
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import OutputFolderError

ENV_RECORD = "MIO_NB_RECORD"
REDACTED = "<redacted>"
#: JSON fields whose values are always secret.
SECRET_FIELDS = frozenset(
    {
        "access_token",
        "refresh_token",
        "token",
        "client_secret",
        "secret",
        "password",
        "authorization",
        "api_key",
        "apikey",
    }
)
#: Query parameters of presigned URLs that are kept (they explain an expiry, reveal nothing).
KEPT_QUERY = frozenset(
    {
        "x-amz-algorithm",
        "x-amz-content-sha256",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-signedheaders",
        "x-expires",
    }
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LONG_HEX = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{20,}(?![0-9A-Za-z])")
_URL = re.compile(r"^https?://", re.I)
_EMBEDDED_URL = re.compile(r"https?://[^\s'\"<>]+", re.I)
_EMBEDDED_QUERY = re.compile(r"\?([^\s'\"<>]+)")
#: Loggers whose warnings go into a record: the client's, and urllib3's retries (which name the
#: failure of a request that never got an answer, so no exchange records it).
LOGGERS = ("mio_nb", "urllib3")
#: Names that hold "token" but no secret.
_NOT_SECRET = frozenset({"token_type", "expires_in"})
#: Secrets shorter than this are not scrubbed by value (they would match ordinary text).
_MIN_SECRET = 6


class Redactor:
    """Replaces secrets and random parts by stand-ins that stay the same within a session."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stand_ins: dict[str, str] = {}
        self._counter = itertools.count(1)
        self._secrets: set[str] = set()

    def add_secret(self, value: object) -> None:
        """Scrub ``value`` from everything recorded from now on."""
        if isinstance(value, str) and len(value.strip()) >= _MIN_SECRET:
            with self._lock:
                self._secrets.add(value.strip())

    def _stand_in(self, original: str, kind: str) -> str:
        with self._lock:
            found = self._stand_ins.get(original)
            if found is None:
                n = next(self._counter)
                if kind == "uuid":
                    found = f"00000000-0000-4000-8000-{n:012d}"
                else:
                    found = f"{n:0{len(original)}x}"[-len(original) :]
                self._stand_ins[original] = found
            return found

    def key(self, text: str) -> str:
        """A key or path with its random parts (UUIDs, long hex runs) replaced."""
        text = _UUID.sub(lambda m: self._stand_in(m.group(0).lower(), "uuid"), text)
        return _LONG_HEX.sub(lambda m: self._stand_in(m.group(0).lower(), "hex"), text)

    def query(self, query: str) -> str:
        """A query string with every value but the kept ones (expiry, date) redacted."""
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v if k.lower() in KEPT_QUERY else REDACTED) for k, v in pairs]
        return urlencode(kept, safe="<>")

    def api_query(self, query: str) -> str:
        """An API call's query (``id=123``): kept, but secret-looking names redacted and keys'
        random parts replaced."""
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, REDACTED if _secret_name(k) else self.key(v)) for k, v in pairs]
        return urlencode(kept, safe="<>")

    def url(self, url: str) -> str:
        """``scheme://host/path?query`` with the path's random parts and the query redacted
        (user and password in the URL too)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        if ":" in (parts.hostname or "") and not host.startswith("["):
            host = f"[{parts.hostname}]" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, host, self.key(parts.path), self.query(parts.query), ""))

    def value(self, obj: Any) -> Any:
        """A JSON value with secret fields, URLs and keys redacted."""
        if isinstance(obj, dict):
            return {
                str(k): (REDACTED if _secret_name(str(k)) else self.value(v))
                for k, v in obj.items()
            }
        if isinstance(obj, list):
            return [self.value(v) for v in obj]
        if isinstance(obj, str):
            return self.url(obj) if _URL.match(obj) else self.text(obj)
        return obj

    def text(self, text: str) -> str:
        """Free text (a message, a log line) with embedded URLs and keys redacted."""
        text = _EMBEDDED_URL.sub(lambda m: self.url(m.group(0)), text)
        text = _EMBEDDED_QUERY.sub(lambda m: "?" + self.query(m.group(1)), text)
        return self.key(text)

    def scrub(self, text: str) -> str:
        """``text`` with every known secret replaced (the last pass over each line)."""
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text


def _secret_name(name: str) -> bool:
    low = name.lower()
    if low in _NOT_SECRET:
        return False
    return low in SECRET_FIELDS or any(w in low for w in ("signature", "credential", "token"))


def _json_body(raw: Any) -> Any:
    if not raw:
        return None
    if isinstance(raw, str):
        raw = raw.encode()
    if not isinstance(raw, bytes):
        return "<stream>"
    try:
        return json.loads(raw)
    except ValueError:
        return f"<{len(raw)} bytes, not JSON>"


def _auth_shape(header: str | None) -> str:
    """``Bearer <token>``, ``<token>`` or ``none``: the form of a header, never its value."""
    if not header:
        return "none"
    scheme, _, rest = header.strip().partition(" ")
    return f"{scheme} <token>" if rest else "<token>"


def _size(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class _Warnings(logging.Handler):
    """Copies warnings of :data:`LOGGERS` into a recorder while it lives (a weak reference: a
    recorder nobody uses any more stops being written to)."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(logging.WARNING)
        self._recorder = weakref.ref(recorder)

    def emit(self, record: logging.LogRecord) -> None:
        recorder = self._recorder()
        if recorder is None:
            self.detach()
            return
        try:
            recorder.note(
                "log", logger=record.name, level=record.levelname, message=record.getMessage()
            )
        except Exception:
            self.handleError(record)

    def attach(self) -> None:
        for name in LOGGERS:
            logging.getLogger(name).addHandler(self)

    def detach(self) -> None:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(self)


class Recorder:
    """Writes redacted exchanges as JSON lines; ``api_exchange``/``storage_exchange`` are
    ``requests`` response hooks (installed by :class:`mio_nb.transport.Transport`).

    ``bodies=True`` also keeps the bodies of storage downloads in ``<folder>/bodies/`` so that
    :mod:`mio_nb.replay` can serve them again: for tests only, as they hold the pictures.
    """

    def __init__(self, folder: str | os.PathLike[str], *, bodies: bool = False) -> None:
        self.folder = Path(folder).expanduser()
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        self.path = self.folder / f"session-{stamp}-{os.getpid()}-{id(self) % 10000:04d}.jsonl"
        self.bodies = bodies
        self.redactor = Redactor()
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.path.touch()
        self.write(session_line())
        self._warnings = _Warnings(self)
        self._warnings.attach()

    def close(self) -> None:
        """Stop copying warnings into this record (exchanges go on being recorded)."""
        self._warnings.detach()

    def __repr__(self) -> str:
        return f"<Recorder {self.path}>"

    # -- hooks ---------------------------------------------------------------------------------

    def api_exchange(self, resp: Any, *args: Any, **kwargs: Any) -> Any:
        """Record one API answer (a ``requests`` response hook; returns ``resp`` unchanged)."""
        req = resp.request
        self.redactor.add_secret(getattr(req, "_mio_token", None))
        parts = urlsplit(req.url or "")
        envelope = None
        if not kwargs.get("stream"):
            envelope = _json_body(resp.content)
            if isinstance(envelope, str):
                envelope = f"<{resp.headers.get('Content-Type', 'no content type')}: {envelope}>"
        self.write(
            {
                "kind": "api",
                "method": req.method,
                "host": parts.netloc,
                "path": self.redactor.key(parts.path),
                "query": self.redactor.api_query(parts.query) if parts.query else "",
                "authorization": _auth_shape(req.headers.get("Authorization")),
                "request": self.redactor.value(_json_body(req.body)),
                "status": resp.status_code,
                "content_type": resp.headers.get("Content-Type", ""),
                "date": resp.headers.get("Date", ""),
                "response": self.redactor.value(envelope),
                "elapsed_ms": round(resp.elapsed.total_seconds() * 1000, 1),
            }
        )
        return resp

    def storage_exchange(self, resp: Any, *args: Any, **kwargs: Any) -> Any:
        """Record one storage answer, or the token exchange (a POST: storage never sees one)."""
        req = resp.request
        parts = urlsplit(req.url or "")
        if req.method == "POST":
            return self._token_exchange(resp, parts)
        line: dict[str, Any] = {
            "kind": "storage",
            "method": req.method,
            "host": parts.netloc,
            "path": self.redactor.key(parts.path),
            "query": self.redactor.query(parts.query) if parts.query else "",
            "authorization": _auth_shape(req.headers.get("Authorization")),
            "status": resp.status_code,
            "content_type": resp.headers.get("Content-Type", ""),
            "sent_bytes": _size(req.headers.get("Content-Length")),
            "received_bytes": _size(resp.headers.get("Content-Length")),
            "elapsed_ms": round(resp.elapsed.total_seconds() * 1000, 1),
        }
        if self.bodies and req.method == "GET" and resp.status_code == 200:
            folder = self.folder / "bodies"
            folder.mkdir(exist_ok=True)
            name = f"{next(self._seq):05d}.bin"
            (folder / name).write_bytes(resp.content)  # cached: the download reads it again
            line["body_file"] = f"bodies/{name}"
            line["received_bytes"] = len(resp.content)
        self.write(line)
        return resp

    def _token_exchange(self, resp: Any, parts: Any) -> Any:
        body = _json_body(resp.request.body)
        if not isinstance(body, dict):  # form-encoded
            raw = resp.request.body
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
            body = dict(parse_qsl(text))
        for name in ("client_secret", "secret", "password"):
            self.redactor.add_secret(body.get(name))
        envelope = _json_body(resp.content)
        if isinstance(envelope, dict) and isinstance(envelope.get("data"), dict):
            self.redactor.add_secret(envelope["data"].get("access_token"))
        self.write(
            {
                "kind": "token",
                "method": "POST",
                "host": parts.netloc,
                "path": parts.path,
                "request_fields": sorted(str(k) for k in body),
                "status": resp.status_code,
                "content_type": resp.headers.get("Content-Type", ""),
                "response": self.redactor.value(envelope),
            }
        )
        return resp

    # -- lines ---------------------------------------------------------------------------------

    def note(self, kind: str, **fields: Any) -> None:
        """A line of another kind (e.g. a doctor's check), redacted like the exchanges."""
        self.write({"kind": kind, **self.redactor.value(fields)})

    def write(self, line: dict[str, Any]) -> None:
        stamped = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **line}
        text = self.redactor.scrub(json.dumps(stamped, ensure_ascii=False, default=str))
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(text + "\n")


def session_line() -> dict[str, Any]:
    """The first line of a record: what ran (versions, platform), for whoever reads the report."""
    import platform

    import requests
    import urllib3

    from . import __version__

    return {
        "kind": "session",
        "mio_nb": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "requests": requests.__version__,
        "urllib3": urllib3.__version__,
        "colab": "google.colab" in sys.modules,
    }


def open_recorder(record: str | os.PathLike[str] | Recorder | None) -> Recorder | None:
    """The recorder ``record`` names (a folder or a Recorder), else ``MIO_NB_RECORD``'s, else
    None."""
    if isinstance(record, Recorder):
        return record
    folder = record if record is not None else os.environ.get(ENV_RECORD) or None
    if not folder:
        return None
    try:
        return Recorder(folder)
    except OSError as exc:
        raise OutputFolderError(
            f"Cannot write the session record to {folder}: {exc.strerror or exc}.",
            hint=f"Choose a folder you can write to (record=, {ENV_RECORD} or --record). "
            "Nothing was sent.",
        ) from None


def read_session(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The lines of a recorded session (a ``.jsonl`` file, or the newest one in a folder)."""
    target = Path(path)
    if target.is_dir():
        sessions = sorted(target.glob("session-*.jsonl"), key=lambda p: p.stat().st_mtime)
        if not sessions:
            raise FileNotFoundError(f"No recorded session (session-*.jsonl) in {target}")
        target = sessions[-1]
    with target.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def secrets_found(text: str, secrets: Iterable[str]) -> list[str]:
    """Which of ``secrets`` occur in ``text`` (for tests and the live check's last look)."""
    return [s for s in secrets if s and s in text]
