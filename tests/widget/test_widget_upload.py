"""Browser -> kernel uploads in chunks: reassembly, acknowledgements, size and format checks."""

from __future__ import annotations

from pathlib import Path

from widget_testkit import Frontend, wait_for

from mio_nb import samples
from mio_nb.formats import MAX_UPLOAD_BYTES, human_bytes
from mio_nb.widget import FaceSwapWidget
from mio_nb.widget.messages import Msg


def test_original_arrives_whole_in_acknowledged_chunks(widget: FaceSwapWidget, front: Frontend):
    data = samples.group_photo(faces=2).read_bytes()
    assert len(data) > 3 * 64 * 1024, "the sample must span several chunks"
    done = front.upload(data, "group.png", chunk=64 * 1024, window=2)
    assert done["type"] == Msg.UPLOAD_DONE, done

    acks = [r["received"] for r in front.replies("test-1") if r["type"] == Msg.UPLOAD_ACK]
    assert acks[0] == 0 and acks == sorted(acks) and acks[-1] == len(data)
    assert len(acks) == 1 + -(-len(data) // (64 * 1024)), "one acknowledgement per chunk"
    assert widget.main["name"] == "group.png"
    assert widget.main["kind"] == "image" and widget.main["size"] == len(data)
    assert Path(widget._original.path).read_bytes() == data
    assert widget._receiver.open_uploads == 0


def test_unsupported_file_is_refused_at_its_first_chunk(widget: FaceSwapWidget, front: Frontend):
    pdf = b"%PDF-1.7\n" + b"x" * 300_000
    answer = front.upload(pdf, "report.pdf", chunk=64 * 1024)
    assert answer == {
        "type": Msg.UPLOAD_ERROR,
        "upload": "test-1",
        "message": "report.pdf is a PDF document, not a picture or a video: use JPG, PNG, WEBP, "
        "GIF, MP4, M4V, MOV or WEBM.",
    }
    # Refused after the first chunk: the rest was never written.
    chunks_acked = [r for r in front.replies("test-1") if r["type"] == Msg.UPLOAD_ACK]
    assert [r["received"] for r in chunks_acked] == [0]
    assert widget.main == {} and widget._receiver.open_uploads == 0
    assert not list((widget._folder / "uploads").rglob("*.part"))


def test_file_over_the_limit_is_refused_before_any_byte(widget: FaceSwapWidget, front: Frontend):
    answer = front.upload(b"", "huge.mp4", size=MAX_UPLOAD_BYTES + 1)
    assert answer["type"] == Msg.UPLOAD_ERROR
    assert answer["message"] == (
        "huge.mp4 is 500 MB, over the 500 MB limit: use a shorter or smaller file."
    )
    assert [r["type"] for r in front.replies("test-1")] == [Msg.UPLOAD_ERROR]


def test_lower_limit_trait_applies_to_uploads(widget: FaceSwapWidget, front: Frontend):
    widget.max_upload_bytes = 1000
    data = samples.grace_hopper().read_bytes()
    answer = front.upload(data, "grace.jpg")
    assert answer["type"] == Msg.UPLOAD_ERROR
    assert answer["message"] == (
        f"grace.jpg is {human_bytes(len(data))}, over the 1.0 KB limit: use a shorter or "
        "smaller file."
    )


def test_more_bytes_than_announced_are_refused(widget: FaceSwapWidget, front: Frontend):
    data = samples.grace_hopper().read_bytes()
    answer = front.upload(data, "grace.jpg", size=len(data) - 10, chunk=32 * 1024)
    assert answer["type"] == Msg.UPLOAD_ERROR
    assert "larger than the" in answer["message"]
    assert widget.main == {}


def test_chunks_that_overtake_each_other_are_put_back_in_order(
    widget: FaceSwapWidget, front: Frontend
):
    data = samples.grace_hopper().read_bytes()
    size, piece = len(data), 16 * 1024
    front.send(
        {"type": Msg.UPLOAD_START, "upload": "u1", "role": "main", "name": "g.jpg", "size": size}
    )
    offsets = list(range(0, size, piece))
    # The second chunk arrives first, the first twice; the ack is the bytes written in order.
    for offset in [offsets[1], offsets[0], offsets[0], *offsets[2:]]:
        front.send(
            {"type": Msg.UPLOAD_CHUNK, "upload": "u1", "offset": offset},
            [data[offset : offset + piece]],
        )
    acks = [r["received"] for r in front.replies("u1") if r["type"] == Msg.UPLOAD_ACK]
    assert acks[:4] == [0, 0, 2 * piece, 2 * piece] and acks[-1] == size
    front.send({"type": Msg.UPLOAD_END, "upload": "u1"})
    widget.wait(timeout=60)
    assert Path(widget._original.path).read_bytes() == data


def test_a_chunk_far_ahead_of_a_gap_that_never_fills_is_refused(
    widget: FaceSwapWidget, front: Frontend
):
    data = samples.grace_hopper().read_bytes()
    front.send(
        {
            "type": Msg.UPLOAD_START,
            "upload": "u1",
            "role": "main",
            "name": "g.jpg",
            "size": len(data),
        }
    )
    for i in range(1, 18):  # byte 0 never comes; 16 early chunks are the most kept
        front.send(
            {"type": Msg.UPLOAD_CHUNK, "upload": "u1", "offset": i * 1000},
            [data[i * 1000 : (i + 1) * 1000]],
        )
    assert front.replies("u1")[-1]["type"] == Msg.UPLOAD_ERROR
    assert "out of order" in front.replies("u1")[-1]["message"]


def test_a_video_is_refused_as_a_new_face(widget: FaceSwapWidget, front: Frontend):
    mp4 = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 5000
    answer = front.upload(mp4, "clip.mp4", role="new_face")
    assert answer["type"] == Msg.UPLOAD_ERROR
    assert answer["message"] == (
        "clip.mp4 is a video, not a picture: a new face must be a picture (JPG, PNG, WEBP or GIF)."
    )
    assert widget.new_faces == []


def test_upload_stopped_short_is_refused_and_cancel_removes_the_part(
    widget: FaceSwapWidget, front: Frontend
):
    data = samples.grace_hopper().read_bytes()
    front.send(
        {
            "type": Msg.UPLOAD_START,
            "upload": "u2",
            "role": "main",
            "name": "g.jpg",
            "size": len(data),
        }
    )
    front.send({"type": Msg.UPLOAD_CHUNK, "upload": "u2", "offset": 0}, [data[:4096]])
    assert list((widget._folder / "uploads").rglob("*.part"))
    front.send({"type": Msg.UPLOAD_END, "upload": "u2"})
    assert front.replies("u2")[-1]["message"] == (
        f"g.jpg stopped after 4096 of {len(data)} bytes: choose it again."
    )
    front.send(
        {
            "type": Msg.UPLOAD_START,
            "upload": "u3",
            "role": "main",
            "name": "g.jpg",
            "size": len(data),
        }
    )
    front.send({"type": Msg.UPLOAD_CHUNK, "upload": "u3", "offset": 0}, [data[:4096]])
    front.send({"type": Msg.UPLOAD_CANCEL, "upload": "u3"})
    assert not list((widget._folder / "uploads").rglob("*.part"))
    assert widget._receiver.open_uploads == 0


def test_new_faces_uploaded_get_labels_and_thumbnails(widget: FaceSwapWidget, front: Frontend):
    for path, name in ((samples.grace_hopper(), "grace.jpg"), (samples.astronaut(), "eileen.png")):
        assert front.upload(path.read_bytes(), name, role="new_face")["type"] == Msg.UPLOAD_DONE
    assert [n["label"] for n in widget.new_faces] == ["A", "B"]
    assert [n["name"] for n in widget.new_faces] == ["grace.jpg", "eileen.png"]
    front.send({"type": Msg.WANT, "keys": ["new-A", "new-B"]})
    for key in ("new-A", "new-B"):
        mime, data = wait_for(lambda key=key: front.media(key), 10, key)
        assert mime == "image/webp" and data[8:12] == b"WEBP"
        assert len(data) < 40_000


def test_file_names_from_the_browser_cannot_escape_the_upload_folder(
    widget: FaceSwapWidget, front: Frontend
):
    data = samples.grace_hopper().read_bytes()
    assert front.upload(data, "../../etc/evil name.jpg", role="new_face")["type"] == Msg.UPLOAD_DONE
    path = widget._new["A"].path
    assert path.name == "evil_name.jpg"
    assert widget._folder in path.parents
