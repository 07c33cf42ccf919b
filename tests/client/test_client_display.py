"""What results put into a notebook (issue 9): light pictures, self-contained video players.

Real files (the sample portraits, a sample video, a large noisy photo), the bundles the package
builds from them, and what each holds: a picture under its cap that is not blank, a video
embedded as a data URL with a picture as its poster, a too-large video shown by its poster and
named in the caption, never a URL of the Jupyter server's files."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageStat

from mio_nb import samples
from mio_nb.display import (
    IMAGE_OUTPUT_MAX_BYTES,
    image_bundle,
    image_preview,
    video_bundle,
    video_caption_note,
)
from mio_nb.results import ImageResult, VideoResult


def _picture(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    assert ImageStat.Stat(img.convert("L")).stddev[0] > 8, "blank picture"
    return img


def test_a_large_photo_displays_as_a_light_display_sized_copy(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    with Image.open(samples.grace_hopper()) as img:
        big = img.convert("RGB").resize((3000, 3500))
    noisy = np.asarray(big, dtype=np.int16) + rng.normal(0, 12, (3500, 3000, 3)).astype(np.int16)
    path = tmp_path / "big.png"
    Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(path)
    assert path.stat().st_size > 10_000_000
    mime, data = image_preview(path)
    assert mime == "image/jpeg" and len(data) <= IMAGE_OUTPUT_MAX_BYTES
    assert max(_picture(data).size) <= 960
    # A drawing (few colours) stays a PNG.
    mime, data = image_preview(samples.group_photo(faces=1))
    assert mime == "image/png" and len(data) <= IMAGE_OUTPUT_MAX_BYTES


def test_image_result_bundle_and_caption(tmp_path: Path) -> None:
    result = ImageResult(task_id=7, path=Path(samples.astronaut()), width=512, height=512)
    bundle = result._repr_mimebundle_()
    (mime,) = set(bundle) - {"text/plain"}
    assert _picture(bundle[mime]).size[0] > 100
    assert bundle["text/plain"].startswith("ImageResult(task_id=7")
    assert result._caption().startswith(f"Saved at {result.path} (512x512, ")
    assert image_bundle(result.path, "x")["text/plain"] == "x"


def test_video_embeds_with_a_picture_as_poster_and_no_server_url(tmp_path: Path) -> None:
    video = samples.sample_video(faces=1, seconds=1.0, height=240)
    cover = samples.grace_hopper()
    bundle = video_bundle(video, cover, "VideoResult(...)")
    html = bundle["text/html"]
    assert html.startswith("<video") and "files/" not in html and str(video) not in html
    src = html.split('src="data:video/mp4;base64,', 1)[1].split('"', 1)[0]
    assert base64.b64decode(src) == video.read_bytes()
    poster = html.split('poster="data:', 1)[1].split(";base64,", 1)
    assert poster[0] in ("image/jpeg", "image/png")
    assert _picture(base64.b64decode(poster[1].split('"', 1)[0])).size[0] > 100
    assert video_caption_note(video) == ""


def test_a_video_over_the_cap_shows_its_poster_and_says_why(tmp_path: Path) -> None:
    video = samples.sample_video(faces=1, seconds=1.0, height=240)
    bundle = video_bundle(video, samples.grace_hopper(), "text", max_bytes=1000)
    assert "text/html" not in bundle  # no video bytes in the notebook
    (mime,) = set(bundle) - {"text/plain"}
    assert _picture(bundle[mime]).size[0] > 100
    assert "open the file" in video_caption_note(video, max_bytes=1000)
    result = VideoResult(task_id=3, path=video, cover_path=None, duration=1.0)
    assert result._repr_mimebundle_()["text/html"].startswith("<video")
    assert "poster=" not in result._repr_mimebundle_()["text/html"]  # no cover, no poster
    assert result._caption().startswith(f"Saved at {video} (1.0 s, ")
