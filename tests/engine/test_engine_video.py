"""Videos with the real engine: people grouping, swaps, and the encoded file's facts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from engine_testkit import read_video

from mio_nb import samples
from mio_nb.sandbox.engine import EngineError, media

pytestmark = pytest.mark.slow

HEIGHT = 360


def _faststart(path: Path) -> bool:
    data = path.read_bytes()
    return 0 <= data.find(b"moov") < data.find(b"mdat")


@pytest.mark.parametrize("people", [1, 2])
def test_get_faces_groups_people(engine, people: int) -> None:
    video = samples.sample_video(faces=people, seconds=2.0, height=HEIGHT)
    parts = engine.get_faces(video)
    assert len(parts) == people
    for part in parts:
        record = json.loads(json.dumps(part.record))
        assert record["kind"] == "video"
        assert len(record["embedding"]) == 128
        assert record["seen"] >= 2  # seen in several sampled frames, grouped as one person
        kps = part.kps
        assert kps["1"]["x"] < kps["2"]["x"] and kps["3"]["y"] < kps["4"]["y"]
        assert 0 <= kps["5"]["x"] < part.crop.width
    if people == 2:
        left, right = (np.array(p.record["embedding"]) for p in parts)
        assert np.linalg.norm(left - right) > 0.6
        assert parts[0].record["box"][0] < parts[1].record["box"][0]


def test_swap_video(engine, tmp_path: Path) -> None:
    video = samples.sample_video(faces=1, seconds=2.0, height=HEIGHT)
    out = tmp_path / "out.mp4"
    progress: list[float] = []
    engine.swap(video, samples.astronaut(), out, hd=False, progress=progress.append)
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(progress) > 5
    src, res = read_video(video), read_video(out)
    assert (res.video_codec, res.pix_fmt) == ("h264", "yuv420p")
    assert res.audio == "aac"
    assert (res.width, res.height, res.fps) == (src.width, src.height, src.fps)
    assert len(res.frames) == len(src.frames)
    assert _faststart(out)
    for i in (0, len(src.frames) // 2, len(src.frames) - 1):
        (face,) = engine.detector.detect(src.frames[i].astype(np.uint8))
        x0, y0, x1, y1 = (int(v) for v in face.box)
        diff = np.abs(res.frames[i] - src.frames[i])
        assert diff[y0:y1, x0:x1].mean() > 10  # the face changed in every frame checked
        assert diff[:, : max(1, x0 - (x1 - x0))].mean() < 2  # far left: just encoding noise
        mx0, my0, mx1, my1 = media.mark_box(res.width, res.height)
        mark = res.frames[i][my0:my1, mx0:mx1]
        assert (np.abs(mark - np.array(media.MARK_BOX)).sum(axis=2) < 40).mean() > 0.4


def test_swap_faces_video_swaps_only_the_paired_person(engine, tmp_path: Path) -> None:
    video = samples.sample_video(faces=2, seconds=1.0, height=HEIGHT, audio=False)
    parts = engine.get_faces(video)
    out = tmp_path / "out.mp4"
    engine.swap_faces(video, [(parts[0].record, samples.astronaut())], out, hd=False)
    src, res = read_video(video), read_video(out)
    assert res.audio is None
    assert len(res.frames) == len(src.frames)
    for box, changed in ((parts[0].record["box"], True), (parts[1].record["box"], False)):
        x0, y0, x1, y1 = (int(v) for v in box)
        diff = np.mean(
            [
                np.abs(r - s)[y0:y1, x0:x1].mean()
                for r, s in zip(res.frames, src.frames, strict=False)
            ]
        )
        assert (diff > 10) if changed else (diff < 3), (box, diff)


def test_video_without_faces_is_602(engine, no_face_video: Path, tmp_path: Path) -> None:
    with pytest.raises(EngineError) as info:
        engine.get_faces(no_face_video)
    assert info.value.code == 602
    with pytest.raises(EngineError) as info:
        engine.swap(no_face_video, samples.grace_hopper(), tmp_path / "o.mp4", hd=False)
    assert info.value.code == 602


def test_broken_video_is_701(engine, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    head = samples.sample_video(faces=1, seconds=2.0, height=HEIGHT).read_bytes()[:64]
    broken.write_bytes(head + bytes(range(256)) * 8)
    with pytest.raises(EngineError) as info:
        engine.get_faces(broken)
    assert info.value.code == 701
    with pytest.raises(EngineError) as info:
        engine.swap(broken, samples.grace_hopper(), tmp_path / "o.mp4", hd=False)
    assert info.value.code == 701


def test_single_swap_on_two_people_keeps_to_one_face(engine, tmp_path: Path) -> None:
    """Two faces of about the same size: one of them is swapped, the same one in every frame.

    The clip shows Grace Hopper and the astronaut, so the swap runs once with each as the new
    face: whichever face is chosen, one of the runs changes it visibly."""
    video = samples.sample_video(faces=2, seconds=1.0, height=HEIGHT, audio=False)
    parts = engine.get_faces(video)
    boxes = [[int(v) for v in p.record["box"]] for p in parts]
    src = read_video(video)
    runs = []
    for which in ("grace", "astronaut"):
        out = tmp_path / f"{which}.mp4"
        engine.swap(video, samples.new_face(which), out, hd=False)
        res = read_video(out)
        assert len(res.frames) == len(src.frames)
        runs.append(
            np.array(
                [
                    [np.abs(r - s)[y0:y1, x0:x1].mean() for x0, y0, x1, y1 in boxes]
                    for r, s in zip(res.frames, src.frames, strict=True)
                ]
            )
        )
    both = np.maximum(runs[0], runs[1])  # (frames, faces)
    chosen = int(np.argmax(both.sum(axis=0)))
    other = 1 - chosen
    assert (both[:, chosen] > 8).all(), both
    assert (both[:, other] < 5).all(), both
