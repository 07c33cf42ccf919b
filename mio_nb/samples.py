"""Sample media for demos and tests, built from public-domain portraits that ship inside packages.

Nothing is downloaded: Grace Hopper comes with matplotlib, the astronaut (Eileen Collins, a NASA
photo, public domain, as in scikit-image's sample data) ships with mio-nb (``mio_nb/data/``).
Group photos, the picture with no face and videos are composed from them, so the number of faces
in each is known. Files are cached on disk
(``MIO_NB_SAMPLES_DIR``, default ``~/.cache/mio-nb/samples``) and written atomically.

>>> from mio_nb import samples
>>> samples.group_photo(faces=3)  # doctest: +SKIP
PosixPath('.../group-3-v2.png')
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from PIL import Image, ImageOps

__all__ = [
    "astronaut",
    "grace_hopper",
    "group_photo",
    "new_face",
    "no_face",
    "sample_video",
    "samples_dir",
]

_VERSION = "v2"  # v2: the astronaut from mio_nb/data, no scikit-image
#: The face boxes of the portraits (x0, y0, x1, y1), as dlib's frontal detector finds them.
_FACE_BOX = {"grace": (180, 139, 366, 325), "astronaut": (175, 76, 265, 166)}
_TILE = 256


def samples_dir() -> Path:
    """The folder where sample files are cached."""
    default = Path.home() / ".cache" / "mio-nb" / "samples"
    folder = Path(os.environ.get("MIO_NB_SAMPLES_DIR", default))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _cached(name: str, write: Callable[[Path], None]) -> Path:
    """``samples_dir()/name``, written by ``write(tmp_path)`` once, atomically."""
    target = samples_dir() / name
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=target.suffix)
        os.close(fd)
        try:
            write(Path(tmp))
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target


#: The pictures shipped with the package.
DATA_DIR = Path(__file__).parent / "data"


def grace_hopper() -> Path:
    """A JPEG portrait of Grace Hopper (512x600, one face), from matplotlib's sample data."""
    import importlib.util

    # Found where matplotlib keeps it, without importing matplotlib (0.2 s in a fresh kernel).
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(spec.submodule_search_locations[0], "mpl-data", "sample_data")
        path = folder / "grace_hopper.jpg"
        if path.is_file():
            return path
    from matplotlib import cbook

    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def astronaut() -> Path:
    """A PNG portrait of astronaut Eileen Collins (512x512, one face; NASA, public domain)."""

    def write(path: Path) -> None:
        with Image.open(DATA_DIR / "astronaut.jpg") as img:
            img.convert("RGB").save(path, "PNG")

    return _cached(f"astronaut-{_VERSION}.png", write)


def no_face() -> Path:
    """A PNG photo with no face in it: Grace Hopper's uniform and medals, below her face."""

    def write(path: Path) -> None:
        with Image.open(grace_hopper()) as img:
            below = img.convert("RGB").crop((0, 360, 512, 600))
        below.resize((768, 360), Image.Resampling.LANCZOS).save(path, "PNG")

    return _cached(f"no-face-{_VERSION}.png", write)


def new_face(which: Literal["grace", "astronaut"] = "grace") -> Path:
    """A portrait to use as the new face."""
    return grace_hopper() if which == "grace" else astronaut()


def _portrait(which: str) -> Image.Image:
    path = grace_hopper() if which == "grace" else astronaut()
    with Image.open(path) as im:
        return im.convert("RGB")


