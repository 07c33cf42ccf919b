"""The sandbox's uploads: an upload URL works once (an input a task used cannot be replaced),
uploads share a disk quota (704 beyond it), and a video's length is counted from its packets,
not read from a header that can lie."""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sandbox_helpers import Api

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.client import Client
from mio_nb.errors import FileTooLargeError
from mio_nb.sandbox import Sandbox


def _ticket(api: Api, name: str) -> dict[str, str]:
    return api.ok(P.UPLOAD_URL_PATH, {"file_name": name})


def test_an_upload_url_works_once(sb: Sandbox, api: Api) -> None:
    first = samples.grace_hopper().read_bytes()
    other = samples.astronaut().read_bytes()
    ticket = _ticket(api, "a.jpg")
    assert requests.put(ticket["upload_url"], data=first, timeout=30).status_code == 200
    again = requests.put(ticket["upload_url"], data=other, timeout=30)
    assert again.status_code == 403 and b"used already" in again.content
    assert (sb.data_dir / "objects" / ticket["key"]).read_bytes() == first


def test_an_input_a_task_used_cannot_be_replaced(sb: Sandbox, api: Api) -> None:
    photo = samples.grace_hopper().read_bytes()
    ticket = _ticket(api, "main.jpg")
    assert requests.put(ticket["upload_url"], data=photo, timeout=30).status_code == 200
    face = api.upload(samples.astronaut())
    task = api.create(P.FACE_SWAP_PATH, {"main_key": ticket["key"], "target_key": face})
    api.done(task)
    replaced = requests.put(ticket["upload_url"], data=samples.astronaut().read_bytes(), timeout=30)
    assert replaced.status_code == 403
    assert (sb.data_dir / "objects" / ticket["key"]).read_bytes() == photo


def test_two_uploads_at_once_to_one_url_store_one(sb: Sandbox, api: Api) -> None:
    import io

    from PIL import Image

    ticket = _ticket(api, "a.png")
    pngs = []
    for i in range(2):
        buf = io.BytesIO()
        Image.new("RGB", (300 + i, 300), (i * 100, 50, 50)).save(buf, format="PNG")
        pngs.append(buf.getvalue())
    statuses: list[int] = []

    def put(body: bytes) -> None:
        statuses.append(requests.put(ticket["upload_url"], data=body, timeout=30).status_code)

    threads = [threading.Thread(target=put, args=(b,)) for b in pngs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 403]
    assert (sb.data_dir / "objects" / ticket["key"]).read_bytes() in pngs


@pytest.fixture
def small_quota(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(engine="instant", data_dir=tmp_path / "q", upload_quota=250_000) as sandbox:
        yield sandbox


def test_uploads_beyond_the_quota_are_refused_with_704(
    small_quota: Sandbox, tmp_path: Path
) -> None:
    api = Api(small_quota)
    photo = samples.grace_hopper().read_bytes()  # ~ 60-120 KB
    codes = []
    for i in range(8):
        ticket = _ticket(api, f"p{i}.jpg")
        r = requests.put(ticket["upload_url"], data=photo, timeout=30)
        codes.append(200 if r.status_code == 200 else r.json()["code"])
        if r.status_code != 200:
            assert "quota" in r.json()["message"]
    stored = codes.count(200)
    assert stored == 250_000 // len(photo)
    assert set(codes[stored:]) == {704}
    assert not list((small_quota.data_dir / "tmp").iterdir())  # no part left behind
    # The client says so in its own words.
    with Client.for_sandbox(small_quota, output_dir=tmp_path / "out", progress=False) as c:
        with pytest.raises(FileTooLargeError) as caught:
            c.upload(samples.grace_hopper())
        assert "quota" in str(caught.value)


def _lying_mp4(tmp: Path, seconds: int, fps: int, factor: int) -> Path:
    """A real video of ``seconds`` (every frame decodes) whose headers claim ``factor`` times
    less: the durations of mvhd, tkhd and mdhd (version 0 boxes) are rewritten."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    import subprocess

    out = tmp / f"real-{seconds}-{fps}.mp4"
    source = f"color=c=gray:s=32x32:r={fps}:d={seconds}"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            source,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-use_editlist",
            "0",
            str(out),
        ],
        check=True,
    )
    data = bytearray(out.read_bytes())
    claim = max(1, seconds // factor)
    i = data.find(b"mvhd")
    (scale,) = struct.unpack(">I", data[i + 16 : i + 20])
    data[i + 20 : i + 24] = struct.pack(">I", scale * claim)
    i = data.find(b"tkhd")
    data[i + 24 : i + 28] = struct.pack(">I", scale * claim)
    i = data.find(b"mdhd")
    (track_scale,) = struct.unpack(">I", data[i + 16 : i + 20])
    data[i + 20 : i + 24] = struct.pack(">I", track_scale * claim)
    lying = tmp / f"lying-{seconds}-{fps}.mp4"
    lying.write_bytes(bytes(data))
    return lying


@pytest.mark.parametrize(
    ("seconds", "fps", "factor"),
    [(400, 2, 40), (320, 1, 10), (20, 1000, 1)],
    ids=["400s-says-10s", "320s-says-32s", "20000-frames"],
)
def test_a_video_whose_header_lies_is_stopped_by_the_sandbox(
    sb: Sandbox, api: Api, tmp_path: Path, seconds: int, fps: int, factor: int
) -> None:
    from mio_nb.sandbox.engine import media

    lying = _lying_mp4(tmp_path, seconds, fps, factor)
    if factor > 1:
        assert media.probe(lying).duration < 300  # the header's claim
    ticket = _ticket(api, "v.mp4")
    r = requests.put(ticket["upload_url"], data=lying.read_bytes(), timeout=60)
    assert r.status_code == 400 and r.json()["code"] == 704, r.text
    assert "300 s" in r.json()["message"]


def test_an_honest_video_within_the_limits_passes(api: Api, tmp_path: Path) -> None:
    video = _lying_mp4(tmp_path, 30, 5, 1)
    ticket = _ticket(api, "ok.mp4")
    assert (
        requests.put(ticket["upload_url"], data=video.read_bytes(), timeout=60).status_code == 200
    )


@pytest.mark.parametrize(("seconds", "fps"), [(400, 2), (330, 1)])
def test_the_engine_stops_decoding_a_lying_video_at_the_limit(
    tmp_path: Path, seconds: int, fps: int
) -> None:
    """Were a lying video stored (an older data dir), its decoding stops at the limit."""
    pytest.importorskip("numpy")
    from mio_nb.sandbox.engine import EngineError
    from mio_nb.sandbox.engine.video import VideoReader
    from mio_nb.sandbox.media_limits import MAX_VIDEO_SECONDS

    lying = _lying_mp4(tmp_path, seconds, fps, 10)
    decoded = 0
    with VideoReader(lying) as reader, pytest.raises(EngineError) as caught:
        assert reader.duration is not None and reader.duration < MAX_VIDEO_SECONDS
        for _ in reader:
            decoded += 1
    assert caught.value.code == 704
    assert decoded <= (MAX_VIDEO_SECONDS + 1) * fps
