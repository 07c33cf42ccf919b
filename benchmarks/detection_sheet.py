"""A frame sheet of the engine's detections on the real-footage development set, to look at.

Run: ``python benchmarks/detection_sheet.py [OUT.png]`` (default: ``detection-sheet.png`` in
the temporary folder; needs the ``sandbox`` extra and ``shared/fixtures/real``). One row per
clip: four frames as stills with each face's box (green: confident, yellow: a weak detection
that passed the false-face check) and its five keypoints, then the crop get-faces shows for
each person of the clip (as an MP4). Prints where the sheet was written.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mio_nb.sandbox.engine import load_engine
from mio_nb.sandbox.engine.detect import STRONG_SCORE

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "engine"))
from real_clips import CLIPS, gif_frames, real_folder, to_mp4

SCALE = 2  # frames are drawn twice their size: the classroom's faces are ~15 px
CROP_SIDE = 120


def framed(engine, frame: np.ndarray) -> Image.Image:  # type: ignore[no-untyped-def]
    image = Image.fromarray(frame).resize(
        (frame.shape[1] * SCALE, frame.shape[0] * SCALE), Image.Resampling.LANCZOS
    )
    draw = ImageDraw.Draw(image)
    for face in engine.detector.find(frame):
        colour = (40, 220, 40) if face.score >= STRONG_SCORE else (250, 220, 0)
        draw.rectangle([v * SCALE for v in face.box], outline=colour, width=2)
        points = face.points if face.points is not None else face.keypoints()
        for x, y in points:
            draw.ellipse(
                [x * SCALE - 2, y * SCALE - 2, x * SCALE + 2, y * SCALE + 2], fill=(255, 0, 0)
            )
    return image


def main() -> int:
    folder = real_folder()
    if folder is None:
        print("shared/fixtures/real is not on this machine: nothing to draw", file=sys.stderr)
        return 1
    out = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(tempfile.gettempdir()) / "detection-sheet.png"
    )
    engine = load_engine("real")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, clip in sorted(CLIPS.items()):
            frames = gif_frames(folder / clip.file)
            picks = np.linspace(0, len(frames) - 1, 4).round().astype(int)
            tiles = [framed(engine, frames[i]) for i in picks]
            parts = engine.get_faces(to_mp4([folder / clip.file], Path(tmp) / f"{name}.mp4"))
            crops = Image.new("RGB", (CROP_SIDE, CROP_SIDE * max(4, len(parts))), "white")
            for k, part in enumerate(parts):
                crop = part.crop.copy()
                crop.thumbnail((CROP_SIDE, CROP_SIDE))
                crops.paste(crop, (0, k * CROP_SIDE))
            height = tiles[0].height
            crops = crops.resize((round(crops.width * height / crops.height), height))
            row = Image.new("RGB", (sum(t.width for t in tiles) + crops.width, height), "white")
            x = 0
            for tile in [*tiles, crops]:
                row.paste(tile, (x, 0))
                x += tile.width
            rows.append(row)
            print(f"{name}: {len(parts)} people found (expected {clip.people})")
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    y = 0
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height
    sheet.save(out)
    print(f"sheet written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
