"""How the new face is put on: the forehead is replaced too, the photo's fringe stays in
front, a new face turned the other way is mirrored first, the new face's proportions come
along without the warp folding over itself."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import real_pairs
from engine_testkit import load_rgb
from PIL import Image

from mio_nb import samples
from mio_nb.sandbox.engine.detect import get_detector
from mio_nb.sandbox.engine.swap import (
    FOREHEAD,
    prepare_source,
    swap_face,
    with_forehead,
    yaw,
)

real_clips = pytest.mark.skipif(
    real_pairs.real_clips_missing() is not None, reason=str(real_pairs.real_clips_missing())
)


def _landmarks(rgb: np.ndarray) -> np.ndarray:
    faces = get_detector().find(np.ascontiguousarray(rgb, dtype=np.uint8))
    return max(faces, key=lambda f: f.area).landmarks


def _band(shape: tuple[int, ...], points: np.ndarray, low: float, high: float) -> np.ndarray:
    """The band above the brows from ``low`` to ``high`` times the forehead's height."""
    lifted = with_forehead(points)
    brows = points[17:27]
    up = lifted[68:] - brows
    polygon = np.vstack([brows + up * low, (brows + up * high)[::-1]])
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 255)
    return mask > 0


def test_the_forehead_is_the_new_faces_too(engine, tmp_path: Path) -> None:
    """Above the brows (where v2 stopped), the photo's forehead and brow ridge are replaced."""
    main = samples.grace_hopper()
    out = tmp_path / "out.png"
    engine.swap(main, samples.astronaut(), out, hd=False)
    before, after = load_rgb(main), load_rgb(out)
    band = _band(before.shape, _landmarks(before.astype(np.uint8)), 0.2, 0.7)
    assert band.sum() > 300
    assert np.abs(after - before)[band].mean() > 6, np.abs(after - before)[band].mean()


@pytest.mark.parametrize(
    "colour", [(52, 36, 28), (95, 62, 40), (30, 30, 34)], ids=["dark-brown", "brown", "black"]
)
def test_the_photos_fringe_stays_in_front(engine, tmp_path: Path, colour) -> None:
    """Hair over the photo's forehead (a painted fringe, dark or blond) is not covered by the
    new face's forehead; the face below it is replaced."""
    rgb = load_rgb(samples.grace_hopper()).astype(np.uint8)
    points = _landmarks(rgb)
    fringe = _band(rgb.shape, points, 0.35, 1.6)
    rgb[fringe] = colour
    noise = np.random.default_rng(3).normal(0, 6, rgb.shape)
    rgb = np.clip(rgb + noise * fringe[..., None], 0, 255).astype(np.uint8)
    main = tmp_path / "fringe.png"
    Image.fromarray(rgb).save(main)
    out = tmp_path / "out.png"
    engine.swap(main, samples.astronaut(), out, hd=False)
    before, after = load_rgb(main), load_rgb(out)
    inside = fringe & _band(rgb.shape, points, 0.45, 1.0)
    cheeks = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillConvexPoly(cheeks, np.round(points[[1, 3, 31, 35, 13, 15, 42, 39]]).astype(np.int32), 1)
    fringe_change = np.abs(after - before)[inside].mean()
    face_change = np.abs(after - before)[cheeks > 0].mean()
    # The fringe keeps its colour (a brown one loses a little at its lower edge, where it is
    # feathered into the new face), the face under it is the new one.
    assert fringe_change < 15 and fringe_change < 0.5 * face_change, (fringe_change, face_change)
    assert face_change > 8


def test_forehead_reaches_above_the_brows() -> None:
    points = _landmarks(load_rgb(samples.grace_hopper()).astype(np.uint8))
    lifted = with_forehead(points)[68:]
    eyes = np.linalg.norm(points[36:42].mean(axis=0) - points[42:48].mean(axis=0))
    rise = (points[17:27, 1] - lifted[:, 1]).mean()  # an upright face: up is -y
    assert rise == pytest.approx(FOREHEAD * eyes, rel=0.15)


