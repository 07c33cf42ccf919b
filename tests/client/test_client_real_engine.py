"""A few flows on the sandbox's real engine (face detection and swapping) with sample photos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from client_testkit import FAST_RETRY, TaskWatch
from PIL import Image, ImageChops

from mio_nb import Client, ImageResult, MultipleFacesError, NoFaceError, samples
from mio_nb.sandbox import Sandbox


@pytest.fixture(scope="module")
def real_sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    try:
        sb = Sandbox(port=0, data_dir=tmp_path_factory.mktemp("real"), engine="real")
    except ImportError as exc:  # pragma: no cover - the sandbox extra is part of the test set-up
        pytest.fail(f"the real engine is needed for these tests: {exc}")
    with sb:
        yield sb


@pytest.fixture
def real(real_sb: Sandbox, tmp_path: Path) -> Iterator[Client]:
    with Client.for_sandbox(
        real_sb, output_dir=tmp_path, retry=FAST_RETRY, progress=False
    ) as client:
        yield client


def test_real_swap_changes_the_face(real: Client, real_sb: Sandbox):
    watch = TaskWatch(real_sb)
    original = samples.grace_hopper()
    result = real.swap_image(original, samples.new_face("astronaut"), timeout=120)
    assert isinstance(result, ImageResult)
    with Image.open(original) as before, Image.open(result.path) as after:
        assert after.size == before.size == (result.width, result.height)
        diff = ImageChops.difference(before.convert("RGB"), after.convert("RGB")).getbbox()
        assert diff is not None  # something changed
    assert len(watch.assert_no_duplicates()) == 1


def test_real_detect_then_swap_chosen_faces(real: Client, real_sb: Sandbox):
    watch = TaskWatch(real_sb)
    group = samples.group_photo(faces=3)
    faces = real.detect_faces(group, timeout=120)
    assert len(faces) == 3
    for face in faces:
        with Image.open(face.path) as crop:
            assert crop.size == (face.width, face.height)
        assert all(0 <= x < face.width and 0 <= y < face.height for x, y in face.points)
        left_eye, right_eye = face.points[0], face.points[1]
        assert left_eye[0] < right_eye[0]  # as seen in the image
    fig = faces.plot()
    assert len([ax for ax in fig.axes if ax.images]) == 3
    result = real.swap_faces(group, {faces[0]: samples.new_face("astronaut")}, timeout=120)
    assert isinstance(result, ImageResult)
    assert [r.type for r in watch.assert_no_duplicates()] == ["get-face", "multiple-face-swap"]


def test_real_no_face_and_several_faces(real: Client):
    with pytest.raises(NoFaceError) as info:
        real.swap_image(samples.no_face(), samples.new_face("grace"), timeout=120)
    assert info.value.code == 602 and info.value.task_id is not None
    assert f"(task {info.value.task_id})" in str(info.value)
    failed = [e for e in real.history() if e.status == "failed"]
    assert failed and failed[-1].error["code"] == 602
    with pytest.raises(MultipleFacesError) as info:
        real.swap_image(samples.grace_hopper(), samples.group_photo(faces=2), timeout=120)
    assert info.value.code == 603 and "exactly one" in info.value.hint
