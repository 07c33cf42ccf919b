"""Benchmark of the face locator (mio_nb.locate): where each face crop lies in the original.

A 12 MP JPEG (4000x3000, quality 90) with 8 distinct faces (the samples' portrait tiles at
about 700 pixels); the crops are cut the way a service plausibly cuts them: the face's box
plus a 40% margin, resized (to 256 pixels, and as is) and JPEG-encoded. Times ``locate()`` from
the file path (decoding included), checks every face is found within 2 pixels (plus 1% of its
size) and prints the figures.

    .venv/bin/python benchmarks/bench_locate.py

Exits 1 if a target is missed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from mio_nb import samples
from mio_nb.locate import locate

TARGET_S = 0.5
SIZE = (4000, 3000)
SIDE = 700


def build(folder: Path) -> tuple[Path, list[tuple[int, int, int, int]]]:
    canvas = Image.new("RGB", SIZE, (236, 232, 224))
    boxes = []
    for i in range(8):
        row, col = divmod(i, 4)
        x, y = 180 + col * (SIDE + 240) + i * 7, 400 + row * (SIDE + 600) + i * 11
        canvas.paste(samples._face_tile(i).resize((SIDE, SIDE), Image.Resampling.LANCZOS), (x, y))
        third = SIDE / 3
        grow = 0.4 * third
        boxes.append(
            (round(x + third - grow), round(y + third - grow),
             round(x + 2 * third + grow), round(y + 2 * third + grow))
        )  # fmt: skip
    path = folder / "group-12mp.jpg"
    canvas.save(path, "JPEG", quality=90)
    return path, boxes


def crops(original: Path, boxes: list, side: int | None, folder: Path) -> list[Path]:
    out = []
    with Image.open(original) as img:
        img = img.convert("RGB")
        for i, box in enumerate(boxes):
            crop = img.crop(box)
            if side:
                crop = crop.resize((side, side), Image.Resampling.LANCZOS)
            path = folder / f"crop-{side}-{i}.jpg"
            crop.save(path, "JPEG", quality=90)
            out.append(path)
    return out


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        original, boxes = build(folder)
        print(f"photo: {SIZE[0]}x{SIZE[1]} JPEG, {original.stat().st_size / 1e6:.1f} MB, 8 faces")
        for side in (256, None):
            paths = crops(original, boxes, side, folder)
            times, cpu = [], []
            for _ in range(3):
                start, start_cpu = time.perf_counter(), time.process_time()
                found = locate(original, paths)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            worst = 0.0
            for where, box in zip(found, boxes, strict=True):
                if where is None:
                    worst = float("inf")
                    continue
                x, y, w, h = where.box
                err = max(
                    abs(x - box[0]), abs(y - box[1]), abs(x + w - box[2]), abs(y + h - box[3])
                )
                worst = max(worst, err - 0.01 * (box[2] - box[0]))
            median = statistics.median(times)
            label = f"crops {side}px" if side else f"crops as cut ({boxes[0][2] - boxes[0][0]}px)"
            passed = median <= TARGET_S and worst <= 2.0
            ok &= passed
            print(
                f"locate 8 faces, {label}: {median:.3f} s median of 3 (target <= {TARGET_S} s;"
                f" CPU {statistics.median(cpu):.3f} s),"
                f" worst box error beyond 1% of size {worst:.2f} px (target <= 2)"
                f" {'PASS' if passed else 'MISS'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
