"""Answer from a recorded session (:mod:`mio_nb.recording`), so a reported mismatch becomes a test.

>>> with ReplayServer("bug-report/") as replay:              # doctest: +SKIP
...     client = Client(base_url=replay.base_url, token="replay")
...     client.detect_faces("group.jpg")                      # answered as the user's server did

API calls are answered with the recorded envelopes (same status, same field types, same task
states in the same order; a task's last recorded state is repeated once its states run out),
the token endpoint likewise, storage PUTs with the recorded status. Storage GETs need the bodies
a recording does not keep: a session recorded with ``Recorder(dir, bodies=True)`` (tests only)
serves its own, otherwise pass ``media={recorded path: bytes}``. The keys' stand-ins of the
record are the keys of the replay; URLs in the answers are rewritten to point at the replay.
Requests it has no answer for get code 400 and are listed in :attr:`ReplayServer.unmatched`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from . import protocol
from .recording import read_session

_Line = dict[str, Any]


class _Answers:
    """The recorded answers to one kind of request, in order, the last one repeated."""

    def __init__(self) -> None:
        self.lines: list[_Line] = []
        self.used: list[bool] = []

    def add(self, line: _Line) -> None:
        self.lines.append(line)
        self.used.append(False)

    def take(self, request: Any) -> _Line:
        """The first unused answer whose recorded request matches, else the first unused, else
        the last one."""
        for want_match in (True, False):
            for i, line in enumerate(self.lines):
                if self.used[i] or (want_match and line.get("request") != request):
                    continue
                self.used[i] = True
                return line
        return self.lines[-1]


class ReplayServer:
    """A loopback server answering from a recorded session (a ``.jsonl`` or its folder)."""

    def __init__(
        self,
        session: str | os.PathLike[str],
        *,
        media: Mapping[str, bytes] | None = None,
        port: int = 0,
        host: str | None = None,
    ) -> None:
        source = Path(session)
        self.folder = source if source.is_dir() else source.parent
        self.lines = read_session(source)
        self.media = dict(media or {})
        #: Requests that had no recorded answer ("METHOD /path").
        self.unmatched: list[str] = []
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, ...], _Answers] = {}
        self._hosts: set[str] = set()
        for line in self.lines:
            kind = line.get("kind")
            if kind not in ("api", "token", "storage"):
                continue
            self._hosts.add(str(line.get("host", "")))
            key = self._key(kind, line["method"], line["path"], line.get("query", ""))
            self._answers.setdefault(key, _Answers()).add(line)
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    out = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return bytes(out)
                        out += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                raw = self._body()
                status, body, ctype = replay.answer(
                    self.command, self.path, raw, self.headers.get("Host", "")
                )
                self._send(status, body, ctype)

            do_GET = do_POST = do_PUT = do_HEAD = _handle

        if host is None:
            # A record of a remote API replays on 127.0.0.2, which the client does not take for
            # a sandbox (so it asks the same questions as it did); 127.0.0.1 where that is not
            # available.
            sandbox = any(x.get("path") == protocol.SERVER_INFO_PATH for x in self.lines)
            host = "127.0.0.1" if sandbox else "127.0.0.2"
        try:
            self._server = ThreadingHTTPServer((host, port), Handler)
        except OSError:
            host = "127.0.0.1"
            self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="mio-replay", daemon=True
        )
        self._thread.start()

    @staticmethod
    def _key(kind: str, method: str, path: str, query: str) -> tuple[str, ...]:
        if kind == "storage":
            return ("storage", method, path)
        if kind == "token":
            return ("token", path)
        return ("api", method, path, query or "")

    def _rewrite(self, value: Any) -> Any:
        """Recorded URLs pointing at the recorded hosts now point at the replay."""
        if isinstance(value, dict):
            return {k: self._rewrite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._rewrite(v) for v in value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            parts = urlsplit(value)
            if parts.netloc in self._hosts:
                here = urlsplit(self.base_url)
                return urlunsplit((here.scheme, here.netloc, parts.path, parts.query, ""))
        return value

    def answer(self, method: str, target: str, raw: bytes, host: str) -> tuple[int, bytes, str]:
        """``(status, body, content type)`` for one request."""
        parts = urlsplit(target)
        with self._lock:
            answers = None
            for key in (
                ("storage", method, parts.path),
                ("token", parts.path) if method == "POST" else None,
                ("api", method, parts.path, parts.query),
            ):
                if key is not None and key in self._answers:
                    answers = self._answers[key]
                    break
            if answers is None:
                if parts.path != protocol.SERVER_INFO_PATH:  # asked of local servers only
                    self.unmatched.append(f"{method} {parts.path}")
                body = json.dumps(
                    {
                        "code": 400,
                        "message": f"replay: no recorded answer for {method} {parts.path}",
                        "data": None,
                    }
                )
                return 200, body.encode(), "application/json"
            try:
                request = json.loads(raw) if raw and method == "POST" else None
            except ValueError:
                request = None
            line = answers.take(request)
        ctype = str(line.get("content_type") or "application/json")
        status = int(line.get("status", 200))
        if line["kind"] == "storage":
            if method != "GET" or status >= 300:
                return status, b"", ctype
            body_file = line.get("body_file")
            if parts.path in self.media:
                return status, self.media[parts.path], ctype
            if body_file and (self.folder / body_file).exists():
                return status, (self.folder / body_file).read_bytes(), ctype
            with self._lock:
                self.unmatched.append(f"GET {parts.path} (no body recorded: pass media=)")
            return 404, b"replay: no body for this file; pass media={path: bytes}", "text/plain"
        response = line.get("response")
        if isinstance(response, (dict, list)):
            return status, json.dumps(self._rewrite(response)).encode(), ctype
        return status, str(response or "").encode(), ctype

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> ReplayServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m mio_nb.replay SESSION [--port N]``: serve a record until Ctrl-C, e.g. to run a
    notebook against it (``MIOCREATE_BASE_URL`` and ``MIOCREATE_TOKEN`` as printed)."""
    import argparse

    from .cli import serve_until_stopped

    parser = argparse.ArgumentParser(prog="python -m mio_nb.replay", description=main.__doc__)
    parser.add_argument("session", help="a session-*.jsonl, or the folder holding it")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    args = parser.parse_args(argv)
    with ReplayServer(args.session, port=args.port) as replay:
        print(f"MIOCREATE_BASE_URL={replay.base_url}", flush=True)
        print("MIOCREATE_TOKEN=replay", flush=True)
        serve_until_stopped()
        for request in replay.unmatched:
            print(f"no recorded answer: {request}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
