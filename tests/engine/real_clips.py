"""The development set of real footage (``shared/fixtures/real``, CC BY 4.0, read in place).

Three GIF clips of real people (see that folder's README): ``classroom`` (4 seated people,
small faces), ``walking`` (3 people walking in and looking around), ``turning`` (2 people
turning and tilting their heads). Nothing is copied into the repository: the clips are read
where they are, converted to MP4 in a temporary folder for the video paths.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from engine_testkit import ffmpeg_exe
from PIL import Image, ImageSequence

#: Folder of the clips: ``MIO_NB_REAL_FIXTURES`` or ``shared/fixtures/real`` next to a parent
#: folder of this checkout (``/work/shared`` for ``/work/main`` and ``/work/wt/...``).
ENV = "MIO_NB_REAL_FIXTURES"


def real_folder() -> Path | None:
    if os.environ.get(ENV):
        folder = Path(os.environ[ENV])
        return folder if folder.is_dir() else None
    for parent in Path(__file__).resolve().parents:
        folder = parent / "shared" / "fixtures" / "real"
        if folder.is_dir():
            return folder
    return None


@dataclass(frozen=True)
class Clip:
    name: str
    file: str
    people: int


CLIPS = {
    "classroom": Clip("classroom", "classroom.gif", 4),
    "walking": Clip("walking", "face-demographics-walking-and-pause.gif", 3),
    "turning": Clip("turning", "head-pose-face-detection-female-and-male.gif", 2),
}


def gif_frames(path: Path) -> list[np.ndarray]:
    """Every frame of a GIF as RGB uint8."""
    with Image.open(path) as im:
        return [np.asarray(frame.convert("RGB")).copy() for frame in ImageSequence.Iterator(im)]


def to_mp4(
    sources: list[Path],
    out: Path,
    *,
    height: int | None = None,
    fps: int = 0,
    seconds: float = 0.0,
) -> Path:
    """The GIFs one after the other as one H.264 MP4 (a hard cut between two), scaled to
    ``height`` (even width kept), resampled to ``fps`` and cut to ``seconds`` when given."""
    inputs: list[str] = []
    for source in sources:
        inputs += ["-i", str(source)]
    scale = f"scale=-2:{height}" if height else "scale=trunc(iw/2)*2:trunc(ih/2)*2"
    chains = [f"[{i}:v]{scale},setsar=1,format=yuv420p[v{i}]" for i in range(len(sources))]
    joined = "".join(f"[v{i}]" for i in range(len(sources)))
    graph = ";".join(chains) + f";{joined}concat=n={len(sources)}:v=1:a=0[out]"
    rate = ["-r", str(fps)] if fps else []
    if seconds:
        rate += ["-t", f"{seconds:.3f}"]
    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-y", *inputs, "-filter_complex", graph,
         "-map", "[out]", *rate, "-c:v", "libx264", "-pix_fmt", "yuv420p",
         "-movflags", "+faststart", str(out)],
        check=True,
    )  # fmt: skip
    return out
