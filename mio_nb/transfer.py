"""Binary transfer between the kernel and the browser for :class:`~mio_nb.widget.FaceSwapWidget`.

One big comm message fails silently (ipywidgets' FileUpload breaks above ~10 MB on a default
Jupyter server and ~1 MB on Colab), so both directions go in chunks, as custom messages with
binary buffers (never base64, never in widget state):

- browser -> kernel: ``upload_start`` {upload, role, name, size}, then ``upload_chunk``
  {upload, offset} + one buffer, each acknowledged with ``upload_ack`` {upload, received}, then
  ``upload_end``; :class:`UploadReceiver` writes the chunks to a file and checks the size against
  ``MAX_UPLOAD_BYTES`` and the format by magic bytes, as the browser did before sending.
- kernel -> browser: :func:`send_media` sends a file or bytes as ``media`` {key, transfer, part,
  parts, mime, size} messages of at most ``MEDIA_CHUNK_BYTES`` each.

The message names are those of :class:`mio_nb.widget.messages.Msg`, as in the JavaScript.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .formats import (
    HEAD_BYTES,
    MAX_UPLOAD_BYTES,
    ROLE_KINDS,
    FileFormat,
    refusal,
    size_refusal,
    sniff,
)
from .widget.messages import Msg

#: Kernel -> browser part size: well under Colab's ~1 MB message limit, and still fast.
MEDIA_CHUNK_BYTES = 512 * 1024
#: The largest upload chunk the kernel accepts (the browser sends 256 KiB).
MAX_CHUNK_BYTES = 4 << 20
#: Chunks of one upload that may arrive ahead of a gap (the browser keeps 8 in flight).
MAX_EARLY_CHUNKS = 16
#: Uploads that may be in progress at once (each holds an open file).
MAX_OPEN_UPLOADS = 8


SendFn = Callable[[dict, list], None]


class UploadError(ValueError):
    """An upload was refused; ``str(error)`` is a sentence for the user saying what to do."""


def safe_name(name: str, default: str = "file") -> str:
    """A file name without directories or odd characters: ``"../a b?.png"`` -> ``"a_b_.png"``."""
    base = os.path.basename(str(name).replace("\\", "/")).strip()
    base = re.sub(r"[^\w.\-]+", "_", base).lstrip(".")
    return base[:120] or default


def check_head(name: str, head: bytes, role: str) -> FileFormat:
    """The format of a file from its first bytes, or :class:`UploadError` saying why not."""
    problem = refusal(name, head, role)  # the sentence says what the file is (formats.py)
    if problem is not None:
        raise UploadError(problem)
    fmt = sniff(head)
    assert fmt is not None  # refusal() is None only for a supported format
    return fmt


def check_size(name: str, size: int, limit: int = MAX_UPLOAD_BYTES) -> None:
    """:class:`UploadError` when ``size`` is 0 or over ``limit`` (never above MAX_UPLOAD_BYTES)."""
    problem = size_refusal(name, size, limit)
    if problem is not None:
        raise UploadError(problem)


@dataclass(frozen=True)
class ReceivedFile:
    """A complete upload: where it is, what it is, and what the browser called it."""

    path: Path
    name: str
    role: str
    size: int
    format: FileFormat


@dataclass
class _Upload:
    name: str
    role: str
    size: int
    path: Path
    file: IO[bytes]
    received: int = 0
    head: bytearray = field(default_factory=bytearray)
    format: FileFormat | None = None
    #: Chunks that arrived ahead of ``received``, by offset, until the gap before them fills.
    early: dict[int, bytes] = field(default_factory=dict)


class UploadReceiver:
    """Reassembles browser -> kernel uploads into files under ``folder``.

    Each method raises :class:`UploadError` with a sentence for the user when something is wrong,
    after discarding the partial file.
    """

    def __init__(self, folder: Path, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._uploads: dict[str, _Upload] = {}
        self._seq = itertools.count(1)

    def start(self, upload_id: str, role: str, name: str, size: int) -> None:
        """Begin an upload of ``size`` bytes announced by the browser."""
        if role not in ROLE_KINDS:
            raise UploadError(f"Unknown upload role {role!r}.")
        if upload_id in self._uploads:
            raise UploadError(f"{name} is already being sent.")
        if len(self._uploads) >= MAX_OPEN_UPLOADS:
            raise UploadError("Too many files are being sent at once: wait for them to finish.")
        clean = safe_name(name, "original" if role == "main" else "new-face")
        if not isinstance(size, int) or isinstance(size, bool):
            raise UploadError(f"{clean}: the browser sent no valid size.")
        check_size(clean, size, self.max_bytes)
        folder = self.folder / f"upload-{next(self._seq)}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / clean
        part = path.with_name(path.name + ".part")
        self._uploads[upload_id] = _Upload(clean, role, size, path, part.open("wb"))

    def chunk(self, upload_id: str, offset: int, data: bytes | memoryview) -> int:
        """Take one chunk at ``offset``; returns the bytes written in order so far (the ack).

        Chunks carry their offset, so one that overtakes another on the way waits here (at most
        ``MAX_EARLY_CHUNKS``, the browser's window bounds them) until the gap before it fills;
        a chunk seen before is ignored.
        """
        up = self._get(upload_id)
        try:
            n = len(data)
            if n > MAX_CHUNK_BYTES:
                raise UploadError(f"{up.name}: a chunk of {n} bytes is too large.")
            if offset < 0 or offset + n > up.size:
                raise UploadError(
                    f"{up.name} is larger than the {up.size} bytes announced: choose it again."
                )
            if offset < up.received or offset in up.early:
                return up.received  # a chunk sent twice
            if offset > up.received:
                if len(up.early) >= MAX_EARLY_CHUNKS:
                    raise UploadError(
                        f"{up.name} arrived out of order (byte {offset}, expected "
                        f"{up.received}): choose it again."
                    )
                up.early[offset] = bytes(data)
                return up.received
            self._write(up, data)
            while up.received in up.early:
                self._write(up, up.early.pop(up.received))
            return up.received
        except UploadError:
            self.cancel(upload_id)
            raise
        except OSError as e:
            self.cancel(upload_id)
            raise UploadError(
                f"{up.name} could not be written in the kernel ({e.strerror}): free some disk "
                "space and try again."
            ) from e

    @staticmethod
    def _write(up: _Upload, data: bytes | memoryview) -> None:
        n = len(data)
        if up.format is None:
            up.head += bytes(data[: HEAD_BYTES - len(up.head)])
            if len(up.head) >= HEAD_BYTES or up.received + n == up.size:
                up.format = check_head(up.name, bytes(up.head), up.role)
        up.file.write(data)
        up.received += n

    def finish(self, upload_id: str) -> ReceivedFile:
        """Close a complete upload and return the file."""
        up = self._get(upload_id)
        if up.received != up.size or up.format is None:
            self.cancel(upload_id)
            raise UploadError(
                f"{up.name} stopped after {up.received} of {up.size} bytes: choose it again."
            )
        del self._uploads[upload_id]
        up.file.close()
        Path(up.file.name).replace(up.path)
        return ReceivedFile(up.path, up.name, up.role, up.size, up.format)

    def cancel(self, upload_id: str) -> None:
        """Drop an upload and its partial file (no error when unknown)."""
        up = self._uploads.pop(upload_id, None)
        if up is None:
            return
        up.file.close()
        Path(up.file.name).unlink(missing_ok=True)

    def cancel_all(self) -> None:
        for upload_id in list(self._uploads):
            self.cancel(upload_id)

    @property
    def open_uploads(self) -> int:
        return len(self._uploads)

    def _get(self, upload_id: str) -> _Upload:
        try:
            return self._uploads[upload_id]
        except KeyError:
            raise UploadError("This upload was cancelled or has already finished.") from None


def send_media(
    send: SendFn,
    key: str,
    mime: str,
    data: bytes | Path,
    transfer: int,
    chunk_bytes: int = MEDIA_CHUNK_BYTES,
) -> int:
    """Send ``data`` (bytes, or a file read piece by piece) as ``media`` parts; returns its size.

    ``send(content, buffers)`` is the widget's ``send``. The browser reassembles the parts by
    ``key`` and ``transfer`` and turns them into a Blob URL.
    """
    size = data.stat().st_size if isinstance(data, Path) else len(data)
    parts = max(1, math.ceil(size / chunk_bytes))
    header = {
        "type": Msg.MEDIA.value,
        "key": key,
        "transfer": transfer,
        "parts": parts,
        "mime": mime,
    }
    if isinstance(data, Path):
        with data.open("rb") as f:
            for part in range(parts):
                send({**header, "part": part, "size": size}, [f.read(chunk_bytes)])
    else:
        view = memoryview(data)
        for part in range(parts):
            piece = view[part * chunk_bytes : (part + 1) * chunk_bytes]
            send({**header, "part": part, "size": size}, [piece])
    return size


class MediaServer:
    """Media the widget offers the browser, by key: sent as soon as it is published (a view
    that exists receives it even while the kernel is busy running cells, when the view's
    requests wait), and sent again when a view asks for it (``serve``: a view rendered after
    it was published, or one that dropped it). A key asked for before it exists goes out when
    it is published, as every key does.

    ``send(content, buffers)`` is the widget's ``send``; pictures are kept as bytes, videos and
    results as paths (read piece by piece when sent). Publish a picture before the state that
    names its key, so that a view has it when it shows the state."""

    def __init__(self, send: SendFn, chunk_bytes: int = MEDIA_CHUNK_BYTES) -> None:
        self._send = send
        self.chunk_bytes = chunk_bytes
        self._media: dict[str, tuple[str, bytes | Path]] = {}
        self._transfers = itertools.count(1)
        self._lock = threading.Lock()

    def serve(self, keys: Iterable[str]) -> None:
        """Send the media asked for that exists (the rest goes out when published)."""
        for key in keys:
            with self._lock:
                item = self._media.get(key)
            if item is not None:
                self._deliver(key, *item)

    def publish(self, key: str, mime: str, data: bytes | Path) -> None:
        """Keep ``data`` under ``key`` and send it now."""
        with self._lock:
            self._media[key] = (mime, data)
        self._deliver(key, mime, data)

    def forget(self, prefix: str) -> None:
        """Drop every key starting with ``prefix`` (e.g. the previous original's faces)."""
        with self._lock:
            for key in [k for k in self._media if k.startswith(prefix)]:
                del self._media[key]

    def _deliver(self, key: str, mime: str, data: bytes | Path) -> None:
        send_media(self._send, key, mime, data, next(self._transfers), self.chunk_bytes)
