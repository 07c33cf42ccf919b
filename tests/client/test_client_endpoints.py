"""Every endpoint and every result type, against the sandbox on loopback (instant engine)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import requests
from client_testkit import FAST_RETRY, TaskWatch, png_bytes, portrait
from PIL import Image

from mio_nb import Asset, Client, Face, FaceSet, ImageResult, Task, VideoResult
from mio_nb.plotting import draw_face
from mio_nb.sandbox import Sandbox


def test_upload_accepts_path_bytes_pil_asset_and_key(client: Client, media, sb: Sandbox):
    from_path = client.upload(media["jpg"])
    assert from_path.kind == "image" and from_path.name == "face.jpg"
    assert from_path.size == media["jpg"].stat().st_size
    assert from_path.key.endswith(".jpg")

    from_bytes = client.upload(media["png"].read_bytes())
    assert from_bytes.key.endswith(".png") and from_bytes.size == media["png"].stat().st_size

    from_pil = client.upload(portrait())
    assert from_pil.kind == "image" and from_pil.key.endswith(".png")

    video = client.upload(Path(media["video"]))
    assert video.kind == "video" and video.key.endswith(".mp4")

    before = client.request_count
    assert client.upload(from_path) is from_path
    again = client.upload(from_path.key)
    assert again.key == from_path.key and again.kind == "image"
    assert client.request_count == before  # nothing to upload for an Asset or a key

    # What was stored is byte for byte what we sent (fetched through access-url, no token).
    url = client.access_url(from_path)
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == media["jpg"].read_bytes()
    saved = client.download(from_bytes, Path(client.output_dir) / "copy.png")
    assert saved.read_bytes() == media["png"].read_bytes()


def test_storage_refuses_the_api_token(client: Client, media, sb: Sandbox):
    """The sandbox refuses storage requests carrying Authorization (HTTP 400): every upload
    and download in these tests succeeding proves the client never sends the token there."""
    asset = client.upload(media["png"])
    url = client.access_url(asset)
    assert requests.get(url, headers={"Authorization": f"Bearer {sb.token}"}).status_code == 400
    assert requests.get(url).status_code == 200


def test_upload_many_runs_in_parallel_and_keeps_order(client: Client, media):
    srcs = [media["jpg"], media["png"], media["webp"], png_bytes(portrait(seed=3))]
    assets = client.upload_many(srcs)
    assert [a.name for a in assets[:3]] == ["face.jpg", "face.png", "other.webp"]
    assert len({a.key for a in assets}) == 4


def test_swap_image_saves_the_result_before_returning(client: Client, media, watch: TaskWatch):
    result = client.swap_image(media["jpg"], media["png"])
    assert isinstance(result, ImageResult)
    assert result.path.parent == client.output_dir and result.path.exists()
    assert result.path.stat().st_size == result.size
    with Image.open(result.path) as img:
        assert img.size == (result.width, result.height)
    assert result.merge_key and result.merge_url and result.thumbnail_key
    assert result.thumbnail_width and result.thumbnail_height
    bundle = result._repr_mimebundle_()
    (picture,) = (bundle[m] for m in ("image/png", "image/jpeg") if m in bundle)
    assert len(picture) <= 187_500 and Image.open(io.BytesIO(picture)).size[0] > 0
    assert str(result.path) in result._caption()
    assert os.fspath(result) == str(result.path)
    (row,) = watch.assert_no_duplicates()
    assert row.type == "face-swap" and row.params["is_hd"] == 2
    entry = client.history()[-1]
    assert entry.task_id == result.task_id and entry.status == "done"
    assert entry.files == (str(result.path),)
    assert entry.inputs["original"]["path"] == str(media["jpg"].absolute())


def test_hd_and_pil_inputs(client: Client, watch: TaskWatch):
    result = client.swap_image(portrait(seed=4), portrait(seed=5), hd=True)
    assert isinstance(result, ImageResult)
    (row,) = watch.assert_no_duplicates()
    assert row.params["is_hd"] == 1


def test_swap_video_plays_inline_from_the_saved_file(client: Client, media, watch: TaskWatch):
    result = client.swap_video(media["video"], media["jpg"])
    assert isinstance(result, VideoResult)
    assert result.path.suffix == ".mp4" and result.path.stat().st_size == result.size
    assert result.cover_path is not None and result.cover_path.exists()
    assert result.duration and result.duration > 0
    assert result.merge_width and result.merge_height and result.cover_key
    html = result._repr_html_()
    # Embedded (no URL of the Jupyter server's files), with the cover as poster.
    assert "<video" in html and 'src="data:video/mp4;base64,' in html and "poster=" in html
    assert result.path.name not in html and str(result.path) in result._caption()
    (row,) = watch.assert_no_duplicates()
    assert row.type == "video-face-swap"


def test_swap_picks_image_or_video_by_content(client: Client, media):
    assert isinstance(client.swap(media["png"], media["jpg"]), ImageResult)
    assert isinstance(client.swap(media["video"], media["jpg"]), VideoResult)


def test_detect_faces_then_swap_chosen_faces_in_an_image(client: Client, media, watch):
    faces = client.detect_faces(media["group"])
    assert isinstance(faces, FaceSet) and len(faces) >= 2
    assert faces.kind == "image" and faces.source is not None
    for i, face in enumerate(faces):
        assert isinstance(face, Face) and face.index == i
        assert face.path is not None and face.path.exists()
        assert sorted(face.kps) == ["1", "2", "3", "4", "5"] and len(face.points) == 5
        assert face.width and face.height and face.task_id == faces.task_id

    fig = faces.plot()
    assert len([ax for ax in fig.axes if ax.images]) == len(faces)
    png = draw_face(faces[0].image(), faces[0].kps, faces[0].index)
    assert Image.open(io.BytesIO(png)).format == "PNG"
    assert faces._repr_png_().startswith(b"\x89PNG")

    result = client.swap_faces(media["group"], {faces[0]: media["jpg"], faces[1]: media["png"]})
    assert isinstance(result, ImageResult) and result.path.exists()
    rows = watch.assert_no_duplicates()
    assert [r.type for r in rows] == ["get-face", "multiple-face-swap"]
    pairs = rows[1].params["pairs"]
    assert [p["target_part_key"] for p in pairs] == [faces[0].key, faces[1].key]
    assert rows[1].params["get_face_id"] == faces.task_id


def test_swap_faces_by_index_needs_the_faceset(client: Client, media):
    faces = client.detect_faces(media["group"])
    from mio_nb import BadRequestError

    with pytest.raises(BadRequestError, match="FaceSet"):
        client.swap_faces(media["group"], {0: media["jpg"]})
    with pytest.raises(BadRequestError, match="twice"):
        client.swap_faces(None, {1: media["jpg"], faces[1]: media["png"]}, faceset=faces)
    with pytest.raises(BadRequestError, match="no face 9"):
        client.swap_faces(None, {9: media["jpg"]}, faceset=faces)
    result = client.swap_faces(None, {1: media["jpg"]}, faceset=faces)
    assert isinstance(result, ImageResult)


def test_detect_faces_in_a_video_then_swap(client: Client, media, watch):
    faces = client.detect_faces(media["video"])
    assert faces.kind == "video" and len(faces) >= 1
    result = client.swap_faces(media["video"], {faces[0]: media["png"]})
    assert isinstance(result, VideoResult) and result.path.exists()
    assert [r.type for r in watch.assert_no_duplicates()] == [
        "get-face",
        "multiple-video-face-swap",
    ]


def test_submit_refresh_and_look_up_a_task(client: Client, media):
    task = client.submit_image_swap(media["jpg"], media["png"])
    assert isinstance(task, Task) and task.id > 0
    task.refresh()
    assert task.status in (1, 2, 3)
    same = client.task(task.id)
    assert same.type == "face-swap"
    result = same.wait(timeout=30)
    assert isinstance(result, ImageResult) and result.task_id == task.id
    assert same.done and same.result() is result


def test_success_reported_as_status_0(tmp_path: Path, media):
    with Sandbox(port=0, data_dir=tmp_path / "sb0", engine="instant", success_status=0) as sb:
        client = Client.for_sandbox(sb, output_dir=tmp_path / "out", progress=False)
        task = client.submit_image_swap(media["jpg"], media["png"])
        result = task.wait(timeout=30)
        assert isinstance(result, ImageResult) and task.status == 0
        faces = client.detect_faces(media["group"])
        assert len(faces) >= 2
        video = client.swap_video(media["video"], media["png"])
        assert isinstance(video, VideoResult)
        # A task of unknown type (not in this journal) is still recognised by its data.
        other = Client.for_sandbox(sb, output_dir=tmp_path / "elsewhere", progress=False)
        assert isinstance(other.task(video.task_id).wait(timeout=30), VideoResult)
        assert isinstance(other.task(faces.task_id).wait(timeout=30), FaceSet)
        client.close()
        other.close()


def test_client_credentials_flow(sb: Sandbox, tmp_path: Path, media):
    with Client.for_sandbox(
        sb, client_credentials=True, output_dir=tmp_path, progress=False, retry=FAST_RETRY
    ) as client:
        assert isinstance(client.swap_image(media["jpg"], media["png"]), ImageResult)


def test_asset_from_key_guesses_kind():
    assert Asset.from_key("temporary/20240816/3620/x.mp4").kind == "video"
    assert Asset.from_key("133902/asset/202408/y.png").kind == "image"
