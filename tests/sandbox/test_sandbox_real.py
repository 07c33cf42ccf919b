"""The real engine through the server, on real photos: swaps, face parts and the failures only
an engine can decide (602 no face, 603 several faces, 701 unreadable file)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image
from sandbox_helpers import Api

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.sandbox import Sandbox

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(real: Sandbox) -> Api:
    return Api(real)


def image_at(url: str) -> Image.Image:
    r = requests.get(url, timeout=30)
    assert r.status_code == 200
    return Image.open(io.BytesIO(r.content)).convert("RGB")


def test_real_image_swap_changes_the_face(api: Api) -> None:
    main = api.upload(samples.grace_hopper())
    face = api.upload(samples.astronaut())
    result = api.done(api.create(P.FACE_SWAP_PATH, {"main_key": main, "target_key": face}))
    swapped = np.asarray(image_at(result["merge_url"]), dtype=np.int16)
    with Image.open(samples.grace_hopper()) as im:
        original = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert swapped.shape == original.shape
    x0, y0, x1, y1 = 180, 139, 366, 325  # Grace Hopper's face box
    face_change = np.abs(swapped[y0:y1, x0:x1] - original[y0:y1, x0:x1]).mean()
    assert face_change > 8, face_change
    assert result["size"] == len(requests.get(result["merge_url"], timeout=30).content)


def test_real_get_face_and_swap_one_of_three(api: Api) -> None:
    group = samples.group_photo(faces=3)
    main = api.upload(group)
    face_task = api.create(P.GET_FACE_PATH, {"main_key": main})
    faces = api.done(face_task)
    assert len(faces) == 3
    for face in faces:
        k = face["kps"]
        assert k["1"]["x"] < k["2"]["x"] and k["4"]["x"] < k["5"]["x"]
        assert max(k["1"]["y"], k["2"]["y"]) < k["3"]["y"] < min(k["4"]["y"], k["5"]["y"])
        assert image_at(face["avatar_part_url"]).size == (face["width"], face["height"])
    new_face = api.upload(samples.astronaut())
    pairs = [
        {"target_part_key": faces[0]["avatar_part_key"], "avatar_part_key": new_face},
        {
            "target_part_key": faces[1]["avatar_part_key"],
            "avatar_part_key": faces[1]["avatar_part_key"],
        },
    ]
    body = {"avatar_key": pairs, "get_face_id": face_task, "is_hd": 2}
    result = api.done(api.create(P.MULTIPLE_FACE_SWAP_PATH, body))
    swapped = np.asarray(image_at(result["merge_url"]), dtype=np.int16)
    with Image.open(group) as im:
        original = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert swapped.shape == original.shape
    width = original.shape[1]
    # The first face (leftmost) changed; the third, not paired, did not (beyond the mark).
    left = np.abs(swapped[:, : width // 3] - original[:, : width // 3]).mean()
    right = np.abs(swapped[:, 2 * width // 3 :] - original[:, 2 * width // 3 :])
    assert left > 1.0, left
    h = right.shape[0]
    assert right[: h // 2].mean() < 0.5, right[: h // 2].mean()


def test_real_602_no_face(api: Api) -> None:
    cup = api.upload(samples.no_face())
    face = api.upload(samples.astronaut())
    env = api.wait(api.create(P.FACE_SWAP_PATH, {"main_key": cup, "target_key": face}))
    assert env["code"] == 602 and env["data"]["status"] == 4
    assert env["message"] == env["data"]["message"] and env["message"]
    assert env["data"]["additional_data"] == {}
    assert api.wait(api.create(P.GET_FACE_PATH, {"main_key": cup}))["code"] == 602
    env = api.wait(api.create(P.FACE_SWAP_PATH, {"main_key": face, "target_key": cup}))
    assert env["code"] == 602


def test_real_603_several_faces(api: Api) -> None:
    group = api.upload(samples.group_photo(faces=2))
    single = api.upload(samples.grace_hopper())
    env = api.wait(api.create(P.FACE_SWAP_PATH, {"main_key": single, "target_key": group}))
    assert env["code"] == 603 and env["data"]["status"] == 4
    env = api.wait(api.create(P.FACE_SWAP_PATH, {"main_key": group, "target_key": single}))
    assert env["code"] == 603


def test_real_701_unreadable_file(api: Api, tmp_path: Path) -> None:
    broken = samples.astronaut().read_bytes()[:200] + b"\0" * 5000  # a PNG that breaks off
    key = api.upload(broken, name="broken.png")
    single = api.upload(samples.grace_hopper())
    env = api.wait(api.create(P.FACE_SWAP_PATH, {"main_key": key, "target_key": single}))
    assert env["code"] == 701 and env["data"]["status"] == 4
    assert api.wait(api.create(P.GET_FACE_PATH, {"main_key": key}))["code"] == 701


def test_real_all_faces_paired_with_themselves_keeps_the_image(api: Api) -> None:
    main = api.upload(samples.group_photo(faces=2))
    face_task = api.create(P.GET_FACE_PATH, {"main_key": main})
    faces = api.done(face_task)
    pairs = [
        {"target_part_key": f["avatar_part_key"], "avatar_part_key": f["avatar_part_key"]}
        for f in faces
    ]
    body = {"avatar_key": pairs, "get_face_id": face_task}
    result = api.done(api.create(P.MULTIPLE_FACE_SWAP_PATH, body))
    swapped = np.asarray(image_at(result["merge_url"]), dtype=np.int16)
    with Image.open(samples.group_photo(faces=2)) as im:
        original = np.asarray(im.convert("RGB"), dtype=np.int16)
    h = original.shape[0]
    assert np.abs(swapped[: h // 2] - original[: h // 2]).mean() < 0.5  # only the mark differs


def test_real_video_swap_and_multiple_video_swap(api: Api) -> None:
    video = samples.sample_video(faces=2)
    main = api.upload(video)
    new_face = api.upload(samples.astronaut())
    single = api.create(P.VIDEO_FACE_SWAP_PATH, {"main_key": main, "target_key": new_face})
    face_task = api.create(P.GET_FACE_PATH, {"main_key": main})
    faces = api.done(face_task, timeout=120)
    assert len(faces) == 2
    pair = {"target_part_key": faces[0]["avatar_part_key"], "avatar_part_key": new_face}
    body = {"avatar_key": [pair], "get_face_id": face_task, "is_hd": 1}
    multi = api.create(P.MULTIPLE_VIDEO_FACE_SWAP_PATH, body)
    for task_id in (single, multi):
        result = api.done(task_id, timeout=180)
        assert 1.5 < result["duration"] < 2.5
        r = requests.get(result["merge_url"], timeout=30)
        assert r.headers["Content-Type"] == "video/mp4" and len(r.content) == result["size"]
        assert image_at(result["cover_url"]).size == (result["merge_width"], result["merge_height"])
