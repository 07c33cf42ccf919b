"""Speed of the sandbox's real face engine on this machine.

Run: ``python benchmarks/bench_engine.py`` (needs ``pip install "mio-nb[sandbox]"``).
Prints one row per measure with its target and PASS/MISS. Inputs come from ``mio_nb.samples``
(public-domain portraits, nothing downloaded); each measure is the median of a few runs.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from mio_nb import samples
from mio_nb.sandbox.engine import load_engine


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_megapixel_photo(folder: Path) -> Path:
    """Grace Hopper scaled up to about 1 megapixel (924 x 1083), as a JPEG."""
    with Image.open(samples.grace_hopper()) as im:
        big = im.convert("RGB").resize((924, 1083), Image.Resampling.BICUBIC)
    path = folder / "photo-1mp.jpg"
    big.save(path, quality=92)
    return path


def video_frames(path: Path) -> int:
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    next(gen)
    return sum(1 for _ in gen)


def _target(name: str, unit: str) -> str:
    if unit == "fps":
        return ">= 8 fps"
    if "swap" in name:
        return "<= 1.5 s"
    return "<= 3.0 s" if "video" in name else "<= 1.0 s"


def main() -> int:
    engine = load_engine("real")
    rows: list[tuple[str, float, str, bool]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo = one_megapixel_photo(folder)
        new_face = samples.astronaut()
        engine.get_faces(samples.grace_hopper())  # load the models first

        for name, path in (
            ("get faces: portrait 512x600 (1 face)", samples.grace_hopper()),
            ("get faces: group 896x608 (6 faces)", samples.group_photo(6)),
            ("get faces: photo 924x1083 (1 MP)", photo),
        ):
            seconds = median_seconds(lambda p=path: engine.get_faces(p), 3)
            rows.append((name, seconds, "s", seconds <= 1.0))

        for hd in (False, True):
            out = folder / "swap.png"
            seconds = median_seconds(
                lambda hd=hd, out=out: engine.swap(photo, new_face, out, hd=hd), 3
            )
            label = "image swap: 1 MP photo" + (" (hd)" if hd else "")
            rows.append((label, seconds, "s", seconds <= 1.5))

        video = samples.sample_video(faces=1, seconds=2.0, height=480)
        frames = video_frames(video)
        out = folder / "swap.mp4"
        seconds = median_seconds(lambda: engine.swap(video, new_face, out, hd=False), 2)
        rows.append(
            (f"video swap: 480p, {frames} frames", frames / seconds, "fps", frames / seconds >= 8)
        )

        pair_video = samples.sample_video(faces=2, seconds=2.0, height=480)
        seconds = median_seconds(lambda: engine.get_faces(pair_video), 2)
        rows.append(("get faces: 480p video, 2 people", seconds, "s", seconds <= 3.0))
        parts = engine.get_faces(pair_video)
        pairs = [(parts[0].record, new_face), (parts[1].record, samples.grace_hopper())]
        frames = video_frames(pair_video)
        seconds = median_seconds(lambda: engine.swap_faces(pair_video, pairs, out, hd=False), 2)
        rows.append(
            ("video swap_faces: 480p, 2 people", frames / seconds, "fps", frames / seconds >= 8)
        )

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>10}  {'target':>9}  result")
    print("-" * (width + 32))
    for name, value, unit, ok in rows:
        target = _target(name, unit)
        verdict = "PASS" if ok else "MISS"
        print(f"{name:<{width}}  {value:>7.2f} {unit:<3}  {target:>9}  {verdict}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
