"""Where each person of a video original is seen: the get-face crops (the API's, or the
sandbox's) located in frames sampled from the video (:class:`mio_nb.locate.Locator`), giving a
frame with each person boxed where they appear, and when they are on screen ("seen at
0:02-0:07"). Works the same with the real API: only the crops and the local video are used.

Needs ``imageio-ffmpeg`` (the ``sandbox`` extra) to read the video; without it, or for a video
that cannot be read, no person is placed and the widget shows the crops only.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from .state import Person

if TYPE_CHECKING:
    import numpy as np

    from ..results import FaceSet

__all__ = ["PersonSeen", "people_of_video", "seen_text"]

log = logging.getLogger("mio_nb.widget")

#: Frames looked at per second of video, and at most this many in all.
SAMPLES_PER_SECOND = 3.0
MAX_SAMPLES = 36
#: Frames are looked at with their longest side at most this (boxes are given in these pixels).
FRAME_SIDE = 960
#: A crop counts as seen where its best place in a frame looks like it this much (normalised
#: correlation of small grey copies, -1..1): the crop comes from one frame, the person moves and
#: turns in the others, so the locator's exact-match confidence is not the test here.
MIN_LIKENESS = 0.6


def likeness(
    crop: Image.Image, frame: Image.Image, box: tuple[float, float, float, float]
) -> float:
    """How much ``crop`` looks like ``box`` of ``frame`` (normalised correlation, -1..1)."""
    import numpy as np

    x, y, w, h = box
    region = frame.crop((round(x), round(y), round(x + w), round(y + h)))
    a = np.asarray(crop.convert("L").resize((32, 32)), dtype=np.float32).ravel()
    b = np.asarray(region.convert("L").resize((32, 32)), dtype=np.float32).ravel()
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm else 0.0


@dataclass(frozen=True)
class PersonSeen:
    """A person placed on a frame: the view's state and the frame's picture (WebP)."""

    state: Person
    picture: bytes


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


def seen_text(times: list[float], step: float) -> str:
    """``[2.0, 2.33, ..., 7.0]`` -> "0:02-0:07"; separate appearances joined by ", "."""
    spans: list[list[float]] = []
    for t in sorted(times):
        if spans and t - spans[-1][1] <= 1.5 * step:
            spans[-1][1] = t
        else:
            spans.append([t, t])
    parts = [_clock(a) if _clock(a) == _clock(b) else f"{_clock(a)}-{_clock(b)}" for a, b in spans]
    return ", ".join(parts)


def _frames(path: Path) -> tuple[list[tuple[float, np.ndarray]], float]:
    """Frames sampled from the video (time in s, RGB array), and the time between samples."""
    import imageio_ffmpeg
    import numpy as np

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    fps = float(meta.get("fps") or 25.0)
    width, height = meta["size"]
    duration = float(meta.get("duration") or 0.0)
    total = max(1, int(duration * fps)) if duration else None
    step_frames = max(1, round(fps / SAMPLES_PER_SECOND))
    if total and total / step_frames > MAX_SAMPLES:
        step_frames = max(1, total // MAX_SAMPLES)
    frames = []
    try:
        for i, raw in enumerate(reader):
            if i % step_frames:
                continue
            frame = np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
            frames.append((i / fps, frame))
            if len(frames) >= MAX_SAMPLES:
                break
    finally:
        reader.close()
    return frames, step_frames / fps


def people_of_video(path: Path, faces: FaceSet, key: str = "frame-") -> dict[int, PersonSeen]:
    """Face number -> where and when that person is seen (frames published under ``key`` +
    frame index); persons never found are left out."""
    try:
        import imageio_ffmpeg  # noqa: F401

        frames, step = _frames(path)
    except Exception:  # no ffmpeg, or a video it cannot read: the crops stay the only view
        log.debug("Could not read frames of %s", path, exc_info=True)
        return {}
    from ..locate import Locator

    crops = [(f, Image.open(f.path).convert("RGB")) for f in faces if f.path is not None]
    found: dict[int, list[tuple[float, int, tuple[float, float, float, float], float]]] = {}
    for index, (t, frame) in enumerate(frames):
        image = Image.fromarray(frame)
        image.thumbnail((FRAME_SIDE, FRAME_SIDE))
        locator = Locator(image)
        taken: list[tuple[float, float, float, float]] = []
        for face, crop in crops:
            where = locator.find(crop, min_confidence=0.0, taken=taken)
            if where is None:
                continue
            like = likeness(crop, image, where.box)
            if like >= MIN_LIKENESS:
                taken.append(where.box)
                found.setdefault(face.number, []).append((t, index, where.box, like))
    if not found:
        return {}
    # The frame where the people look most like their crops (most people, surest matches) is
    # shown for all it shows; a person not in it gets the frame where they look most like it.
    score: dict[int, float] = {}
    for seen in found.values():
        for _, index, _, like in seen:
            score[index] = score.get(index, 0.0) + like
    common = max(score, key=lambda i: (score[i], -i))
    pictures: dict[int, tuple[bytes, int, int]] = {}

    def picture(index: int) -> tuple[bytes, int, int]:
        if index not in pictures:
            image = Image.fromarray(frames[index][1])
            image.thumbnail((FRAME_SIDE, FRAME_SIDE))
            buf = io.BytesIO()
            image.save(buf, format="WEBP", quality=80, method=2)
            pictures[index] = (buf.getvalue(), image.width, image.height)
        return pictures[index]

    out = {}
    for number, seen in found.items():
        here = [s for s in seen if s[1] == common] or [max(seen, key=lambda s: s[3])]
        _, index, box, _ = here[0]
        data, width, height = picture(index)
        state = Person(
            frame=f"{key}{index}",
            frame_width=width,
            frame_height=height,
            box=[round(v, 1) for v in box],
            seen=seen_text([s[0] for s in seen], step),
        )
        out[number] = PersonSeen(state, data)
    return out
