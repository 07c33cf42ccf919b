"""``mio-nb doctor`` / ``mio_nb.doctor()``: is this machine ready for the real API, and if not,
what exactly to change.

Checks, each a line that says OK or what to do: where the credentials come from (never their
value), the token exchange of a key pair, an authenticated call that costs nothing (an upload
URL, and the detail of a task id that does not exist), which ``Authorization`` forms the
service accepts when it refuses the configured one, the API and storage hosts (reachable, TLS,
a presigned upload and download of a 1x1 picture), the clock offset from the ``Date`` header,
the sandbox's engine (installed, loads, finds a face) and, in a notebook, whether the widget
front-end renders. It never creates a task, so it never spends a credit.
"""

from __future__ import annotations

import html
import importlib.metadata
import importlib.util
import io
import ipaddress
import os
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import requests

from . import protocol
from .credentials import (
    DEFAULT_AUTH_SCHEME,
    ENV_AUTH_SCHEME,
    ENV_BASE_URL,
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_TOKEN,
    ENV_TOKEN_URL,
    Credentials,
    describe_auth_scheme,
    resolve_auth_scheme,
)
from .errors import AuthError, MioError, MissingCredentialsError, RateLimitError
from .extras import ENGINE_PACKAGES, SANDBOX_INSTALL, missing_engine_modules
from .recording import Recorder, open_recorder

Status = Literal["OK", "FIX", "SKIP"]

NO_TASK_PROMISE = (
    "doctor creates no task and spends no credits (its only upload is a 1x1 picture, "
    "to check storage)."
)
#: An id no task has: the detail call is authenticated but finds nothing.
UNKNOWN_TASK_ID = 9_007_199_254_740_991
#: Token endpoints tried on the API host when the configured one is not there (the public
#: material names none).
TOKEN_PATH_CANDIDATES = (
    protocol.TOKEN_PATH,
    "/v1/oauth/token",
    "/oauth/token",
    "/v1/token",
    "/api/v1/auth/token",
    "/v1/auth/access-token",
)
#: A clock further off than this is worth fixing (tokens and presigned URLs are time-limited).
CLOCK_TOLERANCE = 30.0
#: The smallest valid PNG (1x1, grey): what doctor uploads to check storage.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a49444154789c63680000008200816d4b7d9e0000000049454e44ae426082"
)


@dataclass
class Check:
    """One line of the report: what was checked, OK/FIX/SKIP, and the sentence to read."""

    name: str
    status: Status
    detail: str

    def __str__(self) -> str:
        return f"{self.status:<5} {self.name:<18} {self.detail}"


@dataclass
class Report:
    """What doctor found. ``str(report)`` is the terminal form; a notebook shows a table."""

    checks: list[Check] = field(default_factory=list)
    record: Path | None = None
    backend: str = ""
    #: The notebook probe of the widget front-end (None outside a notebook).
    probe: WidgetProbe | None = None
    _handle: Any = None

    @property
    def ok(self) -> bool:
        """True when no line asks for a fix."""
        return all(c.status != "FIX" for c in self.checks)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def add(self, name: str, status: Status, detail: str) -> Check:
        found = Check(name, status, detail)
        self.checks.append(found)
        return found

    def lines(self) -> list[str]:
        head = [f"mio-nb doctor: {self.backend}", NO_TASK_PROMISE]
        tail = [f"Recorded (secrets redacted) to {self.record}"] if self.record else []
        verdict = "All OK." if self.ok else "Fix the lines marked FIX, then run doctor again."
        return [*head, *(str(c) for c in self.checks), verdict, *tail]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colours = {"OK": "#1a7f37", "FIX": "#b3261e", "SKIP": "#6e6e6e"}
        rows = "".join(
            f"<tr><td style='color:{colours[c.status]};font-weight:bold'>{c.status}</td>"
            f"<td style='text-align:left;white-space:nowrap'>{html.escape(c.name)}</td>"
            "<td style='text-align:left'>"
            f"{html.escape(c.detail)}</td></tr>"
            for c in self.checks
        )
        verdict = "All OK." if self.ok else "Fix the lines marked FIX, then run doctor again."
        record = (
            f"<p>Recorded (secrets redacted) to <code>{html.escape(str(self.record))}</code></p>"
            if self.record
            else ""
        )
        return (
            f"<div class='mio-doctor'><p><b>mio-nb doctor</b>: {html.escape(self.backend)}<br>"
            f"{html.escape(NO_TASK_PROMISE)}</p><table><thead><tr><th></th>"
            "<th style='text-align:left'>check</th>"
            f"<th style='text-align:left'>result</th></tr></thead><tbody>{rows}</tbody></table>"
            f"<p>{verdict}</p>{record}</div>"
        )

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        self._handle = display(HTML(self._repr_html_()), display_id=True)
        if self.probe is not None:
            self.probe.start(self)

    def refresh(self) -> None:
        """Redraw the notebook table (after the widget probe's answer)."""
        if self._handle is not None:
            from IPython.display import HTML

            self._handle.update(HTML(self._repr_html_()))


