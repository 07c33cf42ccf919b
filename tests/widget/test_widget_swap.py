"""Swaps from the widget: endpoint choice, result media, history, stop/resume and error paths."""

from __future__ import annotations

import json
import time

import pytest
from widget_testkit import Frontend, wait_for

from mio_nb import ImageResult, VideoResult, samples
from mio_nb.client import Client
from mio_nb.errors import (
    InsufficientCreditsError,
    NetworkError,
    RateLimitError,
    TaskTimeoutError,
)
from mio_nb.sandbox import Faults, Sandbox
from mio_nb.transport import RetryConfig
from mio_nb.widget import FaceSwapWidget
from mio_nb.widget.messages import Msg


def task_types(sandbox: Sandbox, since: int) -> list[str]:
    return [t.type for t in sandbox.tasks() if t.id > since]


def last_task_id(sandbox: Sandbox) -> int:
    return max((t.id for t in sandbox.tasks()), default=0)


def test_group_photo_uses_multi_face_swap_and_shows_the_result(
    widget: FaceSwapWidget, front: Frontend, sandbox: Sandbox
):
    before = last_task_id(sandbox)
    widget.load_main(samples.group_photo(faces=2)).result(timeout=120)
    widget.add_faces(samples.grace_hopper(), samples.astronaut())
    front.send({"type": Msg.PAIR, "face": 1, "new_face": "B"})
    front.send({"type": Msg.SWAP})
    result = widget.wait(timeout=300)

    assert isinstance(result, ImageResult) and widget.result is result
    # The original's faces, then each new face's (checked when added), then the swap.
    assert sorted(task_types(sandbox, before)) == sorted(
        ["get-face"] * 3 + ["multiple-face-swap"]
    )  # checks run alongside
    (entry,) = widget.history
    assert entry["kind"] == "image" and entry["pairs"] == "1 -> B" and entry["hd"] is False
    assert entry["path"] == str(result.path) and widget.shown == entry["id"]
    assert widget.status.startswith("Done in ") and widget.error == "" and widget.busy == {}

    front.send({"type": Msg.WANT, "keys": [entry["media"]]})
    mime, data = wait_for(lambda: front.media(entry["media"]), 30, "the result")
    assert mime == "image/png" and data == result.path.read_bytes()


def test_single_face_original_uses_the_single_face_endpoint_with_hd(
    widget: FaceSwapWidget, front: Frontend, sandbox: Sandbox
):
    before = last_task_id(sandbox)
    widget.load_main(samples.grace_hopper()).result(timeout=120)
    widget.add_faces(samples.astronaut())
    front.set_trait("hd", True)  # the HD checkbox
    seen: list = []
    widget.observe(lambda change: seen.append(change["new"]), "result")
    result = widget.swap().result(timeout=300)
    assert isinstance(result, ImageResult) and seen == [result]
    assert sorted(task_types(sandbox, before)) == sorted(
        ["get-face", "get-face", "face-swap"]
    )  # checks run alongside
    swap_task = next(t for t in reversed(sandbox.tasks()) if t.type == "face-swap")
    assert int(swap_task.params["is_hd"]) == 1
    assert widget.history[-1]["hd"] is True


