"""Helpers shared by the client tests (imported as a plain module: tests/ is no package)."""

from __future__ import annotations

import io
import json

from PIL import Image, ImageDraw

from mio_nb.sandbox import Sandbox
from mio_nb.transport import RetryConfig

#: Short backoffs so fault tests stay fast; the policy is the same as the default one.
FAST_RETRY = RetryConfig(
    retries=6, backoff_factor=0.02, backoff_max=0.2, backoff_jitter=0.02, rate_limit_wait=3.0
)


def portrait(size: tuple[int, int] = (160, 200), seed: int = 0) -> Image.Image:
    """A simple drawn face (enough for the instant engine, which does not detect faces)."""
    img = Image.new("RGB", size, (90 + seed * 20 % 120, 140, 200))
    d = ImageDraw.Draw(img)
    w, h = size
    d.ellipse((w * 0.2, h * 0.15, w * 0.8, h * 0.85), fill=(230, 190, 160))
    d.ellipse((w * 0.33, h * 0.38, w * 0.43, h * 0.45), fill=(40, 40, 40))
    d.ellipse((w * 0.57, h * 0.38, w * 0.67, h * 0.45), fill=(40, 40, 40))
    d.arc((w * 0.38, h * 0.55, w * 0.62, h * 0.7), 0, 180, fill=(150, 40, 40), width=3)
    return img


class TaskWatch:
    """The sandbox's task table rows created since the watch started."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.before = {row.id for row in sb.tasks()}

    def new(self) -> list:
        return [row for row in self.sb.tasks() if row.id not in self.before]

    def assert_no_duplicates(self) -> list:
        rows = self.new()
        seen = [(r.type, json.dumps(r.params, sort_keys=True)) for r in rows]
        assert len(seen) == len(set(seen)), f"a task was created twice: {rows}"
        return rows


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def tiny_gif() -> bytes:
    """A real 4x4 GIF: the smallest input that passes every check before upload."""
    buf = io.BytesIO()
    Image.new("P", (4, 4)).save(buf, format="GIF")
    return buf.getvalue()
