"""The browser's side of FaceSwapWidget's messages, played from Python for the widget tests
(the same protocol as js/src/upload.js and js/src/chunks.js), and a recording comm.

The widget's comm is a recording one (as in ipywidgets' own tests): there is no front end in a
pytest process, so what the widget sends is kept for the test to read; what the browser would
send goes through the widget's real message handler (``_handle_msg``) with real buffers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from comm.base_comm import BaseComm

from mio_nb.widget import FaceSwapWidget
from mio_nb.widget.messages import Msg


class RecordingComm(BaseComm):
    """A comm with no kernel behind it: keeps every message the widget publishes."""

    def __init__(self, **kwargs: Any) -> None:
        self.sent: list[tuple[str, dict, list[bytes]]] = []
        self.lock = threading.Lock()
        super().__init__(**kwargs)

    def publish_msg(self, msg_type: str, data=None, metadata=None, buffers=None, **keys) -> None:
        with self.lock:
            self.sent.append((msg_type, data or {}, [bytes(b) for b in buffers or []]))


class Frontend:
    """The browser's half of a FaceSwapWidget: sends its messages, reads the widget's answers."""

    def __init__(self, widget: FaceSwapWidget) -> None:
        self.widget = widget
        self.comm: RecordingComm = widget.comm
        self._seen = 0
        self._uploads = 0

    # -- messages --
    def send(self, content: dict, buffers: list[bytes] | None = None) -> None:
        msg = {
            "content": {"data": {"method": "custom", "content": content}},
            "buffers": [memoryview(b) for b in buffers or []],
        }
        self.widget._handle_msg(msg)

    def set_trait(self, name: str, value: Any) -> None:
        """What ``model.set(name, value); model.save_changes()`` does in the browser."""
        msg = {
            "content": {"data": {"method": "update", "state": {name: value}, "buffer_paths": []}}
        }
        self.widget._handle_msg({**msg, "buffers": []})

    def custom(self) -> list[tuple[dict, list[bytes]]]:
        """Every custom message the widget has sent so far."""
        with self.comm.lock:
            sent = list(self.comm.sent)
        return [
            (data["content"], buffers)
            for kind, data, buffers in sent
            if kind == "comm_msg" and data.get("method") == "custom"
        ]

    def states(self) -> list[dict]:
        """Every state update the widget has sent so far."""
        with self.comm.lock:
            return [d["state"] for k, d, _ in self.comm.sent if d.get("method") == "update"]

    def replies(self, upload: str) -> list[dict]:
        return [c for c, _ in self.custom() if c.get("upload") == upload]

    # -- upload, as js/src/upload.js does it --
    def upload(
        self,
        data: bytes,
        name: str,
        role: str = "main",
        chunk: int = 256 * 1024,
        window: int = 8,
        size: int | None = None,
    ) -> dict:
        """Send ``data`` in acknowledged chunks; returns the kernel's last answer
        (``upload_done`` or ``upload_error``)."""
        self._uploads += 1
        upload = f"test-{self._uploads}"
        self.send(
            {
                "type": Msg.UPLOAD_START,
                "upload": upload,
                "role": role,
                "name": name,
                "size": len(data) if size is None else size,
            }
        )
        sent = acked = 0
        while True:
            answers = self.replies(upload)
            if answers and answers[-1]["type"] == Msg.UPLOAD_ERROR:
                return answers[-1]
            acks = [a["received"] for a in answers if a["type"] == Msg.UPLOAD_ACK]
            acked = max(acks, default=0)
            if sent < len(data) and sent - acked < window * chunk:
                piece = data[sent : sent + chunk]
                self.send({"type": Msg.UPLOAD_CHUNK, "upload": upload, "offset": sent}, [piece])
                sent += len(piece)
                continue
            if acked >= len(data):
                break
            raise AssertionError(f"no acknowledgement after {acked} of {sent} bytes: {answers}")
        self.send({"type": Msg.UPLOAD_END, "upload": upload})
        return self.replies(upload)[-1]

    # -- media, as js/src/chunks.js MediaAssembler does it --
    def media(self, key: str) -> tuple[str, bytes] | None:
        """(mime, bytes) of the first complete transfer of ``key`` received, or None."""
        transfers: dict[int, dict[int, bytes]] = {}
        for content, buffers in self.custom():
            if content.get("type") != Msg.MEDIA or content["key"] != key:
                continue
            parts = transfers.setdefault(content["transfer"], {})
            parts[content["part"]] = buffers[0]
            if len(parts) == content["parts"]:
                data = b"".join(parts[i] for i in range(content["parts"]))
                assert len(data) == content["size"]
                return content["mime"], data
        return None

    def media_messages(self, key: str) -> list[dict]:
        return [c for c, _ in self.custom() if c.get("type") == Msg.MEDIA and c["key"] == key]


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """Poll ``predicate`` until it is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
