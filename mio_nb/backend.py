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

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger("mio_nb.backend")

SANDBOX_NOTICE = "Sandbox: results are made locally; set MIOCREATE_TOKEN for the real API."
NO_SANDBOX_NOTICE = (
    "No MioCreate credentials were found and the local sandbox is not installed. Set "
    "MIOCREATE_TOKEN (or MIOCREATE_CLIENT_ID and MIOCREATE_CLIENT_SECRET), or install the "
    'sandbox to try everything offline: pip install "mio-nb[sandbox]".'
)

Mode = Literal["api", "sandbox", "unavailable"]


@dataclass(frozen=True)
class Backend:
    """The chosen client (None when there is none), what it talks to, and what to tell the user."""

    client: Client | None
    mode: Mode
    notice: str

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
        from .client import Client

        try:
            client = Client(**client_options)
        except MissingCredentialsError:
            try:
                from .sandbox import shared_sandbox

                client = Client.for_sandbox(shared_sandbox(), **client_options)
            except ImportError as e:
                log.info("No sandbox: %s", e)
                return Backend(None, "unavailable", NO_SANDBOX_NOTICE)
    if is_local(client.base_url):
        return Backend(client, "sandbox", SANDBOX_NOTICE)
    return Backend(client, "api", "")


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
        raise MissingCredentialsError(
            "No MioCreate credentials were found and the local sandbox is not installed.",
            hint=NO_SANDBOX_NOTICE.split(" installed. ", 1)[1],
        )
    if not quiet:
        print(backend.banner, file=stream or sys.stdout)
    return backend.client
