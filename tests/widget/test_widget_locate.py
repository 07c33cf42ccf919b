"""The face locator: each face crop found where it was cut from, with a confidence; a crop that
is not in the photo found nowhere. Photos of 1 to 8 known faces (faces_testkit)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from faces_testkit import group_picture, jpeg, service_crop
from PIL import Image

from mio_nb import samples
from mio_nb.locate import Locator, locate, place_faces
from mio_nb.results import Face, FaceSet


def box_error(found: tuple[float, float, float, float], cut: tuple[int, int, int, int]) -> float:
    """The largest distance (pixels) between the edges of a found box and the cut box."""
    x, y, w, h = found
    return max(abs(x - cut[0]), abs(y - cut[1]), abs(x + w - cut[2]), abs(y + h - cut[3]))


@pytest.mark.parametrize("faces", [1, 2, 4, 6, 8])
@pytest.mark.parametrize(
    ("resize", "quality"),
    [(1.0, None), (0.5, None), (2.0, None), (1.0, 70), (0.5, 75)],
    ids=["exact", "half", "double", "jpeg70", "half-jpeg75"],
)
def test_every_crop_is_found_where_it_was_cut(faces: int, resize: float, quality: int | None):
    picture, placed = group_picture(faces)
    cuts = [service_crop(picture, face, resize=resize, quality=quality) for face in placed]
    found = locate(picture, [crop for crop, _ in cuts])
    for (crop, cut), where in zip(cuts, found, strict=True):
        assert where is not None, f"crop cut at {cut} ({crop.size}) not found"
        assert box_error(where.box, cut) <= 1.0 + 0.01 * (cut[2] - cut[0])
        assert where.confidence >= 0.9
        assert where.scale == pytest.approx(1 / resize, rel=0.02)


def test_a_re_encoded_original_and_odd_scales():
    """The original itself went through JPEG; crops at 0.3x, 0.7x, 1.6x and 3.5x."""
    picture, placed = group_picture(4, size=(1600, 900), side=300)
    original = jpeg(picture, 85)
    locator = Locator(original)
    for face, resize in zip(placed, (0.3, 0.7, 1.6, 3.5), strict=True):
        crop, cut = service_crop(picture, face, resize=resize, quality=85)
        where = locator.find(crop)
        assert where is not None, f"resize {resize}"
        assert box_error(where.box, cut) <= 1.5 + 0.01 * (cut[2] - cut[0]), resize


def test_crops_that_are_not_in_the_photo_are_found_nowhere():
    picture, _ = group_picture(4)  # faces 0..3
    # Faces 4..7 are the same portraits, tinted: alike in grey, not the same picture.
    other, other_placed = group_picture(8)
    strangers = [service_crop(other, face)[0] for face in other_placed[4:]]
    with Image.open(samples.no_face()) as cup:
        strangers.append(cup.convert("RGB").crop((100, 80, 300, 300)))
    strangers.append(Image.new("RGB", (120, 140), (236, 232, 224)))  # the plain background
    assert locate(picture, strangers) == [None] * len(strangers)


def test_face_box_and_keypoints_in_the_original(tmp_path: Path):
    picture, placed = group_picture(3)
    original = tmp_path / "group.png"
    picture.save(original)
    faces = []
    for i, face in enumerate(placed):
        crop, cut = service_crop(picture, face, resize=0.5)
        path = tmp_path / f"face-{i}.png"
        crop.save(path)
        kps = {"1": {"x": 10, "y": 20}, "2": {"x": 50, "y": 21}}
        faces.append(Face(i, f"k{i}", "", width=crop.width, height=crop.height, kps=kps, path=path))
    faceset = FaceSet(task_id=1, faces=tuple(faces), source_path=str(original))
    assert all(face.box is None and face.kps_in_original() is None for face in faceset)

    placed_faces = place_faces(faceset)
    for face, layout in zip(placed_faces, placed, strict=True):
        _, cut = service_crop(picture, layout, resize=0.5)
        assert face.box is not None
        assert box_error(face.box, cut) <= 1.5
        kps = face.kps_in_original()
        assert kps is not None
        # Crop pixel (10, 20) at half size is original pixel (2*10 + 0.5, 2*20 + 0.5) + cut.
        assert kps["1"]["x"] == pytest.approx(cut[0] + 20.5, abs=1.0)
        assert kps["1"]["y"] == pytest.approx(cut[1] + 40.5, abs=1.0)
        assert kps["2"]["x"] == pytest.approx(cut[0] + 100.5, abs=1.0)


def test_videos_and_missing_originals_are_left_as_they_are(tmp_path: Path):
    face = Face(0, "k", "", width=10, height=10, path=tmp_path / "face-0.png")
    assert place_faces(FaceSet(1, (face,), source_path=None)).faces[0].box is None
    missing = FaceSet(1, (face,), source_path=str(tmp_path / "gone.jpg"))
    assert place_faces(missing) is missing


@pytest.mark.slow
def test_detect_faces_places_every_face_of_a_group_photo(client):
    """Through the sandbox's real engine: every face of the samples' 3-face photo gets a box
    around its tile's face (tiles of 256 pixels, 32 apart; the face is the middle third)."""
    photo = samples.group_photo(faces=3)
    faces = client.detect_faces(photo)
    assert len(faces) == 3
    centres = sorted(
        (face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2)
        for face in faces
        if face.box is not None
    )
    assert len(centres) == 3
    for i, (cx, cy) in enumerate(centres):
        assert abs(cx - (32 + i * 288 + 128)) <= 12
        assert abs(cy - (32 + 128)) <= 12
    for face in faces:
        kps = face.kps_in_original()
        assert kps is not None
        x, y, w, h = face.box
        assert all(x <= p["x"] <= x + w and y <= p["y"] <= y + h for p in kps.values())


