"""Files coming into the widget: paths or bytes from Python, and chunked uploads from the
browser (:class:`~mio_nb.transfer.UploadReceiver`), each checked by size and content before use,
with refusals that say what the file is (:func:`mio_nb.formats.refusal`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..formats import HEAD_BYTES, MAX_UPLOAD_BYTES
from ..transfer import ReceivedFile, UploadError, UploadReceiver, check_head, check_size, safe_name
from .messages import Msg

__all__ = ["Inputs"]


class Inputs:
    """``materialize`` a Python source; ``start``/``chunk``/``end``/``cancel`` the browser's
    upload messages (each answered through ``reply``); complete files go to ``use``."""

    def __init__(
        self,
        folder: Path,
        reply: Callable[[dict[str, Any]], None],
        use: Callable[[ReceivedFile], None],
        max_bytes: int = MAX_UPLOAD_BYTES,
    ) -> None:
        self.folder = folder
        self.receiver = UploadReceiver(folder / "uploads", max_bytes)
        self._reply = reply
        self._use = use
        self._count = itertools.count(1)

    def materialize(self, src: str | Path | bytes, name: str | None, role: str) -> Path:
        """A checked local file for ``src``; bytes are written to the widget's folder.
        Raises :class:`UploadError` saying what is wrong with the file."""
        limit = self.receiver.max_bytes
        if isinstance(src, bytes | bytearray | memoryview):
            data = bytes(src)
            label = safe_name(name or ("original" if role == "main" else "new-face"))
            check_size(label, len(data), limit)
            fmt = check_head(label, data[:HEAD_BYTES], role)
            folder = self.folder / "inputs"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{Path(label).stem}-{next(self._count)}.{fmt.name}"
            path.write_bytes(data)
            return path
        path = Path(src).expanduser()
        if not path.is_file():
            raise UploadError(f"File not found: {path}. Check the path.")
        check_size(path.name, path.stat().st_size, limit)
        with path.open("rb") as f:
            check_head(path.name, f.read(HEAD_BYTES), role)
        return path

    def _answer(self, upload: str, step: Callable[[], Any]) -> None:
        try:
            answer = step()
        except (UploadError, ValueError, RuntimeError) as e:
            self._reply({"type": Msg.UPLOAD_ERROR.value, "upload": upload, "message": str(e)})
            return
        self._reply({"upload": upload, **answer})

    def start(self, content: dict, limit: int) -> None:
        upload = str(content.get("upload"))

        def step() -> dict:
            self.receiver.max_bytes = min(limit, MAX_UPLOAD_BYTES)
            size: Any = content.get("size")  # as the browser sent it: the receiver checks it
            self.receiver.start(upload, str(content.get("role")), str(content.get("name")), size)
            return {"type": Msg.UPLOAD_ACK.value, "received": 0}

        self._answer(upload, step)

    def chunk(self, content: dict, buffers: list) -> None:
        upload = str(content.get("upload"))

        def step() -> dict:
            if len(buffers) != 1:
                raise UploadError("A chunk arrived without its data: choose the file again.")
            offset = int(content.get("offset", -1))
            return {
                "type": Msg.UPLOAD_ACK.value,
                "received": self.receiver.chunk(upload, offset, buffers[0]),
            }

        self._answer(upload, step)

    def end(self, content: dict) -> None:
        upload = str(content.get("upload"))

        def step() -> dict:
            self._use(self.receiver.finish(upload))
            return {"type": Msg.UPLOAD_DONE.value}

        self._answer(upload, step)

    def cancel(self, content: dict) -> None:
        self.receiver.cancel(str(content.get("upload")))
