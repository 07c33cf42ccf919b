"""Access tokens of the sandbox: one static token plus tokens issued for client credentials.

Issued tokens carry their issue time and an HMAC, so they survive a restart on the same data dir.
Never log a token or the client secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

#: Lifetime of a token when the ``token_ttl`` fault is off.
DEFAULT_TOKEN_TTL = 86400
_PREFIX = "sbt"
#: The issue time in a token: milliseconds, ASCII digits only.
_ISSUED = re.compile(r"^[0-9]{1,15}$")


class Auth:
    def __init__(
        self, static_token: str, client_id: str, client_secret: str, secret: bytes
    ) -> None:
        self.static_token = static_token
        self.client_id = client_id
        self.client_secret = client_secret
        self._secret = secret
        self.started_at = time.time()

    def _mac(self, issued: int, nonce: str) -> str:
        msg = f"{_PREFIX}.{issued}.{nonce}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:32]

    def check_client(self, client_id: object, client_secret: object) -> bool:
        return (
            isinstance(client_id, str)
            and isinstance(client_secret, str)
            and hmac.compare_digest(client_id.encode(), self.client_id.encode())
            and hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        )

    def issue(self) -> str:
        issued = int(time.time() * 1000)  # ms
        nonce = secrets.token_urlsafe(12).replace(".", "_")
        return f"{_PREFIX}.{issued}.{nonce}.{self._mac(issued, nonce)}"

    def valid(self, header: str | None, ttl: float | None) -> bool:
        """Whether an ``Authorization`` header value (``Bearer <token>`` or bare) is valid now."""
        if not header:
            return False
        token = header.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            return False
        now = time.time()
        if hmac.compare_digest(token.encode(), self.static_token.encode()):
            return ttl is None or now - self.started_at < ttl
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != _PREFIX or not _ISSUED.match(parts[1]):
            return False
        issued = int(parts[1])
        if not hmac.compare_digest(parts[3].encode(), self._mac(issued, parts[2]).encode()):
            return False
        return now - issued / 1000 < (DEFAULT_TOKEN_TTL if ttl is None else ttl)
