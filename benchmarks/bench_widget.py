"""Benchmark of FaceSwapWidget's traffic, measured from outside a real IPython kernel.

A kernel (this venv's ipykernel, started with jupyter_client) runs the widget on a sandbox with
the real engine; this process plays the browser over the kernel's ZMQ channels, with the same
messages as js/src (``ready``/``want`` in, ``media`` parts out). Measures:

- face gallery, 12 faces: from the moment the kernel announces the 12 faces (the ``faces``
  state update, when the view draws 12 numbered cards) to the last face picture received;
- bytes sent to the browser per face picture;
- kernel-to-client time of a 50 MB video result (parts of ``MEDIA_CHUNK_BYTES``);
- growth of the widget state a saved notebook keeps (every synced trait, as JSON) after a video
  swap, and whether it holds media or the token.

Not measured here: the websocket hop through jupyter-server and the browser's own decoding and
layout (the browser tests do that part in a real JupyterLab).

    .venv/bin/python benchmarks/bench_widget.py

Prints a table with the targets and PASS/MISS; exits 1 if any target is missed.
"""

from __future__ import annotations

import queue
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel
from PIL import Image

from mio_nb import samples
from mio_nb.widget.messages import Msg

VIDEO_MB = 50


def twelve_faces(folder: Path) -> Path:
    """Two 6-face group photos stacked: one image with 12 faces."""
    with Image.open(samples.group_photo(faces=6)) as top:
        top = top.convert("RGB")
        sheet = Image.new("RGB", (top.width, top.height * 2), "white")
        sheet.paste(top, (0, 0))
        sheet.paste(top.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (0, top.height))
    path = folder / "twelve.png"
    sheet.save(path)
    return path


