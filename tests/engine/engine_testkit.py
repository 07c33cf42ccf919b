"""Helpers of the engine tests (a module of its own: ``from conftest import`` would pick up
whichever test folder's conftest was imported first)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(np.int16)


@dataclass
class VideoFacts:
    frames: list[np.ndarray]
    video_codec: str
    pix_fmt: str
    audio: str | None
    width: int
    height: int
    fps: float


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def read_video(path: Path) -> VideoFacts:
    """Every frame (RGB) and the stream facts ``ffmpeg -i`` prints."""
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    width, height = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(height, width, 3).astype(np.int16) for f in gen]
    info = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    video_line = next(line for line in info.splitlines() if "Video:" in line)
    audio_line = next((line for line in info.splitlines() if "Audio:" in line), None)
    after = video_line.split("Video:")[1].split(",")
    return VideoFacts(
        frames=frames,
        video_codec=after[0].split()[0],
        pix_fmt=after[1].split("(")[0].strip(),
        audio=audio_line.split("Audio:")[1].split()[0] if audio_line else None,
        width=width,
        height=height,
        fps=float(meta["fps"]),
    )
