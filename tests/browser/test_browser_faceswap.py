"""FaceSwapWidget end to end in a real JupyterLab: files in through the page, clicks, a result out.

The widget runs on the local sandbox (no MIOCREATE_* variable reaches the kernel) with the real
engine. Each step leaves a screenshot in tests/artifacts/; the finished image swap is also saved as
tests/artifacts/widget-finished-swap.png for the README.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

pytest.importorskip("mio_nb.widget", reason="mio_nb.widget (FaceSwapWidget) cannot be imported yet")
from mio_nb import samples

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DETECT_TIMEOUT = 180
SWAP_TIMEOUT = 300

_JS_IMG_LOADED = "img => img.complete && img.naturalWidth > 0"


def test_image_swap_three_faces_two_new_faces(lab, faceswap) -> None:
    original = samples.group_photo(faces=3)
    # The group photo's faces are Grace Hopper, the astronaut, Grace Hopper again: new face A is
    # the astronaut and B is Grace, so the pairs 1 -> A and 2 -> B both visibly change a face.
    astronaut, grace = samples.astronaut(), samples.grace_hopper()
    faceswap.show("faceswap_image")
    lab.shot("widget-shown")

    faceswap.upload_original(original)
    faceswap.wait_visible(faceswap.button("Detected face 3"), DETECT_TIMEOUT, "3 detected faces")
    expect(faceswap.detected_faces()).to_have_count(3)
    lab.shot("original-faces-detected")

    faceswap.add_new_face(astronaut)
    faceswap.wait_visible(faceswap.button("New face A"), DETECT_TIMEOUT, "new face A")
    faceswap.add_new_face(grace)
    faceswap.wait_visible(faceswap.button("New face B"), DETECT_TIMEOUT, "new face B")
    expect(faceswap.new_faces()).to_have_count(2)
    lab.shot("new-faces-added")

    swap = faceswap.button("Swap")
    for face, new in (("1", "A"), ("2", "B")):
        faceswap.button(f"Detected face {face}").click()
        faceswap.button(f"New face {new}").click()
    expect(swap).to_be_enabled(timeout=15_000)
    lab.shot("paired-1A-2B")
    # The clicks reached Python: face 3 stays as it is.
    pairs = lab.kernel_exec("print(sorted(w.pairs.items()))").strip()
    assert pairs == "[(1, 'A'), (2, 'B')]", pairs

    swap.click()
    result = faceswap.root.locator('img[alt="Swap result"]')
    faceswap.wait_visible(result, SWAP_TIMEOUT, "the swap result image")
    result.scroll_into_view_if_needed()
    expect(result).to_be_visible()
    lab.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=result.element_handle(), timeout=30_000
    )
    assert result.evaluate("img => img.naturalWidth") > 0
    lab.shot("swap-finished")
    # The README's screenshot: the whole widget with its finished swap.
    lab.shot("widget-finished", element=faceswap.root, copy_to="widget-finished-swap.png")

    # The kernel side agrees: an image result, saved to a file ...
    out = lab.kernel_exec(
        "r = w.result\nprint(type(r).__name__)\nprint(getattr(r, 'path', ''))\n"
    ).splitlines()
    assert out[0] == "ImageResult", out
    saved = Path(out[1])
    assert saved.is_file(), out
    # ... where faces 1 and 2 changed and face 3 (unpaired) did not.
    changed = changed_share_by_column(original, saved, columns=3)
    assert changed[0] > 0.01 and changed[1] > 0.01, changed
    assert changed[2] < 0.001, changed


def changed_share_by_column(before: Path, after: Path, columns: int) -> list[float]:
    """Share of clearly changed pixels in each vertical strip (the bottom, with the sandbox mark,
    left out). The group photo has one face per strip."""
    with Image.open(before) as a, Image.open(after) as b:
        assert a.size == b.size, (a.size, b.size)
        diff = np.abs(
            np.asarray(a.convert("RGB"), dtype=np.int16) - np.asarray(b.convert("RGB"), np.int16)
        ).max(axis=2)
    height, width = diff.shape
    diff = diff[: int(height * 0.85)]
    strips = [diff[:, i * width // columns : (i + 1) * width // columns] for i in range(columns)]
    return [float((strip > 20).mean()) for strip in strips]


def test_video_swap_plays(lab, faceswap) -> None:
    video = samples.sample_video(faces=1, seconds=1.5)
    faceswap.show("faceswap_video")

    faceswap.upload_original(video)
    faceswap.wait_visible(faceswap.button("Detected face 1"), DETECT_TIMEOUT, "the video's face")
    expect(faceswap.detected_faces()).to_have_count(1)
    lab.shot("video-face-detected")

    faceswap.add_new_face(samples.astronaut())  # the clip shows Grace Hopper: a visible change
    faceswap.wait_visible(faceswap.button("New face A"), DETECT_TIMEOUT, "new face A")
    swap = faceswap.button("Swap")
    # One detected face and one new face: the widget pairs them by itself.
    expect(swap).to_be_enabled(timeout=15_000)
    lab.shot("video-auto-paired")

    swap.click()
    # (The original plays in its own preview now: the result is the player named so.)
    player = faceswap.root.locator('video[aria-label="Swap result"]')
    faceswap.wait_visible(player, SWAP_TIMEOUT, "the swapped video")
    player.scroll_into_view_if_needed()
    lab.page.wait_for_function(
        "v => v.readyState >= 2 && v.videoWidth > 0", arg=player.element_handle(), timeout=60_000
    )
    duration = player.evaluate("v => v.duration")
    assert 1.0 <= duration <= 2.5, f"the swapped clip lasts {duration} s, the original 1.5 s"
    # It really plays: muted playback moves the clock forward.
    player.evaluate("v => { v.muted = true; return v.play(); }")
    lab.page.wait_for_function(
        "v => v.currentTime > 0.2", arg=player.element_handle(), timeout=30_000
    )
    lab.shot("video-swap-playing")

    out = lab.kernel_exec(
        "import pathlib\n"
        "r = w.result\n"
        "p = pathlib.Path(getattr(r, 'path', ''))\n"
        "print(type(r).__name__, p.suffix, p.is_file() and p.stat().st_size > 0)\n"
    )
    assert out.split() == ["VideoResult", ".mp4", "True"], out
