"""Which server to talk to: the real API when credentials are set, else the local sandbox.

The widget, the command line and the notebooks all choose the same way and say so the same way:

>>> import mio_nb
>>> client = mio_nb.connect()  # doctest: +SKIP
Sandbox at http://127.0.0.1:40123: results are made locally; set MIOCREATE_TOKEN for the real API.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TextIO
from urllib.parse import urlsplit

from .errors import MissingCredentialsError
from .extras import ENGINE_PACKAGES, SANDBOX_INSTALL

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger("mio_nb.backend")

SANDBOX_NOTICE = "Sandbox: results are made locally; set MIOCREATE_TOKEN for the real API."

_TOKEN_HINT = "Set MIOCREATE_TOKEN (or MIOCREATE_CLIENT_ID and MIOCREATE_CLIENT_SECRET)"
NO_SANDBOX_NOTICE = (
    "No MioCreate credentials were found and the local sandbox is not installed. "
    f"{_TOKEN_HINT}, or install the sandbox to try everything offline: {SANDBOX_INSTALL} "
    '(in a clone of mio-nb: pip install ".[sandbox]").'
)


def _import_errors(exc: BaseException) -> list[ImportError]:
    """The ImportErrors in ``exc``'s chain of causes, outermost first."""
    found, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ImportError):
            found.append(current)
        current = current.__cause__ or current.__context__
    return found


def sandbox_unavailable(exc: BaseException) -> tuple[str, str]:
    """``(what, hint)`` for a user whose sandbox failed to load with ``exc``: the module or file
    that is really missing and how to install it, or that the sandbox is not installed at all."""
    no_credentials = "No MioCreate credentials were found"
    token = f"Or {_TOKEN_HINT[0].lower()}{_TOKEN_HINT[1:]} for the real API."
    for error in reversed(_import_errors(exc)):  # innermost first: the real failure
        if type(error).__name__ == "EngineDependencyError":  # a model file or its package
            what, _, install = str(error).rpartition(": ")
            return f"{no_credentials}, and the local sandbox cannot start: {what}.", (
                f"Install it: {install}. {token}"
            )
        module = (error.name or "").split(".")[0]
        if module in ENGINE_PACKAGES:
            package = ENGINE_PACKAGES[module]
            return (
                f"{no_credentials}, and the local sandbox cannot start: its engine needs the "
                f"package {package.split('==')[0]} (import {module} failed: {error}).",
                f"Install it: pip install {package}. {token}",
            )
        if module and module != "mio_nb":
            return (
                f"{no_credentials}, and the local sandbox cannot start: import {error.name} "
                f"failed ({error}).",
                f"Reinstall the sandbox's packages: {SANDBOX_INSTALL}. {token}",
            )
    what, _, hint = NO_SANDBOX_NOTICE.partition(" installed. ")
    return what + " installed.", hint


Mode = Literal["api", "sandbox", "unavailable"]


@dataclass(frozen=True)
class Backend:
    """The chosen client (None when there is none), what it talks to, and what to tell the user."""

    client: Client | None
    mode: Mode
    notice: str
    #: How to get a working backend, when there is none.
    hint: str = ""

    @property
    def banner(self) -> str:
        """One line naming the server, for a notebook cell or a terminal."""
        if self.client is None:
            return self.notice
        if self.mode == "sandbox":
            return f"Sandbox at {self.client.base_url}: {self.notice.split(': ', 1)[1]}"
        return f"MioCreate API at {self.client.base_url}."


def is_local(base_url: str) -> bool:
    """True for a server on this machine (the real API never is: such a server is a sandbox)."""
    return (urlsplit(base_url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def resolve_backend(client: Client | None = None, **client_options: Any) -> Backend:
    """The given client; else one from credentials (arguments, environment, Colab secrets);
    else a client of the shared local sandbox, started on first use; else none, with a notice
    saying how to get one. ``client_options`` go to ``Client`` (e.g. ``output_dir``)."""
    if client is None:
        sandbox = None
        if not _may_have_credentials(client_options):
            try:  # first: the sandbox's engine loads while the client's modules import
                sandbox = _shared_sandbox()
            except ImportError as e:
                return _unavailable(e)
        from .client import Client

        try:
            client = Client.for_sandbox(sandbox, **client_options) if sandbox is not None else (
                Client(**client_options)
            )  # fmt: skip
        except MissingCredentialsError:
            try:
                client = Client.for_sandbox(_shared_sandbox(), **client_options)
            except ImportError as e:
                return _unavailable(e)
    if is_local(client.base_url):
        return Backend(client, "sandbox", SANDBOX_NOTICE)
    return Backend(client, "api", "")


def _may_have_credentials(options: dict[str, Any]) -> bool:
    """Credentials in the arguments or the environment, or maybe in Colab's secrets (looked up
    by the client itself: once, as Colab may ask the user for access)."""
    from .credentials import Credentials

    keys = ("token", "client_id", "client_secret", "token_url")
    try:
        Credentials.resolve(**{k: options.get(k) for k in keys}, use_colab=False)
    except MissingCredentialsError:
        return "google.colab" in sys.modules
    return True


def _shared_sandbox() -> Any:
    from .sandbox import shared_sandbox

    return shared_sandbox()


def _unavailable(error: ImportError) -> Backend:
    what, hint = sandbox_unavailable(error)
    log.info("No sandbox: %s", what)
    return Backend(None, "unavailable", f"{what} {hint}", hint)


def connect(
    client: Client | None = None,
    *,
    quiet: bool = False,
    stream: TextIO | None = None,
    **client_options: Any,
) -> Client:
    """A ready client, chosen as :func:`resolve_backend` does, after printing which server it
    talks to (unless ``quiet``). Raises :class:`MissingCredentialsError` when there is neither a
    credential nor the sandbox extra."""
    backend = resolve_backend(client, **client_options)
    if backend.client is None:
        what = backend.notice.removesuffix(backend.hint).strip()
        raise MissingCredentialsError(what, hint=backend.hint)
    if not quiet:
        print(backend.banner, file=stream or sys.stdout)
    return backend.client