# -- the widget front-end (notebooks only) ------------------------------------------------------

#: The one message of the probe widget: its view was rendered.
PROBE_RENDERED = "rendered"
PROBE_ESM = f"""
function render({{ model, el }}) {{
  el.textContent = "";
  model.send({{ type: "{PROBE_RENDERED}", at: Date.now() }});
}}
export default {{ render }};
"""


def notebook_front_end() -> str | None:
    """ "colab", "vscode" or "jupyter" when running in a notebook kernel, else None."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return None
    if "google.colab" in sys.modules:
        return "colab"
    if any(name.startswith("VSCODE_") for name in os.environ):  # its kernels inherit these
        return "vscode"
    return "jupyter"


WIDGET_FIXES = {
    "colab": (
        "in Colab run `from google.colab import output; output.enable_custom_widget_manager()` "
        "in a cell, then run the widget's cell again"
    ),
    "vscode": (
        "in VS Code update the Jupyter extension, allow widget scripts from a CDN "
        '(setting "jupyter.widgetScriptSources": ["jsdelivr.com", "unpkg.com"]), then '
        "reload the window"
    ),
    "jupyter": (
        "install anywidget and ipywidgets in the environment that runs Jupyter itself (not "
        "only the kernel's) with `pip install anywidget ipywidgets`, restart Jupyter and reload "
        "the page; JupyterLab 4 or Notebook 7 are needed"
    ),
}


class WidgetProbe:
    """A tiny anywidget that answers when the browser renders it.

    The kernel reads the answer only after the cell finished, so the verdict is written into the
    report's table when it arrives, or after ``timeout`` seconds: "no reply from the front-end".
    """

    def __init__(self, front_end: str, timeout: float = 15.0) -> None:
        self.front_end = front_end
        self.timeout = timeout
        self.answered = threading.Event()
        self._report: Report | None = None
        self._started = 0.0
        self._lock = threading.Lock()
        self.widget: Any = None

    def _verdict(self, report: Report, status: Status, detail: str) -> None:
        with self._lock:
            check = report.check("widget front-end")
            check.status, check.detail = status, detail
        report.refresh()

    def start(self, report: Report) -> None:
        """Display the probe and wait (in the background) for the browser's answer."""
        import anywidget
        from IPython.display import display

        class DoctorProbe(anywidget.AnyWidget):
            _esm = PROBE_ESM

        self._report = report
        self._started = time.monotonic()
        self.widget = DoctorProbe()
        self.widget.on_msg(self._on_msg)
        display(self.widget)
        timer = threading.Timer(self.timeout, self._on_timeout)
        timer.daemon = True
        timer.start()

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != PROBE_RENDERED:
            return
        if self.answered.is_set() or self._report is None:
            return
        self.answered.set()
        ms = (time.monotonic() - self._started) * 1000
        version = _version("anywidget") or "?"
        self._verdict(
            self._report,
            "OK",
            f"the browser rendered a test widget and answered in {ms:.0f} ms (anywidget "
            f"{version}): the FaceSwapWidget can show.",
        )

    def _on_timeout(self) -> None:
        if self.answered.is_set() or self._report is None:
            return
        self._verdict(
            self._report,
            "FIX",
            f"no reply from the front-end within {self.timeout:g} s (the test widget did not "
            f"render): {WIDGET_FIXES.get(self.front_end, WIDGET_FIXES['jupyter'])}.",
        )