def test_faces_plotted_on_the_photo_have_their_box_where_the_face_is():
    """plot_faces_on_photo (``faces.plot(on=original)``): each located face's box is drawn
    around it on the photo; a face that was not located is listed, not drawn."""
    import io as _io

    import numpy as np

    from mio_nb.plotting import figure_png, plot_faces_on_photo

    picture, placed = group_picture(3, size=(1200, 500), side=256, columns=3)
    faces = []
    for i, layout in enumerate(placed):
        crop, _cut = service_crop(picture, layout)
        where = locate(picture, [crop])[0]
        assert where is not None
        faces.append(
            Face(
                i, f"k{i}", "", width=crop.width, height=crop.height,
                kps={"1": {"x": 40, "y": 50}}, box=where.box if i < 2 else None,
            )
        )  # fmt: skip
    fig = plot_faces_on_photo(faces, picture)
    png = Image.open(_io.BytesIO(figure_png(fig))).convert("RGB")
    pixels = np.asarray(png).astype(int)
    ax = fig.axes[0]
    yellow = np.array([255, 204, 0])
    for face in faces[:2]:
        x, y, _w, h = face.box
        # The middle of the box's left edge, in the PNG's pixels.
        px, py = ax.transData.transform((x, y + h / 2))
        px, py = round(px), round(png.height - py)
        patch = pixels[py - 3 : py + 4, px - 3 : px + 4].reshape(-1, 3)
        assert (np.abs(patch - yellow).sum(axis=1) < 90).any(), (face.index, px, py)
    assert any("face 3" in t.get_text() for t in fig.texts)


def test_two_crops_never_share_a_place_when_the_photo_repeats_a_picture():
    """A photo with the same tile twice: both crops are found, each in its own place."""
    picture, placed = group_picture(2)
    tile = picture.crop((placed[0].x, placed[0].y, placed[0].x + 256, placed[0].y + 256))
    picture.paste(tile, (placed[1].x, placed[1].y))  # the second face is now the first's twin
    cuts = [service_crop(picture, face) for face in placed]
    found = locate(picture, [crop for crop, _ in cuts])
    assert all(where is not None for where in found)
    assert sorted(round(where.box[0]) for where in found) == sorted(cut[0] for _, cut in cuts)


def test_faceset_plot_on_the_photo_shows_a_picture_of_the_whole_photo():
    """``faces.plot(on=original)`` is the photo figure, and it displays as a PNG by itself (no
    pyplot, whatever the backend), with the located faces drawn."""
    picture, placed = group_picture(2, size=(900, 400), side=256, columns=2)
    faces = []
    for i, layout in enumerate(placed):
        crop, _cut = service_crop(picture, layout)
        where = locate(picture, [crop])[0]
        faces.append(Face(i, f"k{i}", "", width=crop.width, height=crop.height, box=where.box))
    fig = FaceSet(task_id=1, faces=tuple(faces)).plot(on=picture)
    png = fig._repr_png_()
    shown = Image.open(io.BytesIO(png))
    assert len(fig.axes) == 1 and shown.width > shown.height  # the wide photo, not a crop grid
    assert np.asarray(shown.convert("L")).std() > 20  # not blank
