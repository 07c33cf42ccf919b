"""FaceSwapWidget v3 as a newcomer meets it, in JupyterLab and Notebook 7, light and dark, at
1400x1000 and 1000x800, on a real frame of the shared clips (read in place, saved to tmp) and
the portraits:

- after clicking a face on the photo, the new faces are in view (a pair is two clicks, no scroll);
- faces are numbered 1, 2, ... in reading order on the photo;
- the result as first shown is the whole swapped picture: it differs from the original at every
  paired face (pixels on screen); the comparison (labelled, with a divider) only on demand;
- a text file named .jpg and a video given as a new face get messages saying what they are;
- a new face with no face in it cannot be paired, and its card says why;
- nothing stale after a new original (no comparison with the old one);
- a video original shows one clickable box per person on a frame, with when each is seen.
"""

from __future__ import annotations

import io
import itertools
import subprocess
from pathlib import Path

import numpy as np
import pytest
from faceswap_v2_testkit import DARK, LIGHT, set_theme
from PIL import Image
from playwright.sync_api import expect
from test_browser_faceswap_v2 import DETECT, SWAP, WIDGET_CELL, pairs

from mio_nb import samples

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REAL = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real"
if not REAL.is_dir():
    REAL = Path("/work/shared/fixtures/real")


def real_frame(tmp_path: Path, clip: str, index: int, scale: int = 2) -> Path:
    with Image.open(REAL / clip) as gif:
        gif.seek(index)
        frame = gif.convert("RGB")
    frame = frame.resize((frame.width * scale, frame.height * scale), Image.Resampling.LANCZOS)
    path = tmp_path / f"{Path(clip).stem}-{index}.jpg"
    frame.save(path, quality=95)
    return path


def in_view(locator) -> bool:
    """The element is wholly inside the window (no scrolling needed to see or click it)."""
    return locator.evaluate(
        """el => { const r = el.getBoundingClientRect();
                   return r.width > 0 && r.top >= 0 && r.left >= 0 &&
                          r.bottom <= window.innerHeight && r.right <= window.innerWidth; }"""
    )


def open_widget(lab, faceswap, name: str, ui: str, theme: str) -> None:
    path = lab.write_notebook(name, [WIDGET_CELL])
    lab.open_notebook(path, ui=ui)
    lab.run_all(timeout=300)
    if ui == "lab":
        lab.collapse_sidebars()
    if theme == DARK:
        set_theme(lab, DARK)
    faceswap.wait_visible(faceswap.button("Choose original"), 120, "the widget")


def boxes_on_photo(faceswap) -> list[dict]:
    return faceswap.root.locator(".mio-photo > .mio-photo-stage .mio-box").evaluate_all(
        """els => els.map(e => { const r = e.getBoundingClientRect();
             return {face: Number(e.dataset.face), x: r.x, y: r.y, w: r.width, h: r.height}; })"""
    )


def screen_picture(locator) -> Image.Image:
    locator.scroll_into_view_if_needed()
    return Image.open(io.BytesIO(locator.screenshot())).convert("RGB")


