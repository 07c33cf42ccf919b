"""Faces are numbered 1, 2, ... in reading order everywhere: a real API's faces (in its own
order) are re-numbered once placed on the photo; ``face.number``, reprs and plots say "face N";
Python indexing stays 0-based."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from faces_testkit import group_picture, service_crop

from mio_nb.locate import place_faces
from mio_nb.results import Face, FaceSet


def api_faces(tmp_path: Path, count: int, seed: int) -> tuple[FaceSet, list]:
    """A grid photo and its faces' crops listed in a shuffled order (as an API may list them)."""
    picture, placed = group_picture(count, columns=3)
    original = tmp_path / "group.png"
    picture.save(original)
    order = list(range(count))
    random.Random(seed).shuffle(order)
    faces = []
    for i, which in enumerate(order):
        crop, _ = service_crop(picture, placed[which], resize=0.5)
        path = tmp_path / f"face-{i}.png"
        crop.save(path)
        faces.append(Face(i, f"key-{which}", "", width=crop.width, height=crop.height, path=path))
    return FaceSet(task_id=1, faces=tuple(faces), source_path=str(original)), placed


@pytest.mark.parametrize("count, seed", [(3, 1), (5, 2), (6, 3), (7, 4)])
def test_placed_faces_are_numbered_in_reading_order(tmp_path: Path, count: int, seed: int):
    faceset, _ = api_faces(tmp_path, count, seed)
    numbered = place_faces(faceset)
    assert [f.index for f in numbered] == list(range(count))
    centres = [(f.box[0] + f.box[2] / 2, f.box[1] + f.box[3] / 2, f.box[3]) for f in numbered]
    for (x1, y1, h1), (x2, y2, h2) in itertools.pairwise(centres):
        if abs(y2 - y1) < 0.5 * max(h1, h2):
            assert x2 > x1  # same row: left to right
        else:
            assert y2 > y1  # next row: below
    # the swap keys follow their faces (a face is its crop, whatever its new number)
    assert sorted(f.key for f in numbered) == sorted(f.key for f in faceset)


def test_numbers_reprs_and_lookups_count_from_1(tmp_path: Path):
    faceset, _ = api_faces(tmp_path, 3, 0)
    first = faceset[0]
    assert first.number == 1 and faceset.face(1) is first and faceset.face(3) is faceset[2]
    assert repr(first).startswith("<Face: face 1 (faces[0])")
    assert "3 faces numbered 1-3" in repr(faceset)
    with pytest.raises(IndexError, match="No face 4: the faces are numbered 1 to 3"):
        faceset.face(4)
    with pytest.raises(IndexError, match="No face 0"):
        faceset.face(0)


def test_plots_title_the_faces_by_number(tmp_path: Path):
    faceset, _ = api_faces(tmp_path, 2, 0)
    figure = faceset.plot()
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titles == ["face 1 (faces[0])", "face 2 (faces[1])"]