# -- the checks -----------------------------------------------------------------------------------


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _credential_source(creds: Credentials) -> str:
    if creds.can_refresh:
        what = "a key pair (client id and secret)"
        names = f"{ENV_CLIENT_ID}, {ENV_CLIENT_SECRET}"
    else:
        what = "a token"
        names = ENV_TOKEN
    where = {
        "argument": "passed as arguments",
        "environment": f"from the environment ({names})",
        "Colab secrets": f"from Colab secrets ({names})",
    }.get(creds.source, f"from {creds.source}")
    return f"{what} {where}"


def _token_shape_problem(token: str) -> str | None:
    """What is wrong with how a token was pasted (never the token itself), or None."""
    if token != token.strip():
        return "it starts or ends with spaces or a line break"
    if token[:1] in "\"'" or token[-1:] in "\"'":
        return "it is wrapped in quotes"
    if token.lower().startswith("bearer "):
        return "it starts with 'Bearer ' (the client adds the scheme itself)"
    if any(ch.isspace() for ch in token):
        return "it contains spaces"
    return None


def _tls_probe(url: str, timeout: float) -> tuple[Status, str]:
    """Can this machine reach ``url``'s host, and does its TLS certificate verify?"""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    proxies = requests.utils.get_environ_proxies(url)
    if proxies.get(parts.scheme) or proxies.get("all"):
        return "OK", f"{host}: reached through the proxy set in the environment (not probed)"
    started = time.monotonic()
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror:
        return "FIX", (
            f"cannot resolve {host}: check the network connection or DNS"
            + (f", and {ENV_BASE_URL}" if "miocreate" not in host else "")
        )
    except TimeoutError:
        return "FIX", (
            f"{host}:{port} did not answer within {timeout:g} s: a firewall or a missing proxy "
            "(set HTTPS_PROXY if your network needs one)"
        )
    except OSError as exc:
        return "FIX", f"cannot connect to {host}:{port} ({exc.strerror or exc}): is it running?"
    ms = (time.monotonic() - started) * 1000
    with sock:
        if parts.scheme != "https":
            if _loopback(host):
                return "OK", f"{host}:{port} reachable ({ms:.0f} ms), plain HTTP on loopback"
            return "FIX", (
                f"{host}:{port} speaks plain HTTP: the token would travel unencrypted; use an "
                "https:// base URL"
            )
        context = _tls_context(url)
        try:
            with context.wrap_socket(sock, server_hostname=host) as tls:
                version = tls.version()
                cert = tls.getpeercert() or {}
        except ssl.SSLCertVerificationError as exc:
            return "FIX", (
                f"{host}: the TLS certificate does not verify ({exc.verify_message}); a proxy "
                "that inspects TLS needs its CA in REQUESTS_CA_BUNDLE"
            )
        except (ssl.SSLError, OSError) as exc:
            return "FIX", f"{host}: the TLS handshake failed ({exc}); check proxies and firewalls"
    until = cert.get("notAfter", "?")
    return (
        "OK",
        f"{host}:{port} reachable ({ms:.0f} ms), {version}, certificate valid until {until}",
    )


def _tls_context(url: str) -> ssl.SSLContext:
    """The certificates ``requests`` would trust for ``url``: REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE when set, else certifi's."""
    verify = requests.Session().merge_environment_settings(url, {}, None, True, None)["verify"]
    if isinstance(verify, str) and os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _clock_offset(date_header: str, sent: float, received: float) -> float | None:
    """Server time minus local time in seconds (the Date header has 1 s resolution)."""
    try:
        server = parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return server + 0.5 - (sent + received) / 2


