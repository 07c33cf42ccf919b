"""Objects on disk under the data dir, their keys, and HMAC-signed expiring URLs for them.

A key such as ``temporary/20261125/sandbox/1764051000000-<uuid>.png`` is stored at
``<data_dir>/objects/<key>``. Presigned URLs look like
``{base_url}/storage/<key>?X-Expires=<unix>&X-Signature=<hex hmac-sha256>``; the signature covers
the method (PUT for uploads, GET for reads), the key and the expiry.

An upload URL can be used once: a PUT to a key that is stored (or being stored) is refused, so
nobody can replace an input a task has used. Uploads (``temporary/`` keys) share a disk quota
(``upload_quota`` bytes; None: none); an upload that would pass it is refused (704).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

from mio_nb.formats import HEAD_BYTES, FileFormat, sniff
from mio_nb.sandbox import media_limits

STORAGE_PREFIX = "/storage/"
#: The default disk quota of the uploads of one sandbox.
DEFAULT_UPLOAD_QUOTA = 20 * 10**9
UPLOAD_PREFIX = "temporary/"
#: An expiry time: ASCII digits only (``"²".isdigit()`` is true), and no more than a year 9999.
_EXPIRES = re.compile(r"^[0-9]{1,12}$")
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


def valid_key(key: object) -> bool:
    """Whether ``key`` is a well-formed object key (no ``..``, no leading slash)."""
    return isinstance(key, str) and len(key) <= 512 and bool(_KEY_RE.match(key)) and ".." not in key


def _stamp() -> str:
    return f"{int(time.time() * 1000)}-{uuid.uuid4()}"


def upload_key(ext: str) -> str:
    """A new key for an uploaded file: ``temporary/YYYYMMDD/sandbox/<ms>-<uuid>.<ext>``."""
    return f"temporary/{time.strftime('%Y%m%d', time.gmtime())}/sandbox/{_stamp()}.{ext}"


def asset_key(ext: str) -> str:
    """A new key for a task result: ``sandbox/asset/YYYYMM/<ms>-<uuid>.<ext>``."""
    return f"sandbox/asset/{time.strftime('%Y%m', time.gmtime())}/{_stamp()}.{ext}"


class Storage:
    """The object store of one sandbox."""

    def __init__(
        self, root: Path, secret: bytes, upload_quota: int | None = DEFAULT_UPLOAD_QUOTA
    ) -> None:
        self.upload_quota = upload_quota
        self._uploading: dict[str, int] = {}  # key -> bytes reserved while it is received
        self._uploads_lock = threading.Lock()
        self._used: int | None = None  # bytes of stored uploads (counted at the first need)
        self.root = root / "objects"
        self.tmp = root / "tmp"
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._secret = secret
        self._refusals: dict[str, str | None] = {}  # key -> over-limit reason, checked once
        self._refusals_lock = threading.Lock()

    # -- objects ---------------------------------------------------------------------------
    def path(self, key: str) -> Path:
        if not valid_key(key):
            raise ValueError("invalid key")
        return self.root / key

    def exists(self, key: object) -> bool:
        return valid_key(key) and self.path(key).is_file()  # type: ignore[arg-type]

    def format_of(self, key: str) -> FileFormat | None:
        with open(self.path(key), "rb") as f:
            return sniff(f.read(HEAD_BYTES))

    def refusal(self, key: str) -> str | None:
        """Why the object ``key`` is over the media limits (code 704), or None. Objects never
        change once stored, so each is checked once."""
        with self._refusals_lock:
            if key in self._refusals:
                return self._refusals[key]
        fmt = self.format_of(key)
        reason = None if fmt is None else media_limits.refusal(self.path(key), fmt)
        self.remember_refusal(key, reason)
        return reason

    def remember_refusal(self, key: str, reason: str | None) -> None:
        with self._refusals_lock:
            if len(self._refusals) >= 4096:
                self._refusals.clear()
            self._refusals[key] = reason

    # -- uploads: once per URL, inside the quota --------------------------------------------
    def begin_upload(self, key: str) -> bool:
        """Reserve ``key`` for one upload; False when it is stored or being stored already."""
        with self._uploads_lock:
            if key in self._uploading or self.exists(key):
                return False
            self._uploading[key] = 0
            return True

    def reserve(self, key: str, more: int) -> bool:
        """Count ``more`` bytes of the upload of ``key``; False past the quota."""
        with self._uploads_lock:
            if self.upload_quota is None:
                return True
            if self._used is None:
                self._used = self._count_uploads()
            total = self._used + sum(self._uploading.values()) + more
            if total > self.upload_quota:
                return False
            self._uploading[key] = self._uploading.get(key, 0) + more
            return True

    def end_upload(self, key: str, stored: bool) -> None:
        with self._uploads_lock:
            size = self._uploading.pop(key, 0)
            if stored and self._used is not None:
                self._used += size

    def forget_usage(self) -> None:
        """Count the uploads again at the next need (after housekeeping removed some)."""
        with self._uploads_lock:
            self._used = None

    def _count_uploads(self) -> int:
        total = 0
        for dirpath, _dirs, names in os.walk(self.root / UPLOAD_PREFIX):
            for name in names:
                with suppress(OSError):
                    total += os.stat(os.path.join(dirpath, name)).st_size
        return total

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def commit(self, tmp_path: Path, key: str) -> None:
        """Move a finished temporary file into place as ``key`` (atomic)."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_path, target)

    @contextmanager
    def temp_file(self, suffix: str = "") -> Iterator[Path]:
        """A temporary path in the store's own file system, removed on exit unless committed."""
        fd, name = tempfile.mkstemp(dir=self.tmp, suffix=suffix)
        os.close(fd)
        path = Path(name)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    # -- signing ---------------------------------------------------------------------------
    def _signature(self, method: str, key: str, expires: int) -> str:
        message = f"{method}\n{key}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(self, base_url: str, key: str, method: str, expires_in: int) -> str:
        """A presigned URL for ``method`` ("PUT" or "GET") on ``key``, valid ``expires_in`` s."""
        expires = int(time.time()) + int(expires_in)
        signature = self._signature(method, key, expires)
        return f"{base_url}{STORAGE_PREFIX}{quote(key)}?X-Expires={expires}&X-Signature={signature}"

    def verify(self, method: str, key: str, expires: str | None, signature: str | None) -> str:
        """ "ok", "expired" or "bad" for a presigned request."""
        if not expires or not signature or not _EXPIRES.match(expires):
            return "bad"
        expected = self._signature(method, key, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return "bad"
        if int(expires) < time.time():
            return "expired"
        return "ok"
