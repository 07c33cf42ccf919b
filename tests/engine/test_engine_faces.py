"""Face detection on real photos: counts, order, keypoints, records, errors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from PIL import Image

from mio_nb import samples
from mio_nb.sandbox.engine import EngineError, FacePart


def _center(part: FacePart) -> tuple[float, float]:
    x0, y0, x1, y1 = part.record["box"]
    return (x0 + x1) / 2, (y0 + y1) / 2


@pytest.mark.parametrize("count", [1, 3, 4, 6])
def test_group_photo_face_count_and_order(engine, count: int) -> None:
    parts = engine.get_faces(samples.group_photo(count))
    assert len(parts) == count
    centers = [_center(p) for p in parts]
    # Reading order: rows top to bottom, left to right within a row (the photo's tile order).
    for (ax, ay), (bx, by) in itertools.pairwise(centers):
        assert ay < by - 50 or (abs(ay - by) <= 50 and ax < bx)
    # Numbering is stable: the same image gives the same boxes in the same order.
    again = engine.get_faces(samples.group_photo(count))
    assert [p.record["box"] for p in again] == [p.record["box"] for p in parts]


@pytest.mark.parametrize("which", ["grace", "astronaut"])
def test_keypoints_are_sane(engine, portraits: dict[str, Path], which: str) -> None:
    (part,) = engine.get_faces(portraits[which])
    kps = part.kps
    assert sorted(kps) == ["1", "2", "3", "4", "5"]
    width, height = part.crop.size
    for point in kps.values():
        assert set(point) == {"x", "y"}
        assert all(isinstance(v, int) for v in point.values())
        assert 0 <= point["x"] < width and 0 <= point["y"] < height
    assert kps["1"]["x"] < kps["2"]["x"]  # left eye left of right eye
    assert kps["4"]["x"] < kps["5"]["x"]  # left mouth corner left of the right one
    eyes_y = (kps["1"]["y"] + kps["2"]["y"]) / 2
    mouth_y = (kps["4"]["y"] + kps["5"]["y"]) / 2
    assert eyes_y < kps["3"]["y"] < mouth_y  # nose between eyes and mouth
    assert kps["1"]["x"] < kps["3"]["x"] < kps["2"]["x"]
    # The crop has a margin: the eyes are well inside it.
    eye_gap = kps["2"]["x"] - kps["1"]["x"]
    assert kps["1"]["x"] > eye_gap / 2 and width - kps["2"]["x"] > eye_gap / 2


def test_crop_comes_from_the_photo_with_margin(engine, portraits: dict[str, Path]) -> None:
    """A big face's crop is the box plus a 40% margin, scaled down to CROP_MAX_SIDE on its
    long side (as a face service's thumbnails are); its keypoints are in the crop's pixels."""
    import numpy as np

    from mio_nb.sandbox.engine.real import CROP_MAX_SIDE

    (part,) = engine.get_faces(portraits["grace"])
    x0, y0, x1, y1 = part.record["box"]
    side = x1 - x0
    assert part.crop.mode == "RGB"
    assert max(part.crop.size) == CROP_MAX_SIDE < side * 1.8
    # The crop is a piece of the original, scaled: compare with the piece at the box minus
    # the margin, scaled the same way.
    with Image.open(portraits["grace"]) as im:
        original = im.convert("RGB")
    left, top = int(x0 - 0.4 * side), int(y0 - 0.4 * (y1 - y0))
    right, bottom = int(np.ceil(x1 + 0.4 * side)), int(np.ceil(y1 + 0.4 * (y1 - y0)))
    piece = original.crop((left, top, right, bottom)).resize(part.crop.size)
    difference = np.abs(np.asarray(piece, float) - np.asarray(part.crop, float)).mean()
    assert difference < 3, difference
    # Keypoints in crop pixels: the left eye keypoint is where the landmarks' eye is.
    eye = np.array(part.record["landmarks"][36:42]).mean(axis=0)
    scale = part.crop.width / (right - left)
    assert abs(part.kps["1"]["x"] - (eye[0] - left) * scale) <= 1.5
    assert abs(part.kps["1"]["y"] - (eye[1] - top) * scale) <= 1.5


def test_record_is_json_with_landmarks(engine) -> None:
    parts = engine.get_faces(samples.group_photo(2))
    for part in parts:
        record = json.loads(json.dumps(part.record))
        assert record["kind"] == "image"
        assert len(record["landmarks"]) == 68
        x0, _y0, x1, _y1 = record["box"]
        xs = [p[0] for p in record["landmarks"]]
        assert x0 - 20 < min(xs) and max(xs) < x1 + 20  # landmarks in original pixels


def test_no_face_is_602(engine, portraits: dict[str, Path]) -> None:
    with pytest.raises(EngineError) as info:
        engine.get_faces(portraits["coffee"])
    assert info.value.code == 602


def test_unreadable_image_is_701(engine, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 200)
    with pytest.raises(EngineError) as info:
        engine.get_faces(broken)
    assert info.value.code == 701


def test_big_photo_is_detected_on_a_smaller_copy(engine, tmp_path: Path) -> None:
    """A 2400-pixel-wide photo: detection runs downscaled, results come back in full pixels."""
    with Image.open(samples.group_photo(3)) as im:
        big = im.resize((im.width * 8 // 3, im.height * 8 // 3), Image.Resampling.BICUBIC)
    path = tmp_path / "big.png"
    big.save(path)
    small_parts = engine.get_faces(samples.group_photo(3))
    parts = engine.get_faces(path)
    assert len(parts) == 3
    for part, small in zip(parts, small_parts, strict=True):
        sx = _center(small)[0] * 8 / 3
        assert abs(_center(part)[0] - sx) < 15