@real_clips
def test_a_new_face_turned_the_other_way_is_mirrored(tmp_path: Path) -> None:
    """A face turned to one side, as the new face for the same person turned to the other
    side (the picture mirrored): the new face is mirrored back, so the swap gives the person
    as they were (close to the original by the embedding), not a face folded inside out."""
    photo = real_pairs.photo("turning-left")
    mirrored = np.ascontiguousarray(photo[:, ::-1])
    own, flipped = _landmarks(photo), _landmarks(mirrored)
    assert abs(yaw(own)) > 0.15
    assert yaw(flipped) * yaw(own) < 0 and abs(yaw(flipped)) > 0.15
    source = prepare_source(mirrored, flipped)
    assert source.facing(own) is source.mirrored()
    assert source.mirrored().facing(own) is source.mirrored()
    frontal = _landmarks(load_rgb(samples.grace_hopper()).astype(np.uint8))
    assert abs(yaw(frontal)) < 0.12 and source.facing(frontal) is source
    result = photo.copy()
    swap_face(result, own, source)
    original = real_pairs.embedding(photo)
    swapped = real_pairs.embedding(result, near=real_pairs.face_box("turning-left"))
    assert np.linalg.norm(swapped - original) < 0.45


def _inner_shape_distance(points: np.ndarray, reference: np.ndarray) -> float:
    """How far the brows, eyes, nose and mouth of ``points`` are from those of ``reference``
    once the whole face is mapped onto it (affine: pose and size left out), in eye distances."""
    matrix, _ = cv2.estimateAffine2D(points, reference, method=cv2.LMEDS)
    mapped = points @ matrix[:, :2].T + matrix[:, 2]
    eyes = np.linalg.norm(reference[36:42].mean(axis=0) - reference[42:48].mean(axis=0))
    return float(np.linalg.norm(mapped[17:68] - reference[17:68], axis=1).mean() / eyes)


@real_clips
def test_the_result_has_the_new_faces_proportions(swapped_pairs) -> None:
    """Where the eyes, brows, nose and mouth sit in the swapped face (landmarks found on the
    result) is nearer to the new face's layout than the photo's own layout was."""
    before, after = [], []
    for (original, new), result in swapped_pairs.items():
        reference = _landmarks(real_pairs.photo(new))
        faces = get_detector().find(np.ascontiguousarray(result))
        box = real_pairs.face_box(original)
        (face,) = [f for f in faces if real_pairs._overlap(f.box, box) > 0.5]
        before.append(_inner_shape_distance(_landmarks(real_pairs.photo(original)), reference))
        after.append(_inner_shape_distance(face.landmarks, reference))
    assert np.mean(after) < 0.75 * np.mean(before), (before, after)
    assert sum(a < b for a, b in zip(after, before, strict=True)) >= 0.8 * len(before)


@pytest.fixture(scope="module")
def swapped_pairs(engine, tmp_path_factory) -> dict[tuple[str, str], np.ndarray]:  # type: ignore[no-untyped-def]
    if real_pairs.real_clips_missing():
        pytest.skip(str(real_pairs.real_clips_missing()))
    folder = tmp_path_factory.mktemp("proportions")
    return {
        pair: real_pairs.swap_pair(engine, *pair, folder).result_rgb for pair in real_pairs.PAIRS
    }


@pytest.mark.parametrize("eyes", [9, 14, 24, 60])
def test_small_faces_keep_the_photos_colour(eyes: int) -> None:
    """Faces from 9 pixels between the eyes (a video's far-away person) up: the swapped face
    is the photo's colour (its mean within a few levels of the photo's own face), changed,
    never black or washed out where the skin sample is too small to measure."""
    grace = load_rgb(samples.grace_hopper()).astype(np.uint8)
    points = _landmarks(grace)
    scale = eyes / np.linalg.norm(points[36:42].mean(axis=0) - points[42:48].mean(axis=0))
    size = (round(grace.shape[1] * scale), round(grace.shape[0] * scale))
    photo = cv2.resize(grace, size, interpolation=cv2.INTER_AREA)
    target = points * scale
    astronaut = load_rgb(samples.astronaut()).astype(np.uint8)
    source = prepare_source(astronaut, _landmarks(astronaut))
    result = photo.copy()
    swap_face(result, target, source)
    face = np.zeros(photo.shape[:2], np.uint8)
    cv2.fillConvexPoly(face, np.round(target[[1, 3, 5, 8, 11, 13, 15, 45, 36]]).astype(np.int32), 1)
    before = photo[face > 0].astype(float)
    after = result[face > 0].astype(float)
    assert np.abs(after.mean(axis=0) - before.mean(axis=0)).max() < 12
    assert np.abs(after - before).mean() > 3
