"""The instant engine: marked copies at once, real detection when it can, Pillow-only import."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from engine_testkit import load_rgb

from mio_nb import samples
from mio_nb.sandbox.engine import ENGINE_PACKAGES, INSTALL_HINT, EngineError, load_engine, media


@pytest.fixture(scope="module")
def instant():
    return load_engine("instant")


def test_image_swap_is_a_marked_copy(instant, tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    progress: list[float] = []
    instant.swap(
        samples.grace_hopper(), samples.astronaut(), out, hd=False, progress=progress.append
    )
    assert progress == [1.0]
    before, after = load_rgb(samples.grace_hopper()), load_rgb(out)
    assert after.shape == before.shape
    x0, y0, x1, y1 = media.mark_box(before.shape[1], before.shape[0])
    assert np.abs(after[y0:y1, x0:x1] - before[y0:y1, x0:x1]).mean() > 20
    after[y0:y1, x0:x1] = before[y0:y1, x0:x1]
    assert np.abs(after - before).max() <= 0  # PNG is lossless: the rest is the original


def test_video_swap_copies_the_file(instant, tmp_path: Path) -> None:
    video = samples.sample_video(faces=1, seconds=2.0, height=360)
    out = tmp_path / "out.mp4"
    instant.swap_faces(video, [], out, hd=True)
    assert out.read_bytes() == video.read_bytes()
    cover = np.asarray(media.cover(out)).astype(np.int16)
    x0, y0, x1, y1 = media.mark_box(cover.shape[1], cover.shape[0])
    assert (np.abs(cover[y0:y1, x0:x1] - np.array(media.MARK_BOX)).sum(axis=2) < 30).mean() > 0.5


def test_get_faces_uses_the_real_detector_when_installed(instant) -> None:
    parts = instant.get_faces(samples.group_photo(3))
    assert len(parts) == 3
    assert all("whole_image" not in p.record for p in parts)
    video_parts = instant.get_faces(samples.sample_video(faces=2, seconds=2.0, height=360))
    assert len(video_parts) == 2
    json.dumps([p.record for p in parts + video_parts])
    with pytest.raises(EngineError) as info:
        instant.get_faces(samples.no_face())
    assert info.value.code == 602


def test_imports_and_works_with_pillow_only(tmp_path: Path) -> None:
    """Without numpy, OpenCV, dlib and imageio-ffmpeg: "instant" works (whole image as the face),
    "real" says how to install it."""
    script = textwrap.dedent(
        f"""
        import importlib.abc, json, sys
        BLOCK = {{"numpy", "cv2", "dlib", "_dlib_pybind11", "imageio_ffmpeg",
                 "face_recognition_models", "skimage"}}
        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCK:
                    raise ImportError("blocked " + name, name=name)
        sys.meta_path.insert(0, Blocker())
        from pathlib import Path
        from mio_nb.sandbox.engine import load_engine
        try:
            load_engine("real")
            real = "loaded"
        except ImportError as exc:
            real = str(exc)
        engine = load_engine("instant")
        grace, out = Path({str(samples.grace_hopper())!r}), Path({str(tmp_path / "o.png")!r})
        parts = engine.get_faces(grace)
        engine.swap(grace, Path("x"), out, hd=False)
        print(json.dumps({{"real": real, "n": len(parts), "kps": parts[0].kps,
                          "size": parts[0].crop.size, "record": parts[0].record,
                          "numpy": "numpy" in sys.modules}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    hint, _, missing = result["real"].partition(" (missing: ")
    assert hint == INSTALL_HINT and "mio-nb[sandbox]" not in hint
    assert missing.split(",")[0] in ENGINE_PACKAGES.values()  # names the package really missing
    assert result["numpy"] is False
    assert result["n"] == 1 and result["record"]["whole_image"] is True
    assert result["size"] == [512, 600]
    kps = result["kps"]
    assert kps["1"]["x"] < kps["3"]["x"] < kps["2"]["x"]
    assert kps["1"]["y"] < kps["3"]["y"] < kps["4"]["y"]
    assert (tmp_path / "o.png").stat().st_size > 1000