class _HeaderAuth(requests.auth.AuthBase):
    """``Authorization: <scheme> <token>`` (or the bare token), for probing forms."""

    def __init__(self, token: str, scheme: str) -> None:
        self._token, self._scheme = token, scheme

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = (
            f"{self._scheme} {self._token}" if self._scheme else self._token
        )
        r._mio_token = self._token  # type: ignore[attr-defined]  # the recorder scrubs it
        return r


def _envelope_code(resp: requests.Response) -> tuple[int | None, str]:
    try:
        body = resp.json()
        return int(body["code"]), str(body.get("message") or "")
    except (ValueError, KeyError, TypeError):
        return None, ""


class _Doctor:
    """Runs the checks of one doctor call into ``report``."""

    def __init__(
        self,
        report: Report,
        client: Any,
        creds: Credentials,
        scheme: str,
        scheme_from: str,
        timeout: float,
    ) -> None:
        self.report = report
        self.client = client
        self.transport = client._transport
        self.creds = creds
        self.scheme = scheme
        self.scheme_from = scheme_from
        self.timeout = timeout
        self.base_url = client.base_url
        self.recorder: Recorder | None = self.transport.recorder
        self.upload_url = ""
        self.key = ""

    def note(self, check: Check) -> None:
        if self.recorder is not None:
            self.recorder.note("doctor", check=check.name, status=check.status, detail=check.detail)

    def add(self, name: str, status: Status, detail: str) -> bool:
        self.note(self.report.add(name, status, detail))
        return status != "FIX"

    def raw(self, path: str, scheme: str, token: str, **params: Any) -> requests.Response:
        resp = self.transport.api.get(
            self.base_url + path,
            params=params,
            auth=_HeaderAuth(token, scheme),
            timeout=self.timeout,
        )
        if self.recorder is not None:  # past Transport's own requests, which record themselves
            self.recorder.api_exchange(resp)
        return resp

    def run(self) -> None:
        status, detail = _tls_probe(self.base_url, self.timeout)
        if not self.add("API host", status, detail):
            self.add("authentication", "SKIP", "not checked: the API host cannot be reached.")
            return
        token = self.token_exchange()
        if token is None:
            return
        problem = _token_shape_problem(token)
        if problem and not self.creds.can_refresh:
            self.add(
                "token format",
                "FIX",
                f"the token {problem}: set {ENV_TOKEN} to the token alone, exactly as the "
                "console shows it.",
            )
        if not self.authenticated_call(token):
            return
        self.storage_round_trip()

    def token_exchange(self) -> str | None:
        if not self.creds.can_refresh:
            try:
                return self.creds.token()
            except MioError as exc:
                self.add("token", "FIX", str(exc))
                return None
        url = self.creds.token_url or self.base_url + protocol.TOKEN_PATH
        shown = url.split("?", 1)[0]
        started = time.monotonic()
        try:
            token = self.creds.refresh()
        except MioError as exc:
            self.token_failure(url, exc)
            return None
        ms = (time.monotonic() - started) * 1000
        lifetime = self.creds.lifetime
        until = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(time.time() + lifetime))
        expiry = (
            f"valid {lifetime:.0f} s (until {until})"
            if lifetime
            else "with no expires_in (renewed when refused)"
        )
        self.add("token exchange", "OK", f"{shown} gave a token {expiry} in {ms:.0f} ms.")
        return token

    def ask_token(self, url: str) -> Literal["token", "refused", "missing", "other"]:
        """How ``url`` answers the key pair: a token, a refusal (code 401), nothing like a
        token endpoint (404, HTML, no envelope), or something else."""
        try:
            resp = self.transport.storage.post(
                url, json=self.creds.exchange_fields(), timeout=self.timeout
            )
        except requests.RequestException:
            return "missing"
        try:
            body = resp.json()
        except ValueError:
            return "missing"
        if not isinstance(body, dict) or "code" not in body or resp.status_code in (404, 405):
            return "missing"
        data = body.get("data")
        if isinstance(data, dict) and data.get("access_token"):
            return "token"
        return "refused" if str(body.get("code")) == "401" else "other"

    def token_failure(self, url: str, exc: MioError) -> None:
        shown = url.split("?", 1)[0]
        answer = self.ask_token(url)
        if answer == "refused":
            self.add(
                "token exchange",
                "FIX",
                f"{shown} refused the key pair (code 401): copy the client id and secret again "
                f"from the MioCreate console into {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}, or "
                f"set a ready token in {ENV_TOKEN}.",
            )
            return
        for path in TOKEN_PATH_CANDIDATES:
            candidate = self.base_url + path
            if candidate != url and self.ask_token(candidate) == "token":
                self.add(
                    "token exchange",
                    "FIX",
                    f"no token endpoint at {shown}; the key pair gets a token at {candidate}: "
                    f"set {ENV_TOKEN_URL}={candidate} or Client(token_url={candidate!r}).",
                )
                return
        self.add(
            "token exchange",
            "FIX",
            f"{shown}: {exc.message}. The public material names no token endpoint and none of "
            f"the usual paths answered: set {ENV_TOKEN_URL} to the one your console shows, or "
            f"set a ready token in {ENV_TOKEN}.",
        )

    def authenticated_call(self, token: str) -> bool:
        sent = time.time()
        try:
            resp = self.raw(protocol.TASK_DETAIL_PATH, self.scheme, token, id=UNKNOWN_TASK_ID)
        except requests.RequestException as exc:
            self.add(
                "authentication",
                "FIX",
                f"GET {protocol.TASK_DETAIL_PATH} failed ({type(exc).__name__}): check the "
                "network and proxies.",
            )
            return False
        self.clock(resp, sent, time.time())
        code, message = _envelope_code(resp)
        if code == 401 or resp.status_code in (401, 403):
            self.authorization_forms(token)
            return False
        if code is None:
            ctype = resp.headers.get("Content-Type", "?").split(";")[0]
            detail = f"HTTP {resp.status_code} with {ctype}, not the API's JSON"
        else:
            detail = f"code {code}" + (f" ({message})" if message else "")
        # The verdict comes from the upload URL, a documented call that costs nothing: how the
        # service answers the detail of an unknown task is not documented, only reported.
        try:
            data = self.transport.call(
                "POST", protocol.UPLOAD_URL_PATH, json={"file_name": "mio-nb-doctor.png"}
            )
            upload_url = str(data["upload_url"])
            key = str(data["key"])
        except AuthError:
            self.add(
                "authentication",
                "FIX",
                f"POST {protocol.UPLOAD_URL_PATH} refused the token (code 401) although the task "
                f"detail took it ({detail}): send the record (mio-nb doctor --record DIR) with "
                "an issue.",
            )
            return False
        except RateLimitError:
            self.add(
                "authentication",
                "FIX",
                "the service is rate limiting (code 802): wait a minute and run doctor again.",
            )
            return False
        except (MioError, KeyError, TypeError) as exc:
            if code is None:
                self.add(
                    "authentication",
                    "FIX",
                    f"GET {protocol.TASK_DETAIL_PATH} answered {detail}: is {self.base_url} the "
                    f"API's base URL? (set {ENV_BASE_URL})",
                )
            else:
                self.add(
                    "upload URL",
                    "FIX",
                    f"POST {protocol.UPLOAD_URL_PATH}: {exc}. If it lasts, send the record "
                    "(mio-nb doctor --record DIR) with an issue.",
                )
            return False
        self.add(
            "authentication",
            "OK",
            f"the token is accepted as {describe_auth_scheme(self.scheme)} ({self.scheme_from}); "
            f"the detail of an unknown task answered {detail}.",
        )
        expires = dict(parse_qsl(urlsplit(upload_url).query)).get("X-Amz-Expires")
        self.upload_url, self.key = upload_url, key
        host = urlsplit(upload_url).netloc
        self.add(
            "upload URL",
            "OK",
            f"a presigned upload URL on {host}"
            + (f" (expires in {expires} s)" if expires else "")
            + "; no credits spent.",
        )
        return True

    def clock(self, resp: requests.Response, sent: float, received: float) -> None:
        date = resp.headers.get("Date")
        offset = _clock_offset(date, sent, received) if date else None
        if offset is None:
            self.add("clock", "SKIP", "the API sent no Date header: the clock was not compared.")
        elif abs(offset) <= CLOCK_TOLERANCE:
            self.add("clock", "OK", f"within {max(abs(offset), 1):.0f} s of the API's clock.")
        else:
            way = "behind" if offset > 0 else "ahead of"
            self.add(
                "clock",
                "FIX",
                f"this machine's clock is {abs(offset):.0f} s {way} the API's: turn on automatic "
                "time (Linux: `timedatectl set-ntp true`; Windows/macOS: set time "
                "automatically); tokens and presigned URLs are time-limited.",
            )

    def authorization_forms(self, token: str) -> None:
        forms = list(dict.fromkeys([self.scheme, "", DEFAULT_AUTH_SCHEME]))
        accepted = []
        for scheme in forms:
            try:
                resp = self.raw(protocol.TASK_DETAIL_PATH, scheme, token, id=UNKNOWN_TASK_ID)
            except requests.RequestException:
                continue
            code, _ = _envelope_code(resp)
            if code is not None and code != 401 and resp.status_code not in (401, 403):
                accepted.append(scheme)
        tried = ", ".join(describe_auth_scheme(s) for s in forms)
        if not accepted:
            if self.creds.can_refresh:
                what = (
                    "a freshly fetched token is refused in every form "
                    f"({tried}): the key pair may belong to another environment than "
                    f"{self.base_url}; check {ENV_BASE_URL} and {ENV_TOKEN_URL}."
                )
            else:
                what = (
                    f"the token is refused in every form ({tried}): it is wrong or expired; "
                    f"copy a new one from the MioCreate console into {ENV_TOKEN}, or set "
                    f"{ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} so tokens are renewed."
                )
            self.add("authentication", "FIX", what)
            return
        best = accepted[0]
        what = "a bare token" if best == "" else f"'{best} <token>'"
        self.add(
            "authentication",
            "FIX",
            f"the service refuses {describe_auth_scheme(self.scheme)} but accepts {what}: set "
            f"{ENV_AUTH_SCHEME}={best!r} or Client(auth_scheme={best!r}).",
        )

    def storage_round_trip(self) -> None:
        status, detail = _tls_probe(self.upload_url, self.timeout)
        if not self.add("storage host", status, detail):
            return
        from .transport import StorageURLExpired

        try:
            self.transport.put(self.upload_url, io.BytesIO(TINY_PNG), len(TINY_PNG), "image/png")
            url = self.client.access_url(self.key)
            with self.transport.storage.get(url, timeout=self.timeout) as resp:
                body = resp.content
                got = resp.status_code
        except StorageURLExpired:
            self.add(
                "storage",
                "FIX",
                "the storage refused a fresh presigned URL (HTTP 403): check the clock line, and "
                "that no proxy rewrites or strips query strings.",
            )
            return
        except (MioError, requests.RequestException) as exc:
            self.add("storage", "FIX", f"upload and download of a 1x1 picture failed: {exc}")
            return
        if got != 200 or body != TINY_PNG:
            self.add(
                "storage",
                "FIX",
                f"the download of the uploaded picture answered HTTP {got} with {len(body)} "
                f"bytes instead of {len(TINY_PNG)}: a proxy may rewrite presigned URLs.",
            )
            return
        self.add(
            "storage",
            "OK",
            f"uploaded and downloaded a 1x1 picture ({len(TINY_PNG)} bytes) through presigned "
            "URLs, with no Authorization header sent to storage.",
        )