class Kernel:
    """A kernel with a FaceSwapWidget ``w``, and the browser's side of its comm."""

    def __init__(self, work: Path) -> None:
        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(work))
        self.comm_id = ""
        self.backlog: queue.Queue = queue.Queue()

    def run(self, code: str, timeout: float = 600) -> str:
        """Execute ``code``; returns its stdout (raises on an error)."""
        msg_id = self.kc.execute(code)
        out = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                self.on_other(msg)
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                raise RuntimeError("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out)
            else:
                self.on_other(msg)

    def on_other(self, msg: dict) -> None:
        self.backlog.put(msg)

    def send(self, content: dict) -> None:
        data = {"method": "custom", "content": content}
        msg = self.kc.session.msg("comm_msg", {"comm_id": self.comm_id, "data": data})
        self.kc.shell_channel.send(msg)

    def messages(self, timeout: float) -> Any:
        """Comm messages of the widget, as (time received, data, buffers), until ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.backlog.get_nowait()
            except queue.Empty:
                try:
                    msg = self.kc.get_iopub_msg(timeout=0.5)
                except queue.Empty:
                    continue
            if msg["msg_type"] != "comm_msg" or msg["content"]["comm_id"] != self.comm_id:
                continue
            yield time.perf_counter(), msg["content"]["data"], msg.get("buffers") or []

    def stop(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def media_until(kernel: Kernel, keys: set[str], timeout: float) -> tuple[float, dict[str, int]]:
    """Receive media parts until every key is complete: (time of the last part, bytes per key)."""
    expected: dict[str, int] = {}
    parts: dict[str, int] = {}
    got: dict[str, int] = {}
    for t, data, buffers in kernel.messages(timeout):
        c = data.get("content", {})
        if data.get("method") != "custom" or c.get("type") != Msg.MEDIA or c["key"] not in keys:
            continue
        key = c["key"]
        expected[key] = c["parts"]
        parts[key] = parts.get(key, 0) + 1
        got[key] = got.get(key, 0) + sum(len(b) for b in buffers)
        if all(k in expected and parts[k] == expected[k] for k in keys):  # every key, whole
            return t, got
    raise TimeoutError(f"media not complete after {timeout} s: {parts} of {expected}")


def main() -> int:
    rows: list[tuple[str, str, str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="mio-nb-bench-widget-") as tmp:
        work = Path(tmp)
        original = twelve_faces(work)
        video = samples.sample_video(faces=1, seconds=2.0)
        big = work / "big.mp4"
        with open(video, "rb") as src, open(big, "wb") as dst:
            head = src.read()
            dst.write(head)
            dst.write(b"\0" * (VIDEO_MB * 1_000_000 - len(head)))
        kernel = Kernel(work)
        try:
            kernel.comm_id = kernel.run(
                "from mio_nb.sandbox import Sandbox\n"
                "from mio_nb.client import Client\n"
                "from mio_nb.widget import FaceSwapWidget\n"
                "sb = Sandbox(port=0, engine='real')\n"
                "w = FaceSwapWidget(client=Client.for_sandbox(sb, progress=False))\n"
                "print(w.model_id)\n"
            ).strip()
            kernel.send({"type": Msg.READY.value})

            # 1-2. The face gallery.
            kernel.run(f"f = w.load_main({str(original)!r})")
            announced = None
            for t, data, _ in kernel.messages(600):
                faces = (
                    data.get("state", {}).get("faces") if data.get("method") == "update" else None
                )
                if faces:
                    announced = t
                    keys = {f["media"] for f in faces}
                    kernel.send({"type": Msg.WANT.value, "keys": sorted(keys)})
                    break
            assert announced is not None, "no faces announced"
            done, sizes = media_until(kernel, keys, 120)
            gallery = done - announced
            per_face = max(sizes.values())
            rows.append(
                (
                    f"gallery of {len(keys)} faces, kernel side",
                    f"{gallery:.2f} s",
                    "<= 0.3 s",
                    gallery <= 0.3 and len(keys) == 12,
                )
            )
            rows.append(
                (
                    "bytes per face (largest)",
                    f"{per_face / 1000:.1f} KB",
                    "<= 40 KB",
                    per_face <= 40_000,
                )
            )

            # 3. A 50 MB video to the browser.
            kernel.run(
                "import pathlib\n"
                f"w._media.publish('bench-video', 'video/mp4', pathlib.Path({str(big)!r}))"
            )
            start = time.perf_counter()
            kernel.send({"type": Msg.WANT.value, "keys": ["bench-video"]})
            done, sizes = media_until(kernel, {"bench-video"}, 120)
            took = done - start
            assert sizes["bench-video"] == big.stat().st_size
            rows.append(
                (
                    f"{VIDEO_MB} MB video kernel -> client (ZMQ)",
                    f"{took:.2f} s",
                    "<= 2 s",
                    took <= 2.0,
                )
            )

            # 4. State growth after a video swap.
            before = int(
                kernel.run(
                    "import json\n"
                    "def state_size():\n"
                    "    return len(json.dumps(w.get_state()))\n"
                    "w.load_main(" + repr(str(video)) + ").result()\n"
                    "print(state_size())\n"
                )
            )
            out = kernel.run(
                "from mio_nb import samples\n"
                "w.add_faces(samples.astronaut())\n"
                "r = w.swap().result()\n"
                "s = json.dumps(w.get_state())\n"
                "print(len(s), sb.token in s, r.path.stat().st_size)\n"
            ).split()
            after, leaks, video_bytes = int(out[0]), out[1] == "True", int(out[2])
            growth = after - before
            rows.append(
                (
                    f"widget state growth after a video swap ({video_bytes // 1000} KB video)",
                    f"{growth / 1000:.1f} KB",
                    "<= 100 KB",
                    growth <= 100_000,
                )
            )
            rows.append(
                (
                    "widget state saved in a notebook (whole)",
                    f"{after / 1000:.1f} KB",
                    "<= 100 KB, no token",
                    after <= 100_000 and not leaks,
                )
            )
            kernel.run("sb.stop()")
        finally:
            kernel.stop()

    width = max(len(r[0]) for r in rows)
    for name, value, target, ok in rows:
        print(f"{name:<{width}}  {value:>10}  {target:<20} {'PASS' if ok else 'MISS'}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
