"""Steady faces in a swapped video: a paired person is changed in (nearly) every frame where
they can be seen, never flashes back for a frame, and nobody else is touched."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from engine_scenes import CLOSE_UP, PEOPLE
from engine_testkit import read_video

from mio_nb import samples
from mio_nb.sandbox.engine.video import iou

pytestmark = pytest.mark.slow

#: A face counts as changed in a frame when the middle of its true box differs by this much
#: (mean absolute difference of the blurred difference: encoding noise averages out, a
#: replaced face does not).
CHANGED = 5.0
#: ... and as untouched below this.
UNTOUCHED = 3.0


def _middle(box: tuple[float, ...]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    return int(x0 + 0.2 * w), int(y0 + 0.2 * h), int(x1 - 0.2 * w), int(y1 - 0.1 * h)


def change_per_frame(crowd, src, res, person: int) -> list[float | None]:
    """Per frame, the mean difference in the middle of the person's face (None: not visible)."""
    changes: list[float | None] = []
    for truth, before, after in zip(crowd.truth, src.frames, res.frames, strict=True):
        if person not in truth:
            changes.append(None)
            continue
        x0, y0, x1, y1 = _middle(truth[person])
        difference = (after[y0:y1, x0:x1] - before[y0:y1, x0:x1]).astype(np.float32)
        changes.append(float(np.abs(cv2.GaussianBlur(difference, (0, 0), 2.0)).mean()))
    return changes


def _part_of(crowd, parts, person: int):
    for part in parts:
        frame = round(part.record["time"] * crowd.fps)
        box = crowd.truth[frame].get(person)
        if box is not None and iou(box, part.record["box"]) > 0.3:
            return part
    raise AssertionError(f"person {person} not found")


@pytest.fixture(scope="module")
def swapped(engine, crowd, tmp_path_factory):
    parts = engine.get_faces(crowd.path)
    paired = {0: samples.astronaut(), 1: samples.grace_hopper(), CLOSE_UP: samples.grace_hopper()}
    pairs = [(_part_of(crowd, parts, person).record, face) for person, face in paired.items()]
    out = tmp_path_factory.mktemp("steady") / "out.mp4"
    engine.swap_faces(crowd.path, pairs, out, hd=False)
    return read_video(crowd.path), read_video(out), set(paired)


@pytest.mark.parametrize("person", [0, 1, CLOSE_UP])
def test_paired_person_changed_in_every_visible_frame(crowd, swapped, person: int) -> None:
    src, res, _ = swapped
    changes = change_per_frame(crowd, src, res, person)
    visible = [c for c in changes if c is not None]
    changed = [c is not None and c > CHANGED for c in changes]
    share = sum(changed) / len(visible)
    assert share >= 0.95, (share, [round(c, 1) if c is not None else None for c in changes])
    # No flash-back: a visible frame left unchanged between two changed ones.
    for i in range(1, len(changes) - 1):
        if changes[i] is not None and not changed[i]:
            assert not (changed[i - 1] and changed[i + 1]), (i, changes[i - 1 : i + 2])


def test_people_not_paired_are_untouched(crowd, swapped) -> None:
    """Including look-alikes of the paired people (the same portrait mirrored or tinted)."""
    src, res, paired = swapped
    for person in range(len(PEOPLE)):
        if person in paired:
            continue
        changes = [c for c in change_per_frame(crowd, src, res, person) if c is not None]
        assert max(changes) < UNTOUCHED, (person, max(changes))
