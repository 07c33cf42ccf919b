"""FaceSwapWidget v2 from the kernel's side: faces placed on the photo, pairing that replaces,
explicit undo, new faces checked when added (none / several: pick one), removal with one undo,
errors placed next to their control, and the widget's text fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from faces_testkit import group_picture
from PIL import Image
from widget_testkit import Frontend, wait_for

from mio_nb import samples
from mio_nb.widget import FaceSwapWidget
from mio_nb.widget.messages import Msg


def card(widget: FaceSwapWidget, label: str) -> dict:
    return next(n for n in widget.new_faces if n["label"] == label)


def test_detected_faces_carry_their_box_and_keypoints_on_the_photo(widget: FaceSwapWidget):
    photo = samples.group_photo(faces=3)  # tiles of 256 px, 32 px apart, faces in the middle
    widget.load_main(photo).result(timeout=120)
    assert widget.main["width"] == 3 * 288 + 32
    assert [f["index"] for f in widget.faces] == [1, 2, 3]
    for face in widget.faces:
        x, y, w, h = face["box"]
        tile = 32 + (face["index"] - 1) * 288
        assert abs(x + w / 2 - (tile + 128)) <= 12 and abs(y + h / 2 - 160) <= 12
        assert len(face["kps"]) == 5
        assert all(x <= px <= x + w and y <= py <= y + h for px, py in face["kps"])


def test_pairing_replaces_and_undo_is_explicit(widget: FaceSwapWidget, front: Frontend):
    widget.load_main(samples.group_photo(faces=2)).result(timeout=120)
    widget.add_faces(samples.grace_hopper(), samples.astronaut())
    front.send({"type": Msg.PAIR, "face": 1, "new_face": "A"})
    front.send({"type": Msg.PAIR, "face": 2, "new_face": "A"})
    front.send({"type": Msg.PAIR, "face": 1, "new_face": "B"})  # re-pair face 1 in one action
    assert widget.pairs == {1: "B", 2: "A"}
    front.send({"type": Msg.UNPAIR, "face": 2})
    assert widget.pairs == {1: "B"}


def test_removing_a_new_face_can_be_undone_once(widget: FaceSwapWidget, front: Frontend):
    widget.load_main(samples.group_photo(faces=2)).result(timeout=120)
    widget.add_faces(samples.grace_hopper(), samples.astronaut())
    front.send({"type": Msg.PAIR, "face": 1, "new_face": "A"})
    front.send({"type": Msg.PAIR, "face": 2, "new_face": "B"})
    front.send({"type": Msg.REMOVE_NEW_FACE, "new_face": "A"})
    assert [n["label"] for n in widget.new_faces] == ["B"]
    assert widget.pairs == {2: "B"}
    assert widget.removed["label"] == "A" and widget.removed["name"] == "grace_hopper.jpg"
    front.send({"type": Msg.UNDO_REMOVE})
    assert [n["label"] for n in widget.new_faces] == ["A", "B"]
    assert widget.pairs == {1: "A", 2: "B"} and widget.removed == {}
    front.send({"type": Msg.UNDO_REMOVE})  # once only
    assert widget.error == "Nothing to undo." and widget.error_at == "new_faces"


def test_new_faces_are_checked_when_added(widget: FaceSwapWidget, front: Frontend, tmp_path: Path):
    two, _ = group_picture(2, size=(700, 400), side=256, columns=2)
    two_path = tmp_path / "two.png"
    two.save(two_path)
    a, b, c = widget.add_faces(samples.grace_hopper(), samples.no_face(), two_path)
    wait_for(lambda: all(n["check"] != "checking" for n in widget.new_faces), 120, "checks")
    assert card(widget, a)["check"] == "ok" and card(widget, a)["media"] == f"new-{a}-face"
    assert card(widget, b)["check"] == "none"
    no_face = Path(samples.no_face()).name
    assert (
        card(widget, b)["note"]
        == f"No face found in {no_face}: it cannot be paired. Add another picture."
    )
    several = card(widget, c)
    assert several["check"] == "several"
    assert several["note"] == "2 faces in two.png: click the one to use."
    assert [choice["index"] for choice in several["choices"]] == [1, 2]

    # A face-less new face cannot be paired: by click (the error says why), from Python, nor
    # by the automatic pairing of one face with one new face.
    widget.load_main(samples.grace_hopper()).result(timeout=120)
    front.send({"type": Msg.PAIR, "face": 1, "new_face": b})
    assert (
        widget.pair_list == [] and f"New face {b} cannot be paired: No face found" in widget.error
    )
    with pytest.raises(ValueError, match="cannot be paired"):
        widget.pair(1, b)
    assert widget.pair_list == []

    front.send({"type": Msg.CHOOSE_NEW_FACE, "new_face": c, "face": 2})
    chosen = card(widget, c)
    assert chosen["check"] == "ok" and chosen["choices"] == []
    with Image.open(widget._new[c].path) as crop:  # what will be sent: the chosen crop
        assert crop.width < 400


def test_the_text_fallback_names_the_state(widget: FaceSwapWidget, front: Frontend):
    widget.load_main(samples.group_photo(faces=3)).result(timeout=120)
    widget.add_faces(samples.grace_hopper())
    front.send({"type": Msg.PAIR, "face": 1, "new_face": "A"})
    text = repr(widget)
    name = samples.group_photo(faces=3).name
    assert text.startswith(f"FaceSwapWidget(original='{name}', faces=3")
    assert "pairs={1: 'A'}" in text and "0x" not in text
    assert widget._repr_mimebundle_()[0]["text/plain"] == text
