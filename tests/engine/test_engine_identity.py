"""The new face is recognisable: on real identity pairs (people of the development clips and
the public-domain portraits, see ``real_pairs``), the swapped face reads as the new person by
dlib's face embedding, while the photo's surroundings stay as they were."""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import pytest
import real_pairs
from real_pairs import PAIRS, PairResult, swap_pair

from mio_nb.sandbox.engine.detect import get_detector

pytestmark = pytest.mark.skipif(
    real_pairs.real_clips_missing() is not None,
    reason=str(real_pairs.real_clips_missing()),
)

#: Pairs of two people of the development clips (the portraits make the other pairs).
CLIP_PAIRS = [
    (a, b)
    for a, b in PAIRS
    if not real_pairs.PEOPLE[a].portrait and not real_pairs.PEOPLE[b].portrait
]


def _ids(pair: tuple[str, str]) -> str:
    return f"{pair[0]}<-{pair[1]}"


@pytest.fixture(scope="module")
def swapped(engine, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], PairResult]:
    folder = tmp_path_factory.mktemp("real-pairs")
    return {pair: swap_pair(engine, *pair, folder) for pair in PAIRS}


def test_the_pairs_are_pairs_of_different_real_people() -> None:
    """The material: at least eight pairs of the clips' own people, each of two people the
    embedding tells apart (distance above dlib's 0.6 same-person threshold)."""
    assert len(CLIP_PAIRS) >= 8
    for a, b in PAIRS:
        distance = np.linalg.norm(real_pairs._person(a)[1] - real_pairs._person(b)[1])
        assert distance > 0.6, (a, b, distance)


@pytest.mark.parametrize("pair", PAIRS, ids=[_ids(p) for p in PAIRS])
def test_each_swapped_face_is_at_least_halfway_to_the_new_person(swapped, pair) -> None:
    assert swapped[pair].share >= 0.5, swapped[pair].share


def test_swapped_faces_read_as_the_new_person_on_average(swapped) -> None:
    clip_shares = [swapped[pair].share for pair in CLIP_PAIRS]
    all_shares = [result.share for result in swapped.values()]
    assert statistics.mean(clip_shares) >= 0.6, clip_shares
    assert statistics.mean(all_shares) >= 0.6, all_shares


@pytest.mark.parametrize(
    "pair", PAIRS[:3] + PAIRS[-2:], ids=[_ids(p) for p in PAIRS[:3] + PAIRS[-2:]]
)
def test_the_swapped_face_is_a_face_in_the_same_place(swapped, pair) -> None:
    """The detector still finds a face where the original was (nothing smeared or torn), and
    more than a face width away from it, nothing changed."""
    result = swapped[pair]
    original = result.original_rgb
    box = real_pairs.face_box(result.original)
    faces = get_detector().find(np.ascontiguousarray(result.result_rgb))
    assert any(real_pairs._overlap(f.box, box) > 0.5 for f in faces), [f.box for f in faces]
    x0, y0, x1, y1 = (int(v) for v in box)
    side = x1 - x0
    far = np.ones(original.shape[:2], dtype=bool)
    far[max(0, y0 - side) : y1 + side, max(0, x0 - side) : x1 + side] = False
    height, width = original.shape[:2]
    far[int(height * 0.8) :, int(width * 0.5) :] = False  # the sandbox mark
    if far.any():
        assert np.abs(result.result_rgb.astype(int) - original.astype(int))[far].max() == 0


@pytest.mark.parametrize("pair", [PAIRS[0], PAIRS[6], PAIRS[13]], ids=_ids)
def test_hd_swaps_read_as_the_new_person_too(engine, tmp_path: Path, pair) -> None:
    assert swap_pair(engine, *pair, tmp_path, hd=True).share >= 0.5
