"""Every person of a video, found once: six people of different sizes (faces down to 40
pixels), turning heads, a cut to a close-up of one of them and back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from engine_scenes import CLOSE_UP, PEOPLE

from mio_nb.sandbox.engine.real import CROP_MAX_SIDE
from mio_nb.sandbox.engine.video import iou

pytestmark = pytest.mark.slow


def _who(crowd, record: dict) -> int | None:
    """The person whose true face box overlaps the record's box in the record's frame."""
    frame = round(record["time"] * crowd.fps)
    boxes = crowd.truth[frame]
    best = max(boxes, key=lambda i: iou(boxes[i], record["box"]), default=None)
    if best is None or iou(boxes[best], record["box"]) < 0.3:
        return None
    return best


@pytest.fixture(scope="module")
def parts(engine, crowd):
    return engine.get_faces(crowd.path)


def test_every_person_found_once_and_no_false_one(crowd, parts) -> None:
    who = [_who(crowd, p.record) for p in parts]
    # Six parts, each a real face of a different person: all six, none twice, none false.
    assert sorted(w for w in who if w is not None) == list(range(len(PEOPLE))), who
    assert len(parts) == len(PEOPLE)
    # The close-up person's best crop is the close-up (their largest face), grouped with their
    # small face of the wide shot although three look-alikes of her are in that shot.
    close = parts[who.index(CLOSE_UP)]
    start, stop = crowd.shots[1]
    assert start <= round(close.record["time"] * crowd.fps) < stop
    assert close.record["seen"] > 3  # the close-up's samples and the wide shots' ones
    embeddings = np.array([p.record["embedding"] for p in parts])
    for part in parts:
        record = json.loads(json.dumps(part.record))
        assert np.allclose(record["people"], embeddings, atol=1e-4)
        assert max(part.crop.size) <= CROP_MAX_SIDE
        kps = part.kps
        assert kps["1"]["x"] < kps["2"]["x"] and kps["3"]["y"] < kps["4"]["y"]
        assert all(
            0 <= k["x"] < part.crop.width and 0 <= k["y"] < part.crop.height for k in kps.values()
        )


def test_crops_have_a_margin_and_keypoints_on_the_eyes(parts) -> None:
    """The crop shows the face with room around it (the eyes take up a fifth to a third of its
    width, not all of it); the keypoints are in crop pixels."""
    for part in parts:
        kps = part.kps
        eye_gap = kps["2"]["x"] - kps["1"]["x"]
        assert 0.15 * part.crop.width < eye_gap < 0.35 * part.crop.width
        assert kps["1"]["x"] > eye_gap / 2 and part.crop.width - kps["2"]["x"] > eye_gap / 2
        mouth_y = (kps["4"]["y"] + kps["5"]["y"]) / 2
        assert mouth_y < part.crop.height * 0.85