def _face_tile(index: int) -> Image.Image:
    """A square tile around one face: portraits alternate, every other pair mirrored and tinted,
    so that no two tiles of a group photo are identical."""
    which = ("grace", "astronaut")[index % 2]
    x0, y0, x1, y1 = _FACE_BOX[which]
    side = x1 - x0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = side * 1.5
    tile = _portrait(which).crop((cx - half, cy - half, cx + half, cy + half))
    tile = tile.resize((_TILE, _TILE), Image.Resampling.LANCZOS)
    if (index // 2) % 2 == 1:
        tile = ImageOps.mirror(tile)
    if index >= 4:
        tile = Image.blend(tile, Image.new("RGB", tile.size, (190, 160, 130)), 0.15)
    return tile


def group_photo(faces: int = 3) -> Path:
    """A PNG group photo with exactly ``faces`` faces (1 to 6), tiles on a plain background."""
    if not 1 <= faces <= 6:
        raise ValueError("group_photo makes 1 to 6 faces")

    def write(path: Path) -> None:
        columns = min(faces, 3)
        rows = (faces + columns - 1) // columns
        gap = 32
        canvas = Image.new(
            "RGB",
            (columns * (_TILE + gap) + gap, rows * (_TILE + gap) + gap),
            (236, 232, 224),
        )
        for i in range(faces):
            row, col = divmod(i, columns)
            canvas.paste(_face_tile(i), (gap + col * (_TILE + gap), gap + row * (_TILE + gap)))
        canvas.save(path, "PNG")

    return _cached(f"group-{faces}-{_VERSION}.png", write)


def _video_frames(faces: int, frame_count: int, size: tuple[int, int]) -> Iterator[bytes]:
    """RGB frames of a slow pan and zoom over ``faces`` face tiles (one person each)."""
    width, height = size
    tiles = [_face_tile(i) for i in range(faces)]
    for n in range(frame_count):
        t = n / max(frame_count - 1, 1)
        frame = Image.new("RGB", size, (40, 44, 52))
        scale = 1.0 + 0.15 * t
        tile_side = int(min(height * 0.8, width / (faces + 0.5)) * scale) // 2 * 2
        slot = width / faces
        for i, tile in enumerate(tiles):
            shown = tile.resize((tile_side, tile_side), Image.Resampling.BILINEAR)
            x = int(slot * i + (slot - tile_side) / 2 + (t - 0.5) * 0.1 * slot)
            y = int((height - tile_side) / 2)
            frame.paste(shown, (x, y))
        yield frame.tobytes()


def sample_video(
    faces: int = 1,
    seconds: float = 2.0,
    height: int = 480,
    audio: bool = True,
    fps: int = 24,
) -> Path:
    """An H.264 MP4 (yuv420p, faststart) with ``faces`` distinct people (1 or 2) in a slow pan
    and zoom, and an AAC sine tone as its sound track when ``audio`` is true."""
    if faces not in (1, 2):
        raise ValueError("sample_video makes videos with 1 or 2 people")
    import imageio_ffmpeg

    # Sizes are multiples of 16 so that the encoder does not resize.
    height = max(16, height // 16 * 16)
    width = (height * 16 // 9) // 16 * 16
    frame_count = max(1, round(seconds * fps))

    def write(path: Path) -> None:
        audio_path = None
        with tempfile.TemporaryDirectory() as tmp:
            if audio:
                audio_path = str(Path(tmp) / "tone.m4a")
                subprocess.run(
                    [
                        imageio_ffmpeg.get_ffmpeg_exe(),
                        "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                        "-c:a", "aac", "-b:a", "64k", audio_path,
                    ],
                    check=True,
                )  # fmt: skip
            writer = imageio_ffmpeg.write_frames(
                str(path),
                (width, height),
                fps=fps,
                codec="libx264",
                pix_fmt_out="yuv420p",
                macro_block_size=16,
                output_params=["-movflags", "+faststart", "-f", "mp4"],
                audio_path=audio_path,
                audio_codec="aac" if audio else None,
            )
            writer.send(None)
            for frame in _video_frames(faces, frame_count, (width, height)):
                writer.send(frame)
            writer.close()

    name = f"video-{faces}p-{seconds:g}s-{height}-{'a' if audio else 'n'}-{fps}-{_VERSION}.mp4"
    return _cached(name, write)


def export(folder: str | os.PathLike[str]) -> list[Path]:
    """Copy sample files to try the command line on into ``folder``: ``group.png`` (three
    faces), ``grace.jpg`` and ``astronaut.png`` (one face each). Returns their paths."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    files = {"group.png": group_photo(faces=3), "grace.jpg": grace_hopper(),
             "astronaut.png": astronaut()}  # fmt: skip
    out = []
    for name, src in files.items():
        shutil.copyfile(src, target / name)
        out.append(target / name)
    return out


if __name__ == "__main__":  # python -m mio_nb.samples DIR
    import sys

    for path in export(sys.argv[1] if len(sys.argv) > 1 else "mio-nb-samples"):
        print(path)
