"""Detection, the face gallery's media, and pairing by clicks (messages) or from Python."""

from __future__ import annotations

import pytest
from widget_testkit import Frontend, wait_for

from mio_nb import samples
from mio_nb.widget import FaceSwapWidget
from mio_nb.widget.messages import Msg


@pytest.fixture(scope="module")
def group2() -> bytes:
    return samples.group_photo(faces=2).read_bytes()


def test_detection_shows_numbered_faces_with_their_drawings(
    widget: FaceSwapWidget, front: Frontend, group2: bytes
):
    assert front.upload(group2, "pair.png")["type"] == Msg.UPLOAD_DONE
    faceset = widget.wait(timeout=120)
    assert len(faceset) == 2 and widget.faceset is faceset
    assert [f["index"] for f in widget.faces] == [1, 2]
    assert widget.busy == {} and widget.error == ""
    assert widget.status == "Found 2 faces in pair.png."
    # The kernel sent every picture when it was made, unasked (a view receives it even while
    # the kernel runs cells, when the view's requests wait): nothing was asked for here.
    assert not [c for c, _ in front.custom() if c.get("type") in (Msg.READY, Msg.WANT)]
    for face in widget.faces:
        mime, data = wait_for(lambda f=face: front.media(f["media"]), 30, face["media"])
        assert mime == "image/webp" and data[:4] == b"RIFF"
        assert len(data) <= 40_000, "bytes sent per face"
    mime, preview = wait_for(lambda: front.media(widget.main["media"]), 10, "the preview")
    assert mime == "image/webp" and preview[8:12] == b"WEBP"
    # Detection showed its task's state while it ran.
    states = [s["busy"] for s in front.states() if "busy" in s]
    assert any(b.get("what") == "detect" and b.get("task_id") for b in states), states


def test_each_picture_goes_out_once_and_again_only_when_a_view_asks(
    widget: FaceSwapWidget, front: Frontend, group2: bytes
):
    widget.load_main(group2, name="pair.png").result(timeout=120)
    keys = [widget.main["media"]] + [f["media"] for f in widget.faces]
    for key in keys:
        wait_for(lambda k=key: front.media(k), 30, key)
    widget._checks.wait(timeout=30)
    assert {k: len(front.media_messages(k)) for k in keys} == dict.fromkeys(keys, 1)
    # A view rendered now asks for what its state names (READY): each is sent once more.
    front.send({"type": Msg.READY, "keys": keys[:2]})
    assert [len(front.media_messages(k)) for k in keys] == [2, 2] + [1] * (len(keys) - 2)


def test_media_asked_for_before_it_exists_is_sent_when_made(
    widget: FaceSwapWidget, front: Frontend, group2: bytes
):
    widget.load_main(group2, name="pair.png")
    # The view asks for face media as soon as the face list appears (maybe before drawing ends).
    wait_for(lambda: widget.faces, 120, "faces")
    front.send({"type": Msg.WANT, "keys": [f["media"] for f in widget.faces]})
    widget.wait(timeout=60)
    for face in widget.faces:
        assert wait_for(lambda f=face: front.media(f["media"]), 30, face["media"])


def test_clicks_pair_and_unpair(widget: FaceSwapWidget, front: Frontend, group2: bytes):
    widget.load_main(group2, name="pair.png").result(timeout=120)
    assert widget.add_faces(samples.grace_hopper(), samples.astronaut()) == ["A", "B"]
    assert widget.pairs == {}, "two faces and two new faces: nothing is paired by itself"

    front.send({"type": Msg.PAIR, "face": 1, "new_face": "A"})
    front.send({"type": Msg.PAIR, "face": 2, "new_face": "B"})
    assert widget.pairs == {1: "A", 2: "B"}
    assert widget.pair_list == [[1, "A"], [2, "B"]]

    front.send({"type": Msg.UNPAIR, "face": 1})
    assert widget.pairs == {2: "B"}
    front.send({"type": Msg.PAIR, "face": 1, "new_face": "B"})
    front.send({"type": Msg.UNPAIR_NEW, "new_face": "B"})
    assert widget.pairs == {}


def test_python_api_pairs_by_shown_number_or_face(widget: FaceSwapWidget, group2: bytes):
    faceset = widget.load_main(group2, name="pair.png").result(timeout=120)
    widget.add_faces(samples.grace_hopper())
    widget.pair(2, "A")
    assert widget.pairs == {2: "A"}
    widget.pair(faceset[0], samples.astronaut())  # a Face, and a file added on the way
    assert widget.pairs == {1: "B", 2: "A"}
    with pytest.raises(ValueError, match=r"No detected face 3: the faces are \[1, 2\]"):
        widget.pair(3, "A")
    with pytest.raises(ValueError, match="No new face 'Q'"):
        widget.pair(1, "Q")
    widget.remove_face("A")
    assert widget.pairs == {1: "B"}
    assert [n["label"] for n in widget.new_faces] == ["B"]


def test_one_face_and_one_new_face_pair_themselves(widget: FaceSwapWidget, front: Frontend):
    widget.load_main(samples.grace_hopper()).result(timeout=120)
    assert widget.pairs == {}
    data = samples.astronaut().read_bytes()
    assert front.upload(data, "astronaut.png", role="new_face")["type"] == Msg.UPLOAD_DONE
    assert widget.pairs == {1: "A"}


def test_a_bad_pair_message_shows_an_error_and_the_widget_goes_on(
    widget: FaceSwapWidget, front: Frontend
):
    widget.load_main(samples.grace_hopper()).result(timeout=120)
    front.send({"type": Msg.PAIR, "face": 7, "new_face": "A"})
    assert widget.error == "No detected face 7: the faces are [1]."
    widget.add_faces(samples.astronaut())
    assert widget.pairs == {1: "A"}


def test_new_original_clears_faces_and_pairs(widget: FaceSwapWidget, group2: bytes):
    widget.load_main(samples.grace_hopper()).result(timeout=120)
    widget.add_faces(samples.astronaut())
    assert widget.pairs == {1: "A"}
    widget.load_main(group2, name="two.png")
    assert widget.pairs == {} and widget.faces == []
    widget.wait(timeout=120)
    assert len(widget.faces) == 2
    assert [n["label"] for n in widget.new_faces] == ["A"], "new faces stay"


def test_no_face_in_the_original_says_what_to_do(widget: FaceSwapWidget):
    future = widget.load_main(samples.no_face())
    with pytest.raises(Exception) as info:
        future.result(timeout=120)
    assert getattr(info.value, "code", None) == 602
    assert widget.error.startswith("No face was found in the original. Choose a photo or video")
    assert widget.faces == [] and widget.busy == {}
