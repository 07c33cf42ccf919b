"""Stills: natural mouths, the photo's sharpness, occluders left alone, rotated photos, weak
faces, and new faces too small to use."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from engine_scenes import looking_down_photo, occluded_photo, rotated_photo, small_face_photo
from engine_testkit import load_rgb

from mio_nb import samples
from mio_nb.sandbox.engine import EngineError
from mio_nb.sandbox.engine.detect import get_detector, mouth_opening
from mio_nb.sandbox.engine.swap import MIN_NEW_FACE, OPEN_MOUTH, laplacian_variance


def _polygon_mask(shape: tuple[int, ...], points: np.ndarray, erode: int = 0) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255)
    if erode:
        mask = cv2.erode(mask, np.ones((erode, erode), np.uint8))
    return mask > 0


def _landmarks(rgb: np.ndarray) -> np.ndarray:
    (face,) = get_detector().find(rgb.astype(np.uint8))
    return face.landmarks


def test_portraits_differ_in_mouth_opening() -> None:
    """The material: the astronaut smiles with teeth, Grace Hopper's mouth is closed (the
    astronaut measures 0.14-0.16 of her eye distance, by the JPEG or PNG copy: well above the
    0.08 that counts as open)."""
    assert mouth_opening(_landmarks(load_rgb(samples.astronaut()))) > 1.5 * OPEN_MOUTH
    assert mouth_opening(_landmarks(load_rgb(samples.grace_hopper()))) < OPEN_MOUTH / 2


def test_open_mouth_of_the_photo_keeps_its_teeth(engine, tmp_path: Path) -> None:
    """A closed-mouth new face on an open-mouth photo: the photo's inner mouth (teeth) is not
    warped over, the rest of the face is replaced."""
    main = samples.astronaut()
    out = tmp_path / "out.png"
    engine.swap(main, samples.grace_hopper(), out, hd=False)
    before, after = load_rgb(main), load_rgb(out)
    points = _landmarks(before)
    inner = _polygon_mask(before.shape, points[60:68], erode=3)
    mouth_change = np.abs(after - before)[inner].mean()
    assert mouth_change < 4, mouth_change
    x0, y0 = points.min(axis=0).astype(int)
    x1, y1 = points.max(axis=0).astype(int)
    assert np.abs(after - before)[y0:y1, x0:x1].mean() > 10


def test_smile_of_the_new_face_is_not_squashed(engine, tmp_path: Path) -> None:
    """An open-mouth new face on a closed-mouth photo: the result's mouth is open about as
    wide as the new face's (relative to the eyes) and shows teeth, not a slit."""
    main = samples.grace_hopper()
    out = tmp_path / "out.png"
    engine.swap(main, samples.astronaut(), out, hd=False)
    after = load_rgb(out)
    new_opening = mouth_opening(_landmarks(load_rgb(samples.astronaut())))
    points = _landmarks(after)
    assert mouth_opening(points) > 0.6 * new_opening, (mouth_opening(points), new_opening)
    # The mouth is the new face's own, moved and scaled, not warped: its grey picture
    # correlates with the new face's mouth aligned by a similarity transform (eyes, nose,
    # mouth corners). Stretched closed lips over it give about 0.
    similarity = _mouth_similarity(after, load_rgb(samples.astronaut()))
    assert similarity > 0.5, similarity


def _mouth_similarity(result: np.ndarray, new: np.ndarray) -> float:
    """Normalised correlation of the result's mouth with the new face's mouth, aligned."""
    result_points, new_points = _landmarks(result), _landmarks(new)
    anchors = [31, 32, 33, 34, 35, 48, 54, 36, 45]
    matrix, _ = cv2.estimateAffinePartial2D(new_points[anchors], result_points[anchors])
    height, width = result.shape[:2]
    grey_new = cv2.cvtColor(new.astype(np.uint8), cv2.COLOR_RGB2GRAY)
    aligned = cv2.warpAffine(grey_new, matrix, (width, height)).astype(np.float64)
    grey = cv2.cvtColor(result.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float64)
    mouth = cv2.transform(new_points[48:60][None], matrix)[0]
    x0, y0 = mouth.min(axis=0).astype(int)
    x1, y1 = mouth.max(axis=0).astype(int)
    a, b = grey[y0:y1, x0:x1], aligned[y0:y1, x0:x1]
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


