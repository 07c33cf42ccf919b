"""The face drawing shared by FaceSet.plot() and the widget: keypoints land where the API says."""

from __future__ import annotations

import io

from matplotlib.colors import to_rgb
from PIL import Image

from mio_nb.plotting import KP_COLORS, draw_face, render_face


def _gray_crop() -> Image.Image:
    return Image.new("RGB", (100, 120), (128, 128, 128))


KPS = {
    "1": {"x": 30, "y": 45},
    "2": {"x": 70, "y": 45},
    "3": {"x": 50, "y": 70},
    "4": {"x": 35, "y": 95},
    "5": {"x": 65, "y": 95},
}


def test_keypoints_are_drawn_in_their_colours_at_their_scaled_positions() -> None:
    drawn = render_face(_gray_crop(), KPS, 1, max_side=240)
    assert drawn.size == (200, 240)  # scaled by 2 to reach max_side
    for key, colour in zip("12345", KP_COLORS, strict=True):
        x, y = KPS[key]["x"] * 2, KPS[key]["y"] * 2
        r, g, b, _ = drawn.getpixel((x, y))
        want = [round(c * 255) for c in to_rgb(colour)]
        assert max(abs(r - want[0]), abs(g - want[1]), abs(b - want[2])) < 40, key


def test_the_number_badge_is_drawn_top_left_and_the_rest_is_the_crop() -> None:
    drawn = render_face(_gray_crop(), KPS, 7, max_side=240)
    corner = drawn.crop((0, 0, 40, 40)).convert("L")
    assert min(corner.get_flattened_data()) < 80  # the dark badge
    assert drawn.getpixel((190, 230))[:3] == (128, 128, 128)  # far from every mark


def test_draw_face_returns_png_bytes() -> None:
    png = draw_face(_gray_crop(), KPS, 1)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and max(image.size) == 256
