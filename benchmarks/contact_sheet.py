"""A contact sheet of real swaps, to look at: original | new face | result, one row per pair.

Run: ``python benchmarks/contact_sheet.py [OUT.png] [--hd] [--video]`` (needs the ``sandbox``
extra and the real development clips in ``../shared/fixtures/real``, read in place). The sheet
shows people of those clips: it is written outside the repository (default
``/tmp/mio-nb-contact-sheet.png``) and must never be committed.

Each row: the original photo, the new face, the engine's result (as the sandbox returns it,
mark included), and under them the pair and its identity share (dlib embedding, see
``tests/engine/real_pairs.py``: 0 = still the original person, 1 = the new person).
``--video``: more rows, for the real clips swapped as videos (each person of the clip paired
with a new face): frames before | after, every few frames.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "engine"))
import real_pairs

from mio_nb.sandbox.engine import EngineError, load_engine

#: Each picture of the sheet is scaled to this size (square crops of the photos).
CELL = 256
LABEL = 22


def _cell(rgb: np.ndarray, box: tuple[float, ...] | None = None) -> Image.Image:
    """A square around the face ``box`` (twice its size), or the middle of the picture."""
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8))
    if box is None:
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
    else:
        side = min(min(image.size), round(2.0 * max(box[2] - box[0], box[3] - box[1])))
        left = int(np.clip((box[0] + box[2] - side) / 2, 0, image.width - side))
        top = int(np.clip((box[1] + box[3] - side) / 2, 0, image.height - side))
    return image.crop((left, top, left + side, top + side)).resize(
        (CELL, CELL), Image.Resampling.LANCZOS
    )


def _row(
    pictures: list[np.ndarray],
    caption: str,
    boxes: list[tuple[float, ...] | None] | None = None,
) -> Image.Image:
    row = Image.new("RGB", (CELL * len(pictures), CELL + LABEL), "white")
    for i, rgb in enumerate(pictures):
        row.paste(_cell(rgb, boxes[i] if boxes else None), (i * CELL, 0))
    ImageDraw.Draw(row).text((6, CELL + 5), caption, fill=(0, 0, 0))
    return row


def _video_rows(engine, folder: Path, hd: bool) -> list[Image.Image]:  # type: ignore[no-untyped-def]
    """Each real clip as an MP4, every person found paired with a new face: before | after
    frames (three frames per row, before above after)."""
    import imageio_ffmpeg

    rows = []
    new_faces = [real_pairs.save_photo(n, folder) for n in ("grace", "astronaut", "walking-right")]
    for clip in (real_pairs.HEAD_POSE, real_pairs.WALKING, "classroom.gif"):
        video = folder / (Path(clip).stem + ".mp4")
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y",
             "-i", str(real_pairs.REAL_FOLDER / clip), "-movflags", "+faststart",
             "-pix_fmt", "yuv420p", "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", str(video)],
            check=True,
        )  # fmt: skip
        try:
            parts = engine.get_faces(video)
        except EngineError as exc:
            rows.append(_row([np.full((64, 64, 3), 255, np.uint8)], f"{clip}: {exc.message}"))
            continue
        pairs = [(part.record, new_faces[i % len(new_faces)]) for i, part in enumerate(parts)]
        out = folder / (Path(clip).stem + "-swapped.mp4")
        engine.swap_faces(video, pairs, out, hd=hd)
        before, after = _frames(video), _frames(out)
        picks = np.linspace(0, min(len(before), len(after)) - 1, 6).astype(int)
        for start in (0, 3):
            chosen = picks[start : start + 3]
            pictures = [np.vstack([before[i], after[i]]) for i in chosen]
            strip = Image.new("RGB", (480 * 3, 540 + LABEL), "white")
            for k, rgb in enumerate(pictures):
                strip.paste(Image.fromarray(rgb).resize((480, 540)), (k * 480, 0))
            caption = (
                f"{clip}: {len(parts)} people found; frames {chosen.tolist()}, before above after"
            )
            ImageDraw.Draw(strip).text((6, 545), caption, fill=(0, 0, 0))
            rows.append(strip.resize((CELL * 3, round((540 + LABEL) * CELL * 3 / 1440))))
    return rows


def _frames(path: Path) -> list[np.ndarray]:
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default="/tmp/mio-nb-contact-sheet.png", type=Path)
    parser.add_argument("--hd", action="store_true", help="swap in the hd mode")
    parser.add_argument("--video", action="store_true", help="add the real clips as videos")
    args = parser.parse_args()
    missing = real_pairs.real_clips_missing()
    if missing:
        print(f"cannot run: {missing}", file=sys.stderr)
        return 2
    repository = Path(__file__).resolve().parents[1]
    if args.out.resolve().is_relative_to(repository):
        print("the sheet shows real people: write it outside the repository", file=sys.stderr)
        return 2
    engine = load_engine("real")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for original, new in real_pairs.PAIRS:
            result = real_pairs.swap_pair(engine, original, new, folder, hd=args.hd)
            caption = f"{original}  <-  {new}:  identity share {result.share:.2f}"
            pictures = [result.original_rgb, result.new_rgb, result.result_rgb]
            place, new_place = real_pairs.face_box(original), real_pairs.face_box(new)
            rows.append(_row(pictures, caption, [place, new_place, place]))
        if args.video:
            rows.extend(_video_rows(engine, folder, args.hd))
    columns = 2
    width = max(r.width for r in rows)
    height = max(r.height for r in rows)
    lines = (len(rows) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * width + (columns - 1) * 12, lines * (height + 8)), "white")
    for i, row in enumerate(rows):
        sheet.paste(row, ((i % columns) * (width + 12), (i // columns) * (height + 8)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"wrote {args.out} ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