def _engine_checks(report: Report, *, needed: bool, detect: bool) -> list[Check]:
    out = []
    missing, found = [], []
    absent = missing_engine_modules()
    for module, dist in ENGINE_PACKAGES.items():
        name = dist.split("==")[0]
        if module in absent:
            if name not in missing:
                missing.append(name)
        elif (v := _version(name)) and f"{name} {v}" not in found:
            found.append(f"{name} {v}")
    if missing:
        status: Status = "FIX" if needed else "SKIP"
        why = "the sandbox needs them" if needed else "only the local sandbox needs them"
        out.append(
            report.add(
                "engine packages",
                status,
                f"missing {', '.join(missing)} ({why}): {SANDBOX_INSTALL}",
            )
        )
        out.append(report.add("sandbox", status, "not loaded: its engine's packages are missing."))
        return out
    out.append(report.add("engine packages", "OK", ", ".join(found) + "."))
    if not detect:
        out.append(report.add("sandbox", "SKIP", "not loaded (doctor(engine=False))."))
        return out
    from . import samples

    started = time.monotonic()
    try:
        from .sandbox.engine import load_engine

        engine = load_engine("real")
        loaded = time.monotonic() - started
        faces = engine.get_faces(samples.grace_hopper())
    except Exception as exc:  # an engine failing to load is the finding
        out.append(
            report.add(
                "sandbox",
                "FIX",
                f"the engine failed: {type(exc).__name__}: {exc}. Reinstall: {SANDBOX_INSTALL}",
            )
        )
        return out
    took = time.monotonic() - started - loaded
    if len(faces) != 1:
        out.append(
            report.add(
                "sandbox",
                "FIX",
                f"the engine found {len(faces)} faces in grace_hopper.jpg instead of 1: "
                f"reinstall its packages ({SANDBOX_INSTALL}) and report it.",
            )
        )
        return out
    out.append(
        report.add(
            "sandbox",
            "OK",
            f"the engine loads ({loaded:.1f} s) and finds the face in grace_hopper.jpg "
            f"({took:.1f} s).",
        )
    )
    return out


