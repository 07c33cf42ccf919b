"""Happy paths of every endpoint with the instant engine, as the wire contract describes them."""

from __future__ import annotations

import io
import re

import pytest
import requests
from PIL import Image
from sandbox_helpers import Api

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.sandbox import Sandbox

KEY_RE = re.compile(r"^temporary/\d{8}/sandbox/\d{13}-[0-9a-f-]{36}\.(jpg|png|mp4)$")
IMAGE_FIELDS = {
    "size",
    "width",
    "height",
    "merge_key",
    "merge_url",
    "thumbnail_key",
    "thumbnail_url",
    "thumbnail_width",
    "thumbnail_height",
}
VIDEO_FIELDS = {
    "size",
    "duration",
    "merge_key",
    "merge_url",
    "merge_width",
    "merge_height",
    "cover_key",
    "cover_url",
    "cover_width",
    "cover_height",
    "cover_thumbnail_key",
    "cover_thumbnail_url",
    "thumbnail_width",
    "thumbnail_height",
}


def fetch(url: str, **kwargs: object) -> requests.Response:
    r = requests.get(url, timeout=30, **kwargs)  # no Authorization: storage refuses it
    assert r.status_code in (200, 206), (r.status_code, r.text)
    return r


def test_upload_and_access_url(api: Api) -> None:
    src = samples.grace_hopper()
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "demo.jpg"})
    assert KEY_RE.match(got["key"]), got["key"]
    assert got["upload_url"].startswith(f"{api.sb.base_url}/storage/{got['key']}?X-Expires=")
    assert "X-Signature=" in got["upload_url"]
    assert requests.put(got["upload_url"], data=src.read_bytes(), timeout=30).status_code == 200
    url = api.ok(P.ACCESS_URL_PATH, {"key": got["key"]})["url"]
    r = fetch(url)
    assert r.content == src.read_bytes()
    assert r.headers["Content-Type"] == "image/jpeg"
    assert int(r.headers["Content-Length"]) == src.stat().st_size


def test_put_chunked_body_streams(api: Api) -> None:
    data = samples.astronaut().read_bytes()
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "a.png"})
    pieces = (data[i : i + 10_000] for i in range(0, len(data), 10_000))
    assert requests.put(got["upload_url"], data=pieces, timeout=30).status_code == 200
    url = api.ok(P.ACCESS_URL_PATH, {"key": got["key"]})["url"]
    assert fetch(url).content == data


