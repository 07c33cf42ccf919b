"""From what a user passes (path, bytes, PIL image, Asset or key) to an uploaded :class:`Asset`.

Every local input is checked before any request: it exists, is readable, is not empty, is at most
500 MB (704) and is a supported format by its magic bytes (703); errors name the file. Uploads
stream from disk in bounded memory (a tqdm.auto bar for large files), go to the presigned URL
without the API token, and get a fresh upload URL once if storage refuses the first (HTTP 403).
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import protocol
from .errors import (
    BadRequestError,
    FileChangedError,
    FileError,
    FileTooLargeError,
    MissingFileError,
    ServerError,
    UnsupportedFormatError,
)
from .formats import HEAD_BYTES, FileFormat, refusal, size_refusal, sniff
from .preflight import check_media, check_pixels
from .results import Asset, Face, Kind

if TYPE_CHECKING:
    from .transport import Transport

log = logging.getLogger("mio_nb.uploads")

#: Show an upload progress bar for files at least this big (and only once it takes > 0.5 s).
PROGRESS_MIN_BYTES = 8 * 1024 * 1024

# Keys the service hands out: "temporary/20240816/3620/....jpg", "133902/asset/202408/....png",
# the sandbox's "sandbox/asset/...". A string that is not an existing path and looks like this
# is taken as a key.
_KEY_RE = re.compile(r"^(temporary|sandbox|\d+)/\S+\.[A-Za-z0-9]{2,5}$")


@dataclass(frozen=True)
class Source:
    """A validated local input, ready to upload. ``label`` names it in messages."""

    label: str
    name: str
    size: int
    format: FileFormat
    path: Path | None = None
    data: bytes | None = field(default=None, repr=False)
    #: The file's modification time when it was checked (a change during upload is an error).
    mtime_ns: int | None = field(default=None, repr=False)

    @property
    def kind(self) -> Kind:
        return self.format.kind

    @property
    def upload_name(self) -> str:
        """The file name sent to upload-url: the stem with the extension of the real format."""
        stem = Path(self.name).stem or "upload"
        return f"{stem}.{self.format.name}"

    def open(self) -> IO[bytes]:
        if self.path is not None:
            try:
                return open(self.path, "rb")
            except FileNotFoundError:
                raise MissingFileError(
                    f"{self.label} was removed after it was checked.",
                    hint="Put the file back (or pick another), then try again. Nothing was paid.",
                ) from None
            except OSError as e:
                raise FileError(f"Cannot read {self.label[4:]}: {e.strerror or e}.") from None
        assert self.data is not None
        return io.BytesIO(self.data)


Prepared = Source | Asset


def looks_like_key(text: str) -> bool:
    """True for strings shaped like a service key (``temporary/.../x.jpg``)."""
    return bool(_KEY_RE.match(text))


def _check(label: str, size: int, head: bytes) -> FileFormat:
    """The format of a local input, or the error whose sentence (formats.py) says why not."""
    too_big_or_empty = size_refusal(label, size)
    if too_big_or_empty is not None:
        if size == 0:
            raise FileError(too_big_or_empty, hint="Pass a real image or video file.")
        raise FileTooLargeError(too_big_or_empty)
    problem = refusal(label, head, "main")  # says what the file is: text, a PDF, a web page...
    if problem is not None:
        raise UnsupportedFormatError(problem)
    fmt = sniff(head)
    assert fmt is not None  # refusal() is None only for a supported format
    return fmt


def _from_path(path: Path, role: str) -> Source:
    label = f"The {role} file '{path}'"
    try:
        st = path.stat()
    except FileNotFoundError:
        raise MissingFileError(
            f"The {role} file '{path}' does not exist (working directory: {os.getcwd()})."
        ) from None
    except OSError as e:
        raise FileError(f"Cannot read {label[4:]}: {e.strerror}.") from None
    if not path.is_file():
        raise FileError(f"{label} is not a file.")
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError as e:
        raise FileError(
            f"Cannot read {label[4:]}: {e.strerror or e}.",
            hint="Check the file's permissions and that it is fully downloaded/synced.",
        ) from None
    fmt = _check(label, st.st_size, head)
    check_media(label, fmt, path=path, stamp=(st.st_size, st.st_mtime_ns))
    return Source(
        label=label,
        name=path.name,
        size=st.st_size,
        format=fmt,
        path=path,
        mtime_ns=st.st_mtime_ns,
    )


def _from_bytes(data: bytes, role: str, name: str | None) -> Source:
    label = f"The {role} ({name or 'in-memory data'})"
    fmt = _check(label, len(data), data[:HEAD_BYTES])
    check_media(label, fmt, data=data)
    base = Path(name).stem if name else role.replace(" ", "-")
    return Source(label=label, name=f"{base}.{fmt.name}", size=len(data), format=fmt, data=data)


def _from_pil(img: Any, role: str) -> Source:
    name = Path(getattr(img, "filename", "") or role.replace(" ", "-")).stem + ".png"
    check_pixels(f"The {role} (PIL image {name})", *img.size)
    buf = io.BytesIO()
    if img.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        img = img.convert("RGB")
    img.save(buf, format="PNG", compress_level=3)
    return _from_bytes(buf.getvalue(), role, name)


def prepare(src: Any, role: str = "input") -> Prepared:
    """Check one input without any request: an :class:`Asset` (already uploaded) or a
    :class:`Source` to upload. ``role`` names it in errors ("original", "new face")."""
    if isinstance(src, (Asset, Source)):
        return src
    if isinstance(src, Face):
        return Asset(key=src.key, name=f"face-{src.index}.png", size=src.size, kind="image")
    if isinstance(src, (bytes, bytearray, memoryview)):
        return _from_bytes(bytes(src), role, None)
    if isinstance(src, str):
        if not os.path.exists(src) and looks_like_key(src):
            return Asset.from_key(src)
        return _from_path(Path(src).expanduser(), role)
    if isinstance(src, os.PathLike):
        return _from_path(Path(os.fspath(src)).expanduser(), role)
    pil = sys.modules.get("PIL.Image")
    if pil is not None and isinstance(src, pil.Image):
        return _from_pil(src, role)
    if hasattr(src, "read"):  # an open file or BytesIO
        name = getattr(src, "name", None)
        if isinstance(name, str) and os.path.isfile(name):
            return _from_path(Path(name), role)
        return _from_bytes(src.read(), role, name if isinstance(name, str) else None)
    raise BadRequestError(
        f"Cannot use {type(src).__name__} as the {role}: pass a path, bytes, a PIL image, an "
        "Asset or an uploaded key.",
        hint="For example client.swap_image('photo.jpg', 'me.jpg').",
    )


def require_kind(item: Prepared, kind: Kind, role: str, hint: str | None = None) -> None:
    """BadRequestError (before any request) if ``item`` is known not to be ``kind``."""
    actual = item.kind
    if actual is not None and actual != kind:
        what = item.label if isinstance(item, Source) else f"The {role} '{item.name}'"
        raise BadRequestError(
            f"{what} is {'an' if actual == 'image' else 'a'} {actual}; the "
            f"{role} must be {'an' if kind == 'image' else 'a'} {kind}.",
            hint=hint,
        )


class _ProgressReader:
    """A file-like view of ``size`` bytes that reports reads; seekable so retries rewind.

    Raises FileChangedError as soon as the file is shorter than checked, changes size or
    modification time, or the upload takes longer than ``deadline`` (monotonic seconds).
    """

    def __init__(
        self,
        f: IO[bytes],
        source: Source,
        report: Callable[[int], None] | None,
        deadline: float | None = None,
    ) -> None:
        self._f = f
        self._source = source
        self._size = source.size
        self._pos = 0
        self._report = report
        self._deadline = deadline

    def __len__(self) -> int:
        return self._size

    def _changed(self, what: str) -> FileChangedError:
        return FileChangedError(f"{self._source.label} {what} while it was being uploaded.")

    def _check_unchanged(self) -> None:
        path = self._source.path
        if path is not None:
            try:
                st = os.stat(path)
            except OSError:
                raise self._changed("disappeared") from None
            if st.st_size != self._size:
                raise self._changed(f"changed size ({self._size} -> {st.st_size} bytes)")
            if self._source.mtime_ns is not None and st.st_mtime_ns != self._source.mtime_ns:
                raise self._changed("was modified")
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise FileError(
                f"{self._source.label} took too long to upload (more than "
                f"{upload_budget(self._size):.0f} s).",
                hint="Check the network connection, then try again. Nothing was paid for.",
            )

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self._size - self._pos
        want = min(n, self._size - self._pos)
        chunk = self._f.read(want)
        if len(chunk) < want:
            raise self._changed(
                f"is shorter than when it was checked ({self._pos + len(chunk)} of "
                f"{self._size} bytes)"
            )
        self._check_unchanged()
        self._pos += len(chunk)
        if self._report and chunk:
            self._report(len(chunk))
        return chunk

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 1:
            pos += self._pos
        elif whence == 2:
            pos += self._size
        self._f.seek(pos)
        if self._report and pos < self._pos:
            self._report(pos - self._pos)
        self._pos = pos
        return pos


def upload_budget(size: int) -> float:
    """The most seconds one upload attempt of ``size`` bytes may take: 2 minutes plus one
    second per 256 KB (a slow line of 2 Mbit/s)."""
    return 120.0 + size / 262_144


def upload_source(
    transport: Transport,
    source: Source,
    *,
    progress: bool = True,
    ticket: tuple[str, str] | None = None,
) -> Asset:
    """Upload one checked source and return its Asset.

    ``ticket`` is an ``(upload_url, key)`` pair obtained earlier; if storage refuses it (HTTP 403,
    e.g. expired) a fresh one is fetched once.
    """
    from .transport import StorageURLExpired

    bar = None
    if progress and source.size >= PROGRESS_MIN_BYTES:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=source.size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=f"Uploading {source.name}",
            delay=0.5,
            leave=False,
        )
    try:
        for attempt in (1, 2):
            if ticket is None:
                data = transport.call(
                    "POST", protocol.UPLOAD_URL_PATH, json={"file_name": source.upload_name}
                )
                if not isinstance(data, dict) or not data.get("upload_url") or not data.get("key"):
                    raise ServerError(f"The server sent no upload URL ({str(data)[:100]!r}).")
                ticket = (str(data["upload_url"]), str(data["key"]))
            url, key = ticket
            with source.open() as f:
                deadline = time.monotonic() + upload_budget(source.size)
                reader = _ProgressReader(f, source, bar.update if bar else None, deadline)
                try:
                    transport.put(url, reader, source.size, source.format.mime)
                    break
                except StorageURLExpired:
                    if bar:
                        bar.reset()
                    if attempt == 2:
                        raise FileError(
                            f"Storage refused the upload of {source.name} twice (HTTP 403), "
                            "even with a fresh upload URL.",
                            hint="Check the computer's clock and try again.",
                        ) from None
                    log.info(
                        "Upload URL for %s refused (expired?); getting a new one.", source.name
                    )
                    ticket = None
    finally:
        if bar:
            bar.close()
    log.debug("Uploaded %s (%d bytes) as %s", source.name, source.size, key)
    return Asset(key=key, name=source.name, size=source.size, kind=source.kind)
