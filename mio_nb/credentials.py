"""Where the client's credentials come from, and the token they yield.

Order: arguments, then ``MIOCREATE_TOKEN``, then ``MIOCREATE_CLIENT_ID`` +
``MIOCREATE_CLIENT_SECRET`` (token endpoint ``MIOCREATE_TOKEN_URL``, default
``<base_url>/v1/auth/token``), then the same names as Colab secrets (``google.colab.userdata``).
The ``Authorization`` scheme: ``Client(auth_scheme=...)``, else ``MIOCREATE_AUTH_SCHEME`` (an
empty value sends the bare token), else ``Bearer``.

The token lives only inside :class:`Credentials`; its repr shows where it came from, never the
token itself.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import AuthError, MissingCredentialsError

ENV_TOKEN = "MIOCREATE_TOKEN"
ENV_CLIENT_ID = "MIOCREATE_CLIENT_ID"
ENV_CLIENT_SECRET = "MIOCREATE_CLIENT_SECRET"
ENV_TOKEN_URL = "MIOCREATE_TOKEN_URL"
ENV_BASE_URL = "MIOCREATE_BASE_URL"
ENV_AUTH_SCHEME = "MIOCREATE_AUTH_SCHEME"
#: The ``Authorization`` scheme sent when neither the argument nor the environment names one.
DEFAULT_AUTH_SCHEME = "Bearer"

#: Refresh a token this many seconds before the server said it expires (at most a tenth of its
#: lifetime, so short-lived tokens are still used).
REFRESH_MARGIN = 30.0

#: Fetches a token: ``(client_id, client_secret, token_url) -> (access_token, expires_in)``.
TokenFetcher = Callable[[str, str, str], "tuple[str, float | None]"]


@dataclass(frozen=True, repr=False)
class _Secret:
    """A string that never shows itself in a repr, str or f-string."""

    value: str

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "<hidden>"


def colab_secret(name: str) -> str | None:
    """The Colab secret ``name`` if running in Colab with access granted, else None."""
    try:
        from google.colab import userdata  # type: ignore[import-not-found]
    except Exception:
        return None
    try:
        value = userdata.get(name)
    except Exception:  # not defined, or notebook access not granted
        return None
    return value or None


def resolve_auth_scheme(
    scheme: str | None = None, env: Mapping[str, str] | None = None, use_colab: bool = True
) -> str:
    """The ``Authorization`` scheme: ``scheme`` if given (``""``: the bare token), else
    ``MIOCREATE_AUTH_SCHEME`` (environment, then Colab secret; set but empty: the bare token),
    else ``Bearer``."""
    if scheme is not None:
        return scheme.strip()
    env = os.environ if env is None else env
    if ENV_AUTH_SCHEME in env:
        return env[ENV_AUTH_SCHEME].strip()
    found = colab_secret(ENV_AUTH_SCHEME) if use_colab else None
    return found.strip() if found is not None else DEFAULT_AUTH_SCHEME


def describe_auth_scheme(scheme: str) -> str:
    """How a header with ``scheme`` looks, without the token: ``Bearer <token>`` or ``<token>``."""
    return f"{scheme} <token>" if scheme else "<token> (bare)"


class Credentials:
    """A static token, or client credentials exchanged for renewable tokens.

    ``Credentials.resolve(token=None, client_id=None, ...)`` applies the lookup order above.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_url: str | None = None,
        source: str = "argument",
    ) -> None:
        if not token and not (client_id and client_secret):
            raise MissingCredentialsError("No MioCreate credentials were found.")
        self._token = _Secret(token) if token else None
        self._client_id = client_id
        self._client_secret = _Secret(client_secret) if client_secret else None
        self.token_url = token_url
        self.source = source
        self._expires_at: float | None = None
        self._lock = threading.Lock()
        self._fetcher: TokenFetcher | None = None
        self._lifetime = 0.0
        #: How many tokens were fetched with the client credentials.
        self.fetches = 0

    @classmethod
    def resolve(
        cls,
        *,
        token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_url: str | None = None,
        env: Mapping[str, str] | None = None,
        use_colab: bool = True,
    ) -> Credentials:
        """Find credentials in the arguments, the environment, then Colab secrets."""
        if token or (client_id and client_secret):
            return cls(
                token=token,
                client_id=client_id,
                client_secret=client_secret,
                token_url=token_url,
                source="argument",
            )
        env = os.environ if env is None else env
        lookups: list[tuple[str, Callable[[str], str | None]]] = [("environment", env.get)]
        if use_colab:
            lookups.append(("Colab secrets", colab_secret))
        for source, get in lookups:
            found_token = get(ENV_TOKEN)
            found_id, found_secret = get(ENV_CLIENT_ID), get(ENV_CLIENT_SECRET)
            if found_token or (found_id and found_secret):
                return cls(
                    token=found_token,
                    client_id=found_id,
                    client_secret=found_secret,
                    token_url=token_url or get(ENV_TOKEN_URL),
                    source=source,
                )
        raise MissingCredentialsError(
            f"No MioCreate credentials found: set {ENV_TOKEN} (or {ENV_CLIENT_ID} and "
            f"{ENV_CLIENT_SECRET}), or pass Client(token=...). Without an account, use the local "
            "sandbox: from mio_nb.sandbox import shared_sandbox; "
            "client = Client.for_sandbox(shared_sandbox())."
        )

    @property
    def can_refresh(self) -> bool:
        """True when client credentials allow fetching a new token."""
        return bool(self._client_id and self._client_secret)

    @property
    def client_id(self) -> str | None:
        return self._client_id

    @property
    def lifetime(self) -> float:
        """Seconds the last fetched token was said to live (0: not said, or a static token)."""
        return self._lifetime

    def exchange_fields(self) -> dict[str, str]:
        """The token request's fields (they hold the client secret: send them, never show)."""
        if not (self._client_id and self._client_secret):
            raise AuthError("No client credentials are set.")
        return {"client_id": self._client_id, "client_secret": self._client_secret.value}

    def set_fetcher(self, fetcher: TokenFetcher) -> None:
        """Install the function that exchanges client credentials for a token."""
        self._fetcher = fetcher

    def token(self) -> str:
        """The current token, fetching or renewing it first when needed."""
        with self._lock:
            margin = min(REFRESH_MARGIN, self._lifetime / 10)
            expiring = self._expires_at is not None and time.time() > self._expires_at - margin
            if self._token is None or (expiring and self.can_refresh):
                self._fetch_locked()
            assert self._token is not None
            return self._token.value

    def refresh(self, rejected: str | None = None) -> str:
        """Fetch a new token (after the server rejected ``rejected``); AuthError if impossible.

        Several threads seeing the same rejected token cause a single fetch.
        """
        if not self.can_refresh:
            raise AuthError("The token was refused and no client credentials are set to renew it.")
        with self._lock:
            if rejected is None or self._token is None or self._token.value == rejected:
                self._fetch_locked()
            assert self._token is not None
            return self._token.value

    def _fetch_locked(self) -> None:
        if not self.can_refresh:
            raise AuthError("No token available and no client credentials to fetch one.")
        if self._fetcher is None or not self.token_url:
            raise AuthError(
                f"No token endpoint configured: pass token_url= or set {ENV_TOKEN_URL}."
            )
        assert self._client_id and self._client_secret
        token, expires_in = self._fetcher(
            self._client_id, self._client_secret.value, self.token_url
        )
        self._token = _Secret(token)
        self.fetches += 1
        self._lifetime = float(expires_in) if expires_in else 0.0
        self._expires_at = time.time() + self._lifetime if expires_in else None

    def __repr__(self) -> str:
        kind = "client credentials" if self.can_refresh else "token"
        return f"<Credentials {kind} from {self.source}>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("Credentials are not picklable (they hold a secret).")
