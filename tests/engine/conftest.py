"""Fixtures for the engine tests: the real engine, sample media, and video readers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from engine_testkit import ffmpeg_exe

from mio_nb import samples
from mio_nb.sandbox.engine import Engine, load_engine


@pytest.fixture(scope="session")
def engine() -> Engine:
    return load_engine("real")


@pytest.fixture(scope="session")
def no_face_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-second clip of ffmpeg's test pattern: no face in it."""
    out = tmp_path_factory.mktemp("videos") / "pattern.mp4"
    subprocess.run(
        [
            ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", "testsrc=size=320x240:rate=12:duration=1",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out),
        ],
        check=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def portraits() -> dict[str, Path]:
    return {
        "grace": samples.grace_hopper(),
        "astronaut": samples.astronaut(),
        "coffee": samples.no_face(),
    }


@pytest.fixture(scope="session")
def crowd(tmp_path_factory: pytest.TempPathFactory):
    """The six-people clip with a cut to a close-up (see ``engine_scenes.crowd_video``)."""
    from engine_scenes import crowd_video

    return crowd_video(tmp_path_factory.mktemp("crowd"), seconds=6.0)