def doctor(
    client: Any = None,
    *,
    base_url: str | None = None,
    token: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    token_url: str | None = None,
    auth_scheme: str | None = None,
    record: str | os.PathLike[str] | Recorder | None = None,
    engine: bool = True,
    timeout: float = 10.0,
    widget_timeout: float = 15.0,
) -> Report:
    """Check the setup and say what to change; creates no task, spends no credit.

    Without arguments it checks what ``Client()`` would use (arguments, ``MIOCREATE_*``
    variables, Colab secrets). ``record``: also write the exchanges (redacted) to that folder
    (else ``MIO_NB_RECORD``). ``engine=False`` skips loading the sandbox's engine. In a notebook
    the result shows as a table, and a tiny test widget checks the front-end.
    """
    from .client import Client
    from .transport import RetryConfig

    env = os.environ
    report = Report()
    recorder = open_recorder(record)
    attached = None
    if client is not None and recorder is not None and client._transport.recorder is None:
        attached = client._transport
        attached.recorder = recorder  # for these checks only: detached below
        attached.storage.hooks["response"].append(recorder.storage_exchange)
    elif client is not None:
        recorder = client._transport.recorder
    if recorder is not None:
        report.record = recorder.path
    scratch = Path(tempfile.mkdtemp(prefix="mio-doctor-"))
    own_client = client is None
    try:
        if client is None:
            try:
                creds = Credentials.resolve(
                    token=token,
                    client_id=client_id,
                    client_secret=client_secret,
                    token_url=token_url,
                )
            except MissingCredentialsError:
                creds = None
            if creds is not None:
                client = Client(
                    base_url=base_url or env.get(ENV_BASE_URL) or None,
                    token=token,
                    client_id=client_id,
                    client_secret=client_secret,
                    token_url=token_url,
                    auth_scheme=resolve_auth_scheme(auth_scheme, env),
                    output_dir=scratch,
                    timeout=(timeout, timeout),
                    retry=RetryConfig(retries=1, backoff_factor=0.1, rate_limit_wait=5.0),
                    progress=False,
                    record=recorder,
                )
        if client is None:
            report.backend = "no credentials; nothing to check on the API."
            report.add(
                "credentials",
                "FIX",
                f"none found: set {ENV_TOKEN} (or {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}) in "
                "the environment or as Colab secrets, or pass Client(token=...). Until then "
                "mio-nb uses the local sandbox.",
            )
            for name in ("API host", "authentication", "storage"):
                report.add(name, "SKIP", f"not checked: no credentials (set {ENV_TOKEN}).")
            _engine_checks(report, needed=True, detect=engine)
        else:
            creds = client._transport.credentials
            scheme = client._transport.api.auth._scheme
            if auth_scheme is not None:
                scheme_from = "Client(auth_scheme=...)"
            elif ENV_AUTH_SCHEME in env:
                scheme_from = f"from {ENV_AUTH_SCHEME}"
            else:
                scheme_from = "the default"
            from .backend import is_local

            where = "the local sandbox" if is_local(client.base_url) else "the MioCreate API"
            report.backend = f"{where} at {client.base_url}."
            report.add("credentials", "OK", _credential_source(creds) + " (values not shown).")
            _Doctor(report, client, creds, scheme, scheme_from, timeout).run()
            _engine_checks(report, needed=False, detect=engine)
        front_end = notebook_front_end()
        if front_end is None:
            report.add(
                "widget front-end",
                "SKIP",
                "not in a notebook: run mio_nb.doctor() in a notebook cell to check the widget.",
            )
        else:
            report.add(
                "widget front-end",
                "SKIP",
                f"waiting up to {widget_timeout:g} s for the test widget below to answer...",
            )
            report.probe = WidgetProbe(front_end, widget_timeout)
        if recorder is not None:
            for check in report.checks:
                if check.name in ("engine packages", "sandbox", "credentials"):
                    recorder.note(
                        "doctor", check=check.name, status=check.status, detail=check.detail
                    )
    finally:
        if attached is not None and recorder is not None:
            attached.storage.hooks["response"].remove(recorder.storage_exchange)
            attached.recorder = None
        if own_client and client is not None:
            client.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def add_cli_arguments(parser: Any) -> None:
    """The options of ``mio-nb doctor``."""
    parser.epilog = "exit codes: 0 every line OK (or skipped), 1 a line says what to fix"
    parser.add_argument("--base-url", help=f"API base URL (default: ${ENV_BASE_URL} or the API)")
    parser.add_argument("--token", help=f"access token (default: ${ENV_TOKEN}, ...)")
    parser.add_argument("--token-url", help=f"token endpoint of a key pair (${ENV_TOKEN_URL})")
    parser.add_argument(
        "--auth-scheme",
        help=f"Authorization scheme, '' for a bare token (${ENV_AUTH_SCHEME}, else Bearer)",
    )
    parser.add_argument(
        "--record", metavar="DIR", help="also write the exchanges, secrets redacted, to DIR"
    )
    parser.add_argument("--no-engine", action="store_true", help="do not load the sandbox's engine")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per network check (%(default)s)"
    )


def run_cli(args: Any, out: Callable[[str], None] = print) -> int:
    """``mio-nb doctor``: print the report; exit 0 when all is OK, 1 when something needs a fix."""
    report = doctor(
        base_url=args.base_url,
        token=args.token,
        token_url=args.token_url,
        auth_scheme=args.auth_scheme,
        record=args.record,
        engine=not args.no_engine,
        timeout=args.timeout,
    )
    out(str(report))
    return 0 if report.ok else 1


class _CallableModule(types.ModuleType):
    """``mio_nb.doctor()`` works even after ``import mio_nb.doctor`` made ``mio_nb.doctor`` this
    module (the import system sets the package's attribute to the submodule)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Report:
        return doctor(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
