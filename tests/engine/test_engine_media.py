"""media: probe, cover, thumbnail and the mark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mio_nb import samples
from mio_nb.sandbox.engine import EngineError, media


def test_probe_image_and_video() -> None:
    info = media.probe(samples.grace_hopper())
    assert (info.kind, info.width, info.height, info.duration, info.fps) == (
        "image",
        512,
        600,
        None,
        None,
    )
    video = media.probe(samples.sample_video(faces=1, seconds=2.0, height=360))
    assert (video.kind, video.width, video.height, video.fps) == ("video", 624, 352, 24.0)
    assert video.duration == pytest.approx(2.0, abs=0.1)


def test_cover_is_the_first_frame_or_the_image() -> None:
    video = samples.sample_video(faces=1, seconds=2.0, height=360)
    plain = media.cover(video, marked=False)
    assert plain.size == (624, 352) and plain.mode == "RGB"
    marked = media.cover(video)
    x0, y0, x1, y1 = media.mark_box(*marked.size)
    a, b = np.asarray(plain).astype(int), np.asarray(marked).astype(int)
    assert np.abs(a - b)[y0:y1, x0:x1].mean() > 10
    b[y0:y1, x0:x1] = a[y0:y1, x0:x1]
    assert np.array_equal(a, b)
    # Marking twice draws the same pixels.
    assert media.mark(marked).tobytes() == marked.tobytes()
    image = media.cover(samples.astronaut(), marked=False)
    assert image.tobytes() == Image.open(samples.astronaut()).convert("RGB").tobytes()


def test_thumbnail_keeps_the_aspect() -> None:
    big = Image.new("RGB", (1600, 900), (10, 20, 30))
    thumb = media.thumbnail(big)
    assert thumb.size == (540, 304)
    small = Image.new("RGB", (300, 200))
    assert media.thumbnail(small).size == (300, 200)
    assert media.thumbnail(big, max_side=100).size == (100, 56)


@pytest.mark.parametrize("size", [(40, 30), (512, 600), (1920, 1080)])
def test_mark_fits_small_and_big_pictures(size: tuple[int, int]) -> None:
    x0, y0, x1, y1 = media.mark_box(*size)
    assert 0 <= x0 < x1 <= size[0] and 0 <= y0 < y1 <= size[1]
    assert (x1 - x0) * (y1 - y0) < 0.6 * size[0] * size[1] or min(size) < 50
    marked = media.mark(Image.new("RGB", size, (255, 255, 255)))
    assert marked.size == size
    assert marked.getpixel((x0, y0)) == media.MARK_BOX


def test_unreadable_files_are_701(tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(EngineError) as info:
        media.probe(text)
    assert info.value.code == 701
    video = tmp_path / "cut.mp4"
    video.write_bytes(samples.sample_video(faces=1, seconds=2.0, height=360).read_bytes()[:2000])
    with pytest.raises(EngineError) as info:
        media.cover(video)
    assert info.value.code == 701


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_a_stored_png_reads_back_pixel_for_pixel(tmp_path: Path, mode: str) -> None:
    """compress_level=0 (the instant engine's results) writes its own stored PNG: any reader
    gets the same pixels back."""
    image = media.mark(media.open_image(samples.grace_hopper())).convert(mode)
    out = tmp_path / "stored.png"
    media.save_png(image, out, compress_level=0)
    with Image.open(out) as back:
        back.load()
        assert back.format == "PNG" and back.mode == mode and back.size == image.size
        assert back.tobytes() == image.tobytes()