def test_video_swap_sends_the_video_in_parts(
    widget: FaceSwapWidget, front: Frontend, sandbox: Sandbox
):
    widget.media_chunk_bytes = 8 * 1024
    before = last_task_id(sandbox)
    video = samples.sample_video(faces=1, seconds=1.0, height=240)
    widget.load_main(video).result(timeout=300)
    assert widget.main["kind"] == "video" and len(widget.faces) == 1
    widget.add_faces(samples.grace_hopper())
    result = widget.swap().result(timeout=600)
    assert isinstance(result, VideoResult)
    assert sorted(task_types(sandbox, before)) == sorted(
        ["get-face", "get-face", "video-face-swap"]
    )  # checks run alongside

    front.send({"type": Msg.READY})
    key = widget.history[-1]["media"]
    mime, data = wait_for(lambda: front.media(key), 30, "the video")
    assert mime == "video/mp4" and data == result.path.read_bytes()
    assert len(front.media_messages(key)) == -(-len(data) // (8 * 1024)) > 1


def test_saved_state_holds_no_media_and_no_token(
    widget: FaceSwapWidget, front: Frontend, sandbox: Sandbox
):
    widget.load_main(samples.grace_hopper()).result(timeout=120)
    widget.add_faces(samples.astronaut())
    widget.swap().result(timeout=300)
    state = {k: v for k, v in widget.get_state().items() if k not in ("_esm", "_css")}
    text = json.dumps(state)
    assert sandbox.token not in text
    assert len(text) < 5_000, f"widget state is {len(text)} characters"
    assert "X-Signature" not in text, "no presigned URL in the state"
    for states in front.states():
        sent = json.dumps(states)
        assert sandbox.token not in sent and "base64" not in sent


def test_stop_then_resume_the_same_task(sandbox: Sandbox, client: Client):
    widget = FaceSwapWidget(client=client)
    front = Frontend(widget)
    try:
        widget.load_main(samples.grace_hopper()).result(timeout=120)
        widget.add_faces(samples.astronaut())
        sandbox.set_faults(Faults(task_seconds=3.0))
        future = widget.swap()
        wait_for(lambda: widget.busy.get("task_id"), 30, "the swap task")
        task_id = widget.busy["task_id"]
        time.sleep(0.5)
        front.send({"type": Msg.STOP})
        assert future.result(timeout=10) is None
        stopped = dict(widget.stopped)
        assert stopped.pop("since_submitted") >= 0.5
        assert stopped == {"what": "swap", "task_id": task_id}
        # Honest: the task is not cancelled, and may be charged.
        assert "keeps running on the server and may be charged" in widget.status
        assert "Press Resume" in widget.status and widget.busy == {}
        assert widget.history == []

        front.send({"type": Msg.RESUME})
        # The clock counts from the task's submission, not from Resume.
        wait_for(lambda: widget.busy.get("what") == "swap", 30, "waiting again")
        assert widget.busy["elapsed"] >= 0.5
        result = widget.wait(timeout=120)
        assert result.task_id == task_id, "the same task, not a new one"
        assert [t.id for t in sandbox.tasks() if t.type == "face-swap"].count(task_id) == 1
        assert widget.stopped == {} and len(widget.history) == 1
    finally:
        sandbox.set_faults(Faults())
        widget.close()


@pytest.mark.parametrize(
    ("faults", "error", "sentence"),
    [
        (Faults(credits=0), InsufficientCreditsError, "Your MioCreate account is out of credits"),
        (Faults(rate_limit_per_minute=1), RateLimitError, "Too many requests right now"),
    ],
    ids=["801-credits", "802-rate-limit"],
)
def test_account_errors_read_as_sentences_and_the_widget_stays_usable(
    sandbox: Sandbox, tmp_path, faults: Faults, error: type, sentence: str
):
    # The client waits out 802 for up to rate_limit_wait seconds: keep that short here.
    client = Client.for_sandbox(
        sandbox, output_dir=tmp_path / "out", progress=False, retry=RetryConfig(rate_limit_wait=0.5)
    )
    widget = FaceSwapWidget(client=client)
    try:
        widget.load_main(samples.grace_hopper()).result(timeout=120)
        widget.add_faces(samples.astronaut())
        sandbox.set_faults(faults)
        with pytest.raises(error):
            widget.swap().result(timeout=300)
        assert widget.error.startswith(sentence), widget.error
        assert widget.busy == {}
        sandbox.set_faults(Faults())
        assert isinstance(widget.swap().result(timeout=300), ImageResult)
        assert widget.error == ""
    finally:
        sandbox.set_faults(Faults())
        widget.close()
        client.close()


def test_several_faces_in_a_new_face_is_603(widget: FaceSwapWidget):
    widget.load_main(samples.grace_hopper()).result(timeout=120)
    widget.add_faces(samples.group_photo(faces=2))
    with pytest.raises(Exception) as info:
        widget.swap().result(timeout=300)
    assert info.value.code == 603
    assert widget.error.startswith("A new face photo shows several faces")


def test_unreachable_api_reads_as_a_network_error(tmp_path):
    with Sandbox(port=0, engine="instant") as sb:
        client = Client.for_sandbox(
            sb, output_dir=tmp_path / "out", progress=False, retry=RetryConfig(retries=1)
        )
    # The server is gone now: every request fails to connect.
    widget = FaceSwapWidget(client=client)
    try:
        with pytest.raises(NetworkError):
            widget.load_main(samples.grace_hopper()).result(timeout=120)
        assert widget.error.startswith("Could not reach the MioCreate API")
        assert widget.busy == {}
    finally:
        widget.close()
        client.close()


def test_swap_without_pairs_says_so(widget: FaceSwapWidget, front: Frontend):
    widget.load_main(samples.group_photo(faces=2)).result(timeout=120)
    front.send({"type": Msg.SWAP})
    assert widget.error == "No pairs: pair a detected face with a new face first."


def test_a_timeout_says_press_resume_and_resume_finishes_the_same_task(
    sandbox: Sandbox, client: Client
):
    widget = FaceSwapWidget(client=client, timeout=0.5)
    try:
        widget.load_main(samples.grace_hopper()).result(timeout=120)
        widget.add_faces(samples.astronaut())
        sandbox.set_faults(Faults(task_seconds=2.0))
        with pytest.raises(TaskTimeoutError):
            widget.swap().result(timeout=60)
        task_id = widget.stopped["task_id"]
        assert widget.stopped["what"] == "swap" and widget.stopped["since_submitted"] >= 0.5
        assert widget.error == (
            f"Task {task_id} did not finish in time. It keeps running on the server: press "
            "Resume to keep waiting for it."
        )
        widget.timeout = None
        result = widget.resume().result(timeout=120)
        assert result.task_id == task_id and widget.error == "" and widget.stopped == {}
    finally:
        sandbox.set_faults(Faults())
        widget.close()
