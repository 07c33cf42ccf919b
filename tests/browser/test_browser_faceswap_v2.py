"""FaceSwapWidget v2 in a real JupyterLab, driven as a person would: faces boxed on the photo
where they really are, pairing by clicking the photo, re-pairing in one action, explicit undo,
new-face photos with two faces and with none, keyboard-only pairing, removal with undo, Stop
waiting + Resume, the result brought into view with a before/after slider, a video original's
preview and side-by-side result, and measured contrast in the dark theme. Every step leaves a
light and a dark screenshot in tests/artifacts/.

The widget runs on a sandbox started inside the notebook's kernel (real engine), so the test
can slow its tasks down for Stop waiting."""

from __future__ import annotations

import re
import time

import pytest
from faceswap_v2_testkit import DARK, LIGHT, contrast, set_theme, shots
from playwright.sync_api import expect

from mio_nb import samples

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DETECT = 180
SWAP = 300

WIDGET_CELL = """\
from mio_nb import FaceSwapWidget
from mio_nb.client import Client
from mio_nb.sandbox import Faults, Sandbox
sb = Sandbox(port=0, engine="real").__enter__()
w = FaceSwapWidget(client=Client.for_sandbox(sb, progress=False))
w"""


def show(lab, faceswap, name: str) -> None:
    lab.new_notebook_and_run(name, [WIDGET_CELL])
    lab.collapse_sidebars()
    faceswap.wait_visible(faceswap.button("Choose original"), 120, "the widget")


def status_in(faceswap, section: str):
    """The status line a section shows (none when it shows none)."""
    region = faceswap.root.get_by_role("region", name=section, exact=True)
    return region.get_by_role("status")


def pairs(lab) -> str:
    return lab.kernel_exec("print(sorted(w.pairs.items()))").strip()


def press_tab_to(lab, name: str, limit: int = 60) -> None:
    """Tab forward until the focused element's accessible name is ``name``."""
    for _ in range(limit):
        lab.page.keyboard.press("Tab")
        focused = lab.page.evaluate(
            "() => document.activeElement && document.activeElement.getAttribute('aria-label')"
        )
        if focused == name:
            return
    pytest.fail(f"{name!r} cannot be reached with Tab")


