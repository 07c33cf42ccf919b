"""Image swaps with the real engine: the face changes, the rest barely, the mark is there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from engine_testkit import load_rgb
from PIL import Image

from mio_nb import samples
from mio_nb.sandbox.engine import EngineError, media


def _region(rgb: np.ndarray, box: list[float], grow: float = 0.0) -> np.ndarray:
    x0, y0, x1, y1 = box
    gx, gy = grow * (x1 - x0), grow * (y1 - y0)
    return rgb[max(0, int(y0 - gy)) : int(y1 + gy), max(0, int(x0 - gx)) : int(x1 + gx)]


def _mark_is_there(rgb: np.ndarray) -> None:
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = media.mark_box(width, height)
    patch = rgb[y0:y1, x0:x1]
    box_colour = np.array(media.MARK_BOX)
    ink = np.array(media.MARK_INK)
    assert (np.abs(patch - box_colour).sum(axis=2) < 30).mean() > 0.5  # mostly the dark box
    assert (np.abs(patch - ink).sum(axis=2) < 60).sum() > 20  # and some yellow text


@pytest.mark.parametrize("hd", [False, True])
def test_swap_changes_the_face_and_little_else(
    engine, portraits: dict[str, Path], tmp_path: Path, hd: bool
) -> None:
    main = portraits["astronaut"]
    out = tmp_path / "out.png"
    progress: list[float] = []
    engine.swap(main, portraits["grace"], out, hd=hd, progress=progress.append)
    assert progress[-1] == 1.0
    with Image.open(out) as im:
        assert im.format == "PNG"
        assert im.size == Image.open(main).size
    before, after = load_rgb(main), load_rgb(out)
    (part,) = engine.get_faces(main)
    box = part.record["box"]
    face_change = np.abs(_region(after, box) - _region(before, box)).mean()
    assert face_change > 12, face_change
    # Far from the face (more than a face width away), pixels stay as they were.
    x0, y0, x1, y1 = (int(v) for v in box)
    side = x1 - x0
    far = np.ones(before.shape[:2], dtype=bool)
    far[max(0, y0 - side) : y1 + side, max(0, x0 - side) : x1 + side] = False
    mx0, my0, _, _ = media.mark_box(before.shape[1], before.shape[0])
    far[my0:, mx0:] = False
    assert np.abs(after - before)[far].max() == 0
    _mark_is_there(after)
    # The swapped face is still a face, in the same place.
    (swapped,) = engine.get_faces(out)
    sx0, _sy0, sx1, _sy1 = swapped.record["box"]
    assert abs((sx0 + sx1) / 2 - (x0 + x1) / 2) < side * 0.25


def test_swap_output_keeps_odd_sizes(engine, tmp_path: Path) -> None:
    with Image.open(samples.grace_hopper()) as im:
        odd = im.convert("RGB").crop((3, 5, 3 + 451, 5 + 533))
    main = tmp_path / "odd.jpg"
    odd.save(main, quality=92)
    out = tmp_path / "out.png"
    engine.swap(main, samples.astronaut(), out, hd=False)
    with Image.open(out) as im:
        assert im.size == (451, 533)


def test_several_faces_in_the_new_face_is_603(engine, portraits, tmp_path: Path) -> None:
    with pytest.raises(EngineError) as info:
        engine.swap(portraits["grace"], samples.group_photo(2), tmp_path / "o.png", hd=False)
    assert info.value.code == 603


def test_several_faces_in_an_image_main_is_603(engine, portraits, tmp_path: Path) -> None:
    with pytest.raises(EngineError) as info:
        engine.swap(samples.group_photo(2), portraits["grace"], tmp_path / "o.png", hd=False)
    assert info.value.code == 603


def test_no_face_in_main_or_new_face_is_602(engine, portraits, tmp_path: Path) -> None:
    for main, new in (
        (portraits["coffee"], portraits["grace"]),
        (portraits["grace"], portraits["coffee"]),
    ):
        with pytest.raises(EngineError) as info:
            engine.swap(main, new, tmp_path / "o.png", hd=False)
        assert info.value.code == 602


def test_swap_faces_changes_only_the_paired_face(engine, portraits, tmp_path: Path) -> None:
    main = samples.group_photo(3)
    parts = engine.get_faces(main)
    out = tmp_path / "out.png"
    engine.swap_faces(main, [(parts[1].record, portraits["grace"])], out, hd=False)
    before, after = load_rgb(main), load_rgb(out)
    assert after.shape == before.shape
    changed = [
        np.abs(_region(after, p.record["box"], 0.3) - _region(before, p.record["box"], 0.3)).mean()
        for p in parts
    ]
    assert changed[1] > 5, changed
    assert changed[0] == 0 and changed[2] == 0, changed
    _mark_is_there(after)


def test_swap_faces_several_pairs(engine, portraits, tmp_path: Path) -> None:
    main = samples.group_photo(4)
    parts = engine.get_faces(main)
    out = tmp_path / "out.png"
    pairs = [(parts[0].record, portraits["astronaut"]), (parts[3].record, portraits["grace"])]
    engine.swap_faces(main, pairs, out, hd=True)
    before, after = load_rgb(main), load_rgb(out)
    changed = [
        np.abs(_region(after, p.record["box"]) - _region(before, p.record["box"])).mean()
        for p in parts
    ]
    assert changed[0] > 8 and changed[3] > 8, changed
    assert changed[1] == 0 and changed[2] == 0, changed


def test_swap_faces_without_pairs_is_a_marked_copy(engine, tmp_path: Path) -> None:
    main = samples.group_photo(2)
    out = tmp_path / "out.png"
    engine.swap_faces(main, [], out, hd=False)
    before, after = load_rgb(main), load_rgb(out)
    x0, y0, _, _ = media.mark_box(before.shape[1], before.shape[0])
    after_unmarked = after.copy()
    after_unmarked[y0:, x0:] = before[y0:, x0:]
    assert np.array_equal(after_unmarked, before)
    _mark_is_there(after)


def test_swap_faces_with_a_record_of_another_image_fails(engine, portraits, tmp_path) -> None:
    (part,) = engine.get_faces(portraits["grace"])
    with pytest.raises(EngineError) as info:
        engine.swap_faces(
            samples.group_photo(2),
            [(part.record, portraits["astronaut"])],
            tmp_path / "o.png",
            hd=False,
        )
    assert info.value.code == 601
