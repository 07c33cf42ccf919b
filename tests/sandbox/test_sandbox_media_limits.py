"""Pixel limits for images, size and duration limits for videos: code 704 with a clear message,
at upload and at task creation, before any engine sees the file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from sandbox_helpers import Api, huge_png

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.sandbox import Sandbox
from mio_nb.sandbox.media_limits import MAX_IMAGE_SIDE


def put(api: Api, data: bytes, name: str) -> tuple[str, requests.Response]:
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": name})
    return got["key"], requests.put(got["upload_url"], data=data, timeout=60)


def test_a_12000x12000_png_is_refused_at_upload_quickly(api: Api) -> None:
    png = huge_png(12000, 12000)
    assert len(png) < 200_000
    t0 = time.monotonic()
    key, r = put(api, png, "huge.png")
    took = time.monotonic() - t0
    assert r.status_code == 400
    env = r.json()
    assert env["code"] == 704
    assert env["message"] == (
        "Only supported files: Max 500 MB; images up to 36 megapixels and 8192 px a side "
        "(this one is 12000x12000)"
    )
    assert took < 2.0, took
    assert api.post(P.ACCESS_URL_PATH, {"key": key})["code"] == 702  # nothing was stored
    assert not any((api.sb.data_dir / "tmp").iterdir())


@pytest.mark.parametrize("size", [(6000, 6000), (MAX_IMAGE_SIDE, 100)])
def test_images_at_the_limit_are_accepted(api: Api, size: tuple[int, int]) -> None:
    _, r = put(api, huge_png(*size), "edge.png")
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("size", [(6001, 6000), (MAX_IMAGE_SIDE + 1, 100)])
def test_images_over_the_limit_are_refused(api: Api, size: tuple[int, int]) -> None:
    _, r = put(api, huge_png(*size), "over.png")
    assert r.status_code == 400 and r.json()["code"] == 704
    assert f"{size[0]}x{size[1]}" in r.json()["message"]


def test_a_stored_huge_image_is_refused_at_task_creation(sb: Sandbox, api: Api) -> None:
    """A file stored before the limits existed (an older data dir): refused before any engine
    runs, and no task is created or paid."""
    face = api.upload(samples.astronaut())
    old = "temporary/20240101/sandbox/1-00000000-0000-0000-0000-00000000000a.png"
    path = sb.data_dir / "objects" / old
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(huge_png(12000, 12000))
    tasks = len(sb.tasks())
    env = api.post(P.FACE_SWAP_PATH, {"main_key": old, "target_key": face})
    assert env["code"] == 704 and "12000x12000" in env["message"], env
    env = api.post(P.FACE_SWAP_PATH, {"main_key": face, "target_key": old})
    assert env["code"] == 704 and env["message"].startswith("Only supported files: Max 500 MB")
    assert api.post(P.GET_FACE_PATH, {"main_key": old})["code"] == 704
    assert len(sb.tasks()) == tasks


def _video(tmp: Path, size: tuple[int, int], frames: int, fps: float) -> bytes:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    out = tmp / f"v-{size[0]}x{size[1]}-{frames}.mp4"
    writer = imageio_ffmpeg.write_frames(
        str(out), size, fps=fps, macro_block_size=1, output_params=["-preset", "ultrafast"]
    )
    writer.send(None)
    frame = bytes(size[0] * size[1] * 3)
    for _ in range(frames):
        writer.send(frame)
    writer.close()
    return out.read_bytes()


def test_videos_over_the_limits_are_refused(api: Api, tmp_path: Path) -> None:
    wide = _video(tmp_path, (3842, 64), 1, 1)
    _, r = put(api, wide, "wide.mp4")
    assert r.status_code == 400 and r.json()["code"] == 704
    assert "videos up to 3840x2160 px and 300 s (this one is 3842x64" in r.json()["message"]
    long = _video(tmp_path, (32, 32), 302, 1)
    _, r = put(api, long, "long.mp4")
    assert r.status_code == 400 and r.json()["code"] == 704
    assert "(this one is 32x32, 302 s)" in r.json()["message"]


def test_the_sample_video_is_within_the_limits(api: Api) -> None:
    _, r = put(api, samples.sample_video().read_bytes(), "sample.mp4")
    assert r.status_code == 200, r.text