def test_get_supports_range_and_head(api: Api) -> None:
    video = samples.sample_video()
    data = video.read_bytes()
    key = api.upload(video)
    url = api.ok(P.ACCESS_URL_PATH, {"key": key})["url"]
    r = fetch(url, headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.content == data[100:200]
    assert r.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert r.headers["Content-Type"] == "video/mp4"
    assert r.headers["Accept-Ranges"] == "bytes"
    tail = fetch(url, headers={"Range": "bytes=-10"})
    assert tail.content == data[-10:]
    opened = fetch(url, headers={"Range": "bytes=0-"})
    assert opened.content == data and opened.status_code == 206
    head = requests.head(url, timeout=30)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(data)
    bad = requests.get(url, headers={"Range": f"bytes={len(data)}-"}, timeout=30)
    assert bad.status_code == 416
    assert bad.headers["Content-Range"] == f"bytes */{len(data)}"


def check_image_result(data: dict, *, size: tuple[int, int] | None = None) -> Image.Image:
    assert set(data) == IMAGE_FIELDS, sorted(data)
    assert data["merge_key"].startswith("sandbox/asset/")
    merged = fetch(data["merge_url"])
    assert len(merged.content) == data["size"]
    image = Image.open(io.BytesIO(merged.content))
    assert image.size == (data["width"], data["height"])
    if size:
        assert image.size == size
    thumb = Image.open(io.BytesIO(fetch(data["thumbnail_url"]).content))
    assert thumb.size == (data["thumbnail_width"], data["thumbnail_height"])
    assert max(thumb.size) <= 540
    return image


def test_image_face_swap(api: Api) -> None:
    main = api.upload(samples.grace_hopper())
    face = api.upload(samples.astronaut())
    task_id = api.create(P.FACE_SWAP_PATH, {"main_key": main, "target_key": face, "is_hd": 2})
    with Image.open(samples.grace_hopper()) as original:
        check_image_result(api.done(task_id), size=original.size)


def test_image_face_swap_lenient_types_and_key_alias(api: Api) -> None:
    main = api.upload(samples.grace_hopper())
    face = api.upload(samples.astronaut())
    task_id = api.create(P.FACE_SWAP_PATH, {"key": main, "target_key": face, "is_hd": "1"})
    check_image_result(api.done(task_id))
    row = next(t for t in api.sb.tasks() if t.id == task_id)
    assert row.params == {"main_key": main, "target_key": face, "is_hd": 1}
    assert row.type == "face-swap" and row.finished_at is not None
    assert api.detail(str(task_id))["data"]["id"] == task_id  # id as a decimal string


def test_detail_while_pending_then_success(api: Api) -> None:
    api.sb.set_faults(task_seconds=0.6)
    try:
        main = api.upload(samples.grace_hopper())
        task_id = api.create(P.FACE_SWAP_PATH, {"main_key": main, "target_key": main})
        env = api.detail(task_id)
        assert env["code"] == 200
        assert env["data"]["status"] in (1, 2)
        assert env["data"]["additional_data"] == {}
        assert env["data"]["id"] == task_id
        assert api.done(task_id)["merge_url"]
    finally:
        api.sb.set_faults()


def test_urls_are_signed_afresh_at_each_detail(api: Api) -> None:
    main = api.upload(samples.grace_hopper())
    task_id = api.create(P.FACE_SWAP_PATH, {"main_key": main, "target_key": main})
    first = api.done(task_id)
    import time

    time.sleep(1.1)
    second = api.done(task_id)
    assert first["merge_key"] == second["merge_key"]
    assert first["merge_url"] != second["merge_url"]
    assert fetch(first["merge_url"]).content == fetch(second["merge_url"]).content


def check_video_result(data: dict) -> None:
    assert set(data) == VIDEO_FIELDS, sorted(data)
    merged = fetch(data["merge_url"])
    assert merged.headers["Content-Type"] == "video/mp4"
    assert len(merged.content) == data["size"]
    assert merged.content[4:8] == b"ftyp"
    assert data["duration"] > 0.5
    cover = Image.open(io.BytesIO(fetch(data["cover_url"]).content))
    assert cover.size == (data["cover_width"], data["cover_height"])
    assert cover.size == (data["merge_width"], data["merge_height"])
    thumb = Image.open(io.BytesIO(fetch(data["cover_thumbnail_url"]).content))
    assert thumb.size == (data["thumbnail_width"], data["thumbnail_height"])


def test_video_face_swap(api: Api) -> None:
    main = api.upload(samples.sample_video())
    face = api.upload(samples.astronaut())
    task_id = api.create(P.VIDEO_FACE_SWAP_PATH, {"main_key": main, "target_key": face})
    check_video_result(api.done(task_id))


def check_faces(faces: list, count: int | None = None) -> None:
    assert isinstance(faces, list) and faces
    if count is not None:
        assert len(faces) == count
    for face in faces:
        assert set(face) == {"kps", "size", "width", "height", "avatar_part_key", "avatar_part_url"}
        assert sorted(face["kps"]) == ["1", "2", "3", "4", "5"]
        for point in face["kps"].values():
            assert 0 <= point["x"] <= face["width"] and 0 <= point["y"] <= face["height"]
        assert KEY_RE.match(face["avatar_part_key"])
        crop = fetch(face["avatar_part_url"])
        assert crop.headers["Content-Type"] == "image/png"
        assert len(crop.content) == face["size"]
        assert Image.open(io.BytesIO(crop.content)).size == (face["width"], face["height"])


def multi_swap(api: Api, main: str, path: str, use: int = 1) -> tuple[list, dict]:
    face_task = api.create(P.GET_FACE_PATH, {"main_key": main})
    faces = api.done(face_task)
    check_faces(faces)
    new_face = api.upload(samples.astronaut())
    pairs = [{"target_part_key": f["avatar_part_key"], "avatar_part_key": new_face} for f in faces]
    pairs = pairs[:use] + [
        {"target_part_key": f["avatar_part_key"], "avatar_part_key": f["avatar_part_key"]}
        for f in faces[use:]
    ]
    task_id = api.create(path, {"avatar_key": pairs, "get_face_id": str(face_task), "is_hd": "1"})
    return faces, api.done(task_id)


def test_get_face_and_multiple_face_swap(api: Api) -> None:
    main = api.upload(samples.group_photo(faces=3))
    _, result = multi_swap(api, main, P.MULTIPLE_FACE_SWAP_PATH)
    with Image.open(samples.group_photo(faces=3)) as original:
        check_image_result(result, size=original.size)


def test_get_face_and_multiple_video_face_swap(api: Api) -> None:
    main = api.upload(samples.sample_video(faces=2))
    _, result = multi_swap(api, main, P.MULTIPLE_VIDEO_FACE_SWAP_PATH)
    check_video_result(result)


def test_token_endpoint(api: Api) -> None:
    sb = api.sb
    body = {"client_id": sb.client_id, "client_secret": sb.client_secret}
    got = requests.post(sb.base_url + P.TOKEN_PATH, json=body, timeout=30).json()
    assert got["code"] == 200
    token = got["data"]["access_token"]
    assert got["data"]["expires_in"] > 0 and token != sb.token
    fresh = Api(sb, token=token)
    assert KEY_RE.match(fresh.ok(P.UPLOAD_URL_PATH, {"file_name": "x.png"})["key"])
    bare = requests.post(
        sb.base_url + P.UPLOAD_URL_PATH,
        json={"file_name": "x.png"},
        headers={"Authorization": token},
        timeout=30,
    )
    assert bare.json()["code"] == 200
    form = requests.post(sb.base_url + P.TOKEN_PATH, data=body, timeout=30).json()
    assert form["code"] == 200 and form["data"]["access_token"]


def test_success_status_zero(tmp_path) -> None:
    with Sandbox(engine="instant", data_dir=tmp_path, success_status=0) as sb:
        api = Api(sb)
        main = api.upload(samples.grace_hopper())
        task_id = api.create(P.FACE_SWAP_PATH, {"main_key": main, "target_key": main})
        env = api.wait(task_id)
        assert env["code"] == 200
        assert env["data"]["status"] == 0
        assert env["data"]["additional_data"]["merge_url"]
        assert sb.tasks()[-1].status == P.TaskStatus.SUCCESS


@pytest.mark.parametrize("name", ["a.JPG", "b.jpeg", "c.webp", "d.gif", "e.mov", "f.webm", "g.m4v"])
def test_upload_url_accepts_every_supported_extension(api: Api, name: str) -> None:
    key = api.ok(P.UPLOAD_URL_PATH, {"file_name": name})["key"]
    assert key.rsplit(".", 1)[1] in {"jpg", "webp", "gif", "mov", "webm", "m4v"}


def test_put_generator_with_declared_length(api: Api) -> None:
    """requests sends both Transfer-Encoding: chunked and the given Content-Length for a
    generator body, and the body unframed: the sandbox stores it as it arrived."""
    data = samples.astronaut().read_bytes()
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "a.png"})
    pieces = (data[i : i + 65536] for i in range(0, len(data), 65536))
    r = requests.put(
        got["upload_url"], data=pieces, headers={"Content-Length": str(len(data))}, timeout=30
    )
    assert r.status_code == 200, r.text
    url = api.ok(P.ACCESS_URL_PATH, {"key": got["key"]})["url"]
    assert fetch(url).content == data


def test_shared_sandbox_is_reused_and_honours_the_data_dir_variable(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mio_nb.sandbox import shared_sandbox

    monkeypatch.setenv("MIO_NB_SANDBOX_DIR", str(tmp_path / "shared"))
    first = shared_sandbox()
    try:
        assert shared_sandbox() is first
        assert first.data_dir == tmp_path / "shared"
        assert first.engine.name == "real"
        assert Api(first).ok(P.UPLOAD_URL_PATH, {"file_name": "a.png"})["key"]
    finally:
        first.stop()
    second = shared_sandbox()  # a stopped one is replaced
    try:
        assert second is not first and second.running and second.token == first.token
    finally:
        second.stop()


def test_constructor_checks() -> None:
    with pytest.raises(ValueError):
        Sandbox(engine="bogus")
    with pytest.raises(ValueError):
        Sandbox(engine="instant", success_status=5)