def test_faces_on_the_photo_pairing_checks_and_stop_waiting(lab, faceswap) -> None:
    show(lab, faceswap, "faceswap_v2")
    # The status shows in the section it is about (the kernel names it, whatever the words).
    expect(status_in(faceswap, "Original")).to_have_text(
        "Choose an original (image or video) to start."
    )
    expect(status_in(faceswap, "Swap section")).to_have_count(0)
    photo = samples.group_photo(faces=3)  # 896x320: tiles of 256 at x = 32 + 288 i, y = 32
    faceswap.upload_original(photo)
    faceswap.wait_visible(faceswap.button("Face 3 on the photo"), DETECT, "3 boxes on the photo")
    expect(status_in(faceswap, "Original")).to_have_text(f"Found 3 faces in {photo.name}.")
    expect(status_in(faceswap, "Swap section")).to_have_count(0)
    img = faceswap.root.locator("img.mio-photo-img")
    lab.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=img.element_handle()
    )
    shots(lab, "faces-on-the-photo", element=faceswap.root)

    # Boxes sit on the true faces: each tile's face is its middle third (centre 128, 128).
    shown = img.bounding_box()
    scale = shown["width"] / 896
    for i in range(3):
        box = faceswap.button(f"Face {i + 1} on the photo").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        true_x, true_y = shown["x"] + (32 + 288 * i + 128) * scale, shown["y"] + 160 * scale
        assert abs(cx - true_x) <= 4 and abs(cy - true_y) <= 4, (i, cx, true_x, cy, true_y)
        assert box["width"] >= 85 * scale  # holds the whole face box (85 px)
        # Five keypoints drawn inside it.
        assert faceswap.button(f"Face {i + 1} on the photo").locator(".mio-kp").count() == 5
    expect(faceswap.detected_faces()).to_have_count(3)  # the cards keep their names

    # New faces: one portrait, a photo with two faces, a photo with none; each checked at once.
    faceswap.add_new_face(samples.astronaut())
    two = samples.group_photo(faces=2)
    faceswap.add_new_face(two)
    faceswap.add_new_face(samples.no_face())
    root = faceswap.root
    expect(root.get_by_text(f"2 faces in {two.name}: click the one to use.")).to_be_visible(
        timeout=DETECT * 1000
    )
    faceless = f"No face found in {samples.no_face().name}: it cannot be paired."
    expect(root.get_by_text(faceless)).to_be_visible(timeout=DETECT * 1000)
    shots(lab, "new-faces-checked", element=faceswap.root)
    faceswap.button(f"Use face 2 of {two.name}").click()
    expect(root.get_by_text(f"Face 2 of {two.name}.")).to_be_visible(timeout=30_000)
    assert (
        lab.kernel_exec(
            "from PIL import Image\nprint(Image.open(w._new['B'].path).width < 400)"
        ).strip()
        == "True"
    )  # what will be sent for B is the chosen face's crop

    # Pairing by clicking the photo, then re-pairing in one action (replaces, no extra click).
    faceswap.button("Face 1 on the photo").click()
    faceswap.button("New face A").click()
    expect(root.get_by_role("listitem").filter(has_text="1 -> A")).to_be_visible()
    assert pairs(lab) == "[(1, 'A')]"
    faceswap.button("Face 1 on the photo").click()
    faceswap.button("New face B").click()
    expect(root.get_by_role("listitem").filter(has_text="1 -> B")).to_be_visible()
    assert pairs(lab) == "[(1, 'B')]"
    assert "1 → B" in faceswap.button("Face 1 on the photo").inner_text()
    shots(lab, "re-paired-on-the-photo", element=faceswap.root)

    # Keyboard only: face 2's card, Enter; Tab to new face A, Space. Delete undoes; redo.
    faceswap.button("Detected face 2").focus()
    lab.page.keyboard.press("Enter")
    press_tab_to(lab, "New face A")
    lab.page.keyboard.press("Space")
    expect(root.get_by_role("listitem").filter(has_text="2 -> A")).to_be_visible()
    faceswap.button("Detected face 2").focus()
    lab.page.keyboard.press("Delete")
    expect(root.get_by_role("listitem").filter(has_text="2 -> A")).to_have_count(0)
    faceswap.button("Face 2 on the photo").focus()
    lab.page.keyboard.press("Enter")
    press_tab_to(lab, "New face A")
    lab.page.keyboard.press("Enter")
    expect(root.get_by_role("listitem").filter(has_text="2 -> A")).to_be_visible()
    assert pairs(lab) == "[(1, 'B'), (2, 'A')]"
    shots(lab, "keyboard-paired", element=faceswap.root)

    # Undo is explicit: the x on a pair.
    # (The face's card has the same x; here the one on the pair's chip.)
    root.get_by_role("list", name="Pairs").get_by_role("button", name="Undo pair 2 -> A").click()
    expect(root.get_by_role("listitem").filter(has_text="2 -> A")).to_have_count(0)
    assert pairs(lab) == "[(1, 'B')]"

    # A face-less new face cannot be paired: a click on its card does nothing; it says why.
    faceswap.button("Face 3 on the photo").click()
    faceswap.button("New face C").click(force=True)  # aria-disabled: a person may still try
    assert pairs(lab) == "[(1, 'B')]"
    swap_error = root.locator(".mio-card-note.mio-card-problem").filter(has_text="cannot be")
    expect(swap_error).to_be_visible()
    shots(lab, "error-next-to-swap", element=faceswap.root)
    set_theme(lab, DARK)
    try:
        error_contrast = contrast(swap_error)
        swap = faceswap.button("Swap")
        swap_contrast = contrast(swap)
        swap.hover()
        lab.page.wait_for_timeout(200)
        swap_hover_contrast = contrast(swap)
    finally:
        set_theme(lab, LIGHT)
    # The same in the light theme.
    light = [contrast(swap_error), contrast(faceswap.button("Swap"))]
    faceswap.button("Swap").hover()
    lab.page.wait_for_timeout(200)
    light.append(contrast(faceswap.button("Swap")))
    (lab.artifacts / "widget-v2-contrast.txt").write_text(
        f"dark: error {error_contrast:.2f}, Swap {swap_contrast:.2f}, Swap hover "
        f"{swap_hover_contrast:.2f}\nlight: error {light[0]:.2f}, Swap {light[1]:.2f}, "
        f"Swap hover {light[2]:.2f}\n"
    )
    assert error_contrast >= 4.5, error_contrast
    assert swap_contrast >= 4.5 and swap_hover_contrast >= 4.5, (swap_contrast, swap_hover_contrast)
    assert min(light) >= 4.5, light

    # Removing a card asks nothing and can be undone once.
    faceswap.button("Remove new face C").click()
    expect(root.get_by_text(f"Removed C ({samples.no_face().name}).")).to_be_visible()
    expect(faceswap.new_faces()).to_have_count(2)
    shots(lab, "removed-with-undo", element=faceswap.root)
    faceswap.button("Undo").click()
    expect(faceswap.new_faces()).to_have_count(3)
    faceswap.button("Remove new face C").click()
    expect(faceswap.new_faces()).to_have_count(2)
    assert pairs(lab) == "[(1, 'B')]"

    # Stop waiting: honest words; Resume counts from the task's submission.
    lab.kernel_exec("sb.set_faults(Faults(task_seconds=6.0))")
    faceswap.button("Swap").click()
    stop = faceswap.button("Stop waiting")
    expect(stop).to_be_visible(timeout=60_000)
    time.sleep(2.0)
    stop.click()
    status = status_in(faceswap, "Swap section")
    expect(status).to_contain_text("keeps running on the server and may be charged")
    expect(status_in(faceswap, "Original")).to_have_count(0)
    shots(lab, "stopped-waiting", element=faceswap.root)
    lab.kernel_exec("sb.set_faults(Faults())")
    faceswap.button("Resume").click()
    clock = root.locator(".mio-elapsed").filter(has_text="since the task was submitted")
    expect(clock).to_be_visible(timeout=30_000)
    seconds = float(re.search(r"\(([\d.]+) s since", clock.inner_text()).group(1))
    assert seconds >= 2.0, clock.inner_text()

    # The result comes into view by itself, whole; a before/after slider on demand.
    result = root.locator("img.mio-result-img")
    faceswap.wait_visible(result, SWAP, "the swap result")
    expect(status_in(faceswap, "Swap section")).to_contain_text("Done in ")
    expect(status_in(faceswap, "Original")).to_have_count(0)
    lab.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=result.element_handle()
    )
    lab.page.wait_for_timeout(300)
    in_view = result.evaluate(
        """img => { const r = img.getBoundingClientRect();
                   return r.top < window.innerHeight && r.bottom > 0; }"""
    )
    assert in_view, "the result was not brought into view"
    faceswap.button("Compare with the original").click()
    result = root.locator("img.mio-compare-after")
    slider = root.get_by_role("slider", name=re.compile("Before and after"))
    slider.fill("20")
    assert "inset(0px 0px 0px 80%)" in result.evaluate("img => getComputedStyle(img).clipPath")
    shots(lab, "result-before-after", element=faceswap.root)