@pytest.mark.timeout(1500)
@pytest.mark.parametrize(
    "ui, theme, size",
    [
        ("lab", LIGHT, (1400, 1000)),
        ("lab", DARK, (1000, 800)),
        ("notebook", DARK, (1400, 1000)),
        ("notebook", LIGHT, (1000, 800)),
    ],
    ids=["lab-light-1400", "lab-dark-1000", "nb7-dark-1400", "nb7-light-1000"],
)
def test_pairing_in_one_view_and_the_result_shown_whole(
    lab, faceswap, tmp_path: Path, ui: str, theme: str, size: tuple[int, int]
) -> None:
    lab.page.set_viewport_size({"width": size[0], "height": size[1]})
    open_widget(lab, faceswap, f"widget_v3_{ui}_{size[0]}", ui, theme)
    try:
        group = real_frame(tmp_path, "face-demographics-walking-and-pause.gif", 20)
        root = faceswap.root

        # Messages that say what the file is, in the slot's own terms.
        notes = tmp_path / "notes.jpg"
        notes.write_text("Meeting notes\n- buy milk\n")
        faceswap.add_new_face(notes)
        text_said = "notes.jpg is text, not a picture: use JPG, PNG, WEBP or GIF."
        expect(root.get_by_text(text_said)).to_be_visible()
        clip = tmp_path / "clip.mp4"
        clip.write_bytes(Path(samples.sample_video(faces=1, seconds=1.0, height=240)).read_bytes())
        faceswap.add_new_face(clip)
        video_said = "clip.mp4 is a video, not a picture: a new face must be a picture"
        expect(root.get_by_text(video_said)).to_be_visible()
        faceswap.upload_original(notes)
        expect(
            root.get_by_text("notes.jpg is text, not a picture or a video: use JPG")
        ).to_be_visible()

        # The original, its faces numbered in reading order on the photo.
        faceswap.upload_original(group)
        faceswap.wait_visible(faceswap.button("Face 2 on the photo"), DETECT, "boxes on the photo")
        boxes = boxes_on_photo(faceswap)
        assert [b["face"] for b in boxes] == list(range(1, len(boxes) + 1)) and len(boxes) >= 2
        for a, b in itertools.pairwise(boxes):
            same_row = abs((a["y"] + a["h"] / 2) - (b["y"] + b["h"] / 2)) < max(a["h"], b["h"]) / 2
            assert (b["x"] > a["x"]) if same_row else (b["y"] > a["y"]), boxes

        faceswap.add_new_face(Path(samples.grace_hopper()))
        faceswap.add_new_face(Path(samples.astronaut()))
        faceswap.add_new_face(Path(samples.no_face()))
        expect(faceswap.new_faces()).to_have_count(3)
        faceless = faceswap.button("New face C")
        expect(root.get_by_text("it cannot be paired")).to_be_visible(timeout=DETECT * 1000)
        expect(faceless).to_have_attribute("aria-disabled", "true")

        # Pairing in one view: click a face on the photo, and the new faces are right there.
        chosen = {1: "A", len(boxes): "B"}
        for face, label in chosen.items():
            box = faceswap.button(f"Face {face} on the photo")
            box.scroll_into_view_if_needed()
            box.click()
            card = faceswap.button(f"New face {label}")
            assert in_view(card), f"new face {label} is out of view after clicking face {face}"
            assert in_view(box), "the photo scrolled away"
            card.click()
        # The faceless one cannot be paired by clicks.
        faceswap.button("Face 2 on the photo").click()
        assert in_view(faceless)
        faceless.click(force=True)  # aria-disabled: a person can still try
        assert pairs(lab) == str(sorted(chosen.items()))

        # The result, as first shown, is the whole swapped picture.
        faceswap.button("Swap").click()
        result = root.locator("img.mio-result-img")
        faceswap.wait_visible(result, SWAP, "the result")
        lab.page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=result.element_handle()
        )
        assert root.locator(".mio-compare-stage").count() == 0, "a comparison shown by default"
        shown = screen_picture(result)
        original = Image.open(group).convert("RGB").resize(shown.size)
        a, b = np.asarray(original, np.float32), np.asarray(shown, np.float32)
        faces = eval(lab.kernel_exec("print([f['box'] for f in w.faces])"))
        width = Image.open(group).width
        k = shown.width / width
        for face, box in enumerate(faces, start=1):
            x, y, w, h = (round(v * k) for v in box)
            x, y, w, h = x + w // 5, y + h // 5, w * 3 // 5, h * 3 // 5
            diff = float(np.abs(a[y : y + h, x : x + w] - b[y : y + h, x : x + w]).mean())
            if face in chosen:
                assert diff > 4.0, f"face {face} looks unchanged on screen ({diff:.1f})"
            else:
                assert diff < 4.0, f"face {face} changed though not paired ({diff:.1f})"
        lab.shot(f"result-first-shown-{ui}-{size[0]}", element=root)

        # The comparison only when asked for: labelled, with a visible divider.
        faceswap.button("Compare with the original").click()
        stage = root.locator(".mio-compare-stage")
        expect(stage.get_by_text("Before", exact=True)).to_be_visible()
        expect(stage.get_by_text("After", exact=True)).to_be_visible()
        divider = stage.locator(".mio-compare-divider")
        expect(divider).to_be_visible()
        assert divider.bounding_box()["width"] >= 2
        lab.shot(f"compare-{ui}-{size[0]}", element=root)
        faceswap.button("Show the result alone").click()
        expect(root.locator("img.mio-result-img")).to_be_visible()

        # A new original: nothing of the old one stays on the result.
        faceswap.upload_original(Path(samples.grace_hopper()))
        found = root.get_by_text(f"Found 1 face in {Path(samples.grace_hopper()).name}")
        faceswap.wait_visible(found, DETECT, "the new original's face")
        expect(root.locator(".mio-photo > .mio-photo-stage .mio-box")).to_have_count(1)
        expect(faceswap.button("Compare with the original")).to_be_hidden()
        assert root.locator(".mio-compare-stage, .mio-side-by-side").count() == 0
        assert pairs(lab) == "[]"  # the old original's pairs are gone
    finally:
        if theme == DARK:
            set_theme(lab, LIGHT)


@pytest.mark.timeout(900)
def test_a_videos_people_are_boxed_on_a_frame_and_pair_by_click(
    lab, faceswap, tmp_path: Path
) -> None:
    import imageio_ffmpeg

    lab.page.set_viewport_size({"width": 1400, "height": 1000})
    clip = tmp_path / "two-people.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error",
         "-i", str(REAL / "head-pose-face-detection-female-and-male.gif"), "-t", "3",
         "-movflags", "+faststart", "-pix_fmt", "yuv420p",
         "-vf", "scale=trunc(iw*2/2)*2:trunc(ih*2/2)*2", str(clip)],
        check=True, timeout=120,
    )  # fmt: skip
    open_widget(lab, faceswap, "widget_v3_video", "lab", LIGHT)
    faceswap.upload_original(clip)
    people = faceswap.root.locator(".mio-people .mio-box")
    faceswap.wait_visible(people, DETECT, "the people on a frame")
    faces = int(lab.kernel_exec("print(len(w.faces))"))
    expect(people).to_have_count(faces)
    assert faces >= 2
    labels = people.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert labels[0].startswith("Face 1 in the video, seen at 0:0"), labels
    frame = faceswap.root.locator(".mio-people-frame img").first
    lab.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=frame.element_handle()
    )
    expect(faceswap.root.locator(".mio-people-frame figcaption").first).to_contain_text("seen at")
    faceswap.add_new_face(Path(samples.grace_hopper()))
    expect(faceswap.new_faces()).to_have_count(1)
    box = people.nth(1)
    box.scroll_into_view_if_needed()
    box.click()
    card = faceswap.button("New face A")
    assert in_view(card)
    card.click()
    assert pairs(lab) == "[(2, 'A')]"
    lab.shot("video-people-on-a-frame", element=faceswap.root)