@pytest.mark.parametrize(
    ("main", "new"), [("astronaut", "grace"), ("grace", "astronaut")], ids=["a<-g", "g<-a"]
)
@pytest.mark.parametrize("hd", [False, True], ids=["fast", "hd"])
def test_swapped_face_has_the_photos_sharpness(engine, tmp_path: Path, main, new, hd) -> None:
    """The Laplacian variance of the swapped face is within 0.5x-2x of the photo's own face
    (measured over the cheeks, nose and mouth: inside the face, away from its outline)."""
    main_path, new_path = samples.new_face(main), samples.new_face(new)
    out = tmp_path / "out.png"
    engine.swap(main_path, new_path, out, hd=hd)
    before, after = load_rgb(main_path), load_rgb(out)
    points = _landmarks(before)
    inside = _polygon_mask(before.shape, points[[1, 2, 3, 5, 8, 11, 13, 14, 15, 35, 31]], 9)
    ratio = laplacian_variance(after.astype(np.float32), inside.astype(np.uint8)) / (
        laplacian_variance(before.astype(np.float32), inside.astype(np.uint8))
    )
    assert 0.5 <= ratio <= 2.0, ratio


@pytest.mark.parametrize("turns", [0, 1], ids=["upright", "rotated"])
def test_occluder_over_the_chin_is_left_untouched(engine, tmp_path: Path, turns: int) -> None:
    main, microphone = occluded_photo(tmp_path)
    if turns:
        from PIL import Image

        turned = np.rot90(load_rgb(main).astype(np.uint8), turns)
        main = tmp_path / "turned.png"
        Image.fromarray(np.ascontiguousarray(turned)).save(main)
        microphone = np.rot90(microphone, turns)
    out = tmp_path / "out.png"
    engine.swap(main, samples.astronaut(), out, hd=False)
    before, after = load_rgb(main), load_rgb(out)
    points = _landmarks(before)
    face = _polygon_mask(before.shape, cv2.convexHull(points[:27]).reshape(-1, 2))
    covered = microphone & face
    assert covered.sum() > 500  # the microphone is in front of the face
    assert np.abs(after - before)[covered].mean() < 3, np.abs(after - before)[covered].mean()
    assert np.abs(after - before)[face & ~microphone].mean() > 10


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_rotated_photo_is_found_and_swapped(engine, tmp_path: Path, turns: int) -> None:
    main = rotated_photo(tmp_path, turns)
    (part,) = engine.get_faces(main)
    kps = part.kps  # in the upright crop
    assert kps["1"]["x"] < kps["2"]["x"]
    assert max(kps["1"]["y"], kps["2"]["y"]) < kps["3"]["y"] < min(kps["4"]["y"], kps["5"]["y"])
    # The box is where the face is in the rotated photo.
    upright = get_detector().find(load_rgb(samples.grace_hopper()).astype(np.uint8))[0]
    expected = np.rot90(np.zeros((600, 512)), turns).shape
    x0, y0, x1, y1 = part.record["box"]
    assert (
        abs((x1 - x0) - upright.width) < 0.1 * upright.width
        or abs((y1 - y0) - upright.width) < 0.1 * upright.width
    )
    assert 0 <= x0 < x1 <= expected[1] and 0 <= y0 < y1 <= expected[0]
    out = tmp_path / "out.png"
    engine.swap(main, samples.astronaut(), out, hd=False)
    before, after = load_rgb(main), load_rgb(out)
    box = tuple(int(v) for v in part.record["box"])
    region = np.s_[box[1] : box[3], box[0] : box[2]]
    assert np.abs(after - before)[region].mean() > 10


def test_weak_face_that_passes_the_check_is_kept(engine, tmp_path: Path) -> None:
    path = looking_down_photo(tmp_path)
    (part,) = engine.get_faces(path)
    x0, y0, x1, y1 = part.record["box"]
    assert 80 < x1 - x0 < 140 and 80 < (x0 + x1) / 2 < 220 and 80 < (y0 + y1) / 2 < 220


def test_no_false_face_on_a_textured_photo(engine) -> None:
    with pytest.raises(EngineError) as info:
        engine.get_faces(samples.no_face())
    assert info.value.code == 602


def test_too_small_new_face_is_refused_with_its_size(engine, tmp_path: Path) -> None:
    small = small_face_photo(tmp_path, 44)
    with pytest.raises(EngineError) as info:
        engine.swap(samples.grace_hopper(), small, tmp_path / "o.png", hd=False)
    message = info.value.message
    assert info.value.code == 601
    assert "too small" in message and f"at least {MIN_NEW_FACE} px" in message
    assert any(f"{n} px wide" in message for n in range(38, 52)), message
    # Big enough: accepted.
    engine.swap(
        samples.grace_hopper(), small_face_photo(tmp_path, 80), tmp_path / "o.png", hd=False
    )