def test_the_sandbox_banner_reads_in_the_dark(lab, faceswap) -> None:
    faceswap.show("faceswap_v2_banner")
    banner = faceswap.root.get_by_role("note")
    expect(banner).to_be_visible()
    shots(lab, "banner", element=faceswap.root)
    set_theme(lab, DARK)
    try:
        dark = contrast(banner)
        disabled = contrast(faceswap.button("Swap"))  # disabled: no pairs yet
    finally:
        set_theme(lab, LIGHT)
    assert dark >= 4.5 and contrast(banner) >= 4.5, dark
    assert disabled >= 4.5 and contrast(faceswap.button("Swap")) >= 4.5, disabled

    # No invisible tab stops: everything Tab reaches in the widget is on screen and sized.
    faceswap.button("Choose original").focus()
    seen = []
    for _ in range(12):
        focused = lab.page.evaluate(
            """() => { const el = document.activeElement;
                       const inside = !!el.closest('.mio-fsw');
                       const r = el.getBoundingClientRect();
                       return {inside, name: el.getAttribute('aria-label') || el.textContent,
                               w: r.width, h: r.height}; }"""
        )
        if not focused["inside"]:
            break
        seen.append(focused["name"])
        assert focused["w"] >= 8 and focused["h"] >= 8, focused
        lab.page.keyboard.press("Tab")
    assert seen[:2] == ["Choose original", "Add new face"], seen


def test_video_original_preview_and_side_by_side_result(lab, faceswap) -> None:
    show(lab, faceswap, "faceswap_v2_video")
    video = samples.sample_video(faces=1, seconds=1.0, height=240)
    faceswap.upload_original(video)
    preview = faceswap.root.locator("video.mio-photo-video")
    faceswap.wait_visible(preview, DETECT, "the video preview")
    assert preview.evaluate("v => v.muted") is True
    expect(faceswap.root.get_by_text(re.compile(r"^Video, 1\.0 s, muted preview"))).to_be_visible(
        timeout=30_000
    )
    faceswap.wait_visible(faceswap.button("Detected face 1"), DETECT, "the person's card")
    faceswap.add_new_face(samples.grace_hopper())
    faceswap.wait_visible(faceswap.button("New face A"), DETECT, "new face A")
    expect(faceswap.root.get_by_role("listitem").filter(has_text="1 -> A")).to_be_visible()
    shots(lab, "video-original", element=faceswap.root)
    faceswap.button("Swap").click()
    result = faceswap.root.locator('video[aria-label="Swap result"]')
    faceswap.wait_visible(result, SWAP, "the video result")
    faceswap.button("Compare with the original").click()
    original = faceswap.root.locator('video[aria-label^="Original video, in step"]')
    expect(original).to_be_visible()
    result.evaluate("v => { v.currentTime = 0.5; }")
    lab.page.wait_for_function(
        "([r, o]) => Math.abs(r.currentTime - o.currentTime) < 0.15",
        arg=[result.element_handle(), original.element_handle()],
    )
    shots(lab, "video-side-by-side", element=faceswap.root)
