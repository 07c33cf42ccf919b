"""Record a full widget session (detect, pair, swap) on a sandbox, stop the sandbox, replay the
record: the same faces, pairs, task ids and result bytes, with nothing left unanswered.

The widget is driven through its Python side with a recording comm, as tests/widget does."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import comm
import pytest

from mio_nb import samples
from mio_nb.client import Client
from mio_nb.errors import MioError
from mio_nb.recording import Recorder, read_session
from mio_nb.replay import ReplayServer
from mio_nb.sandbox import Sandbox

sys.path.insert(0, str(Path(__file__).parents[1] / "widget"))
from widget_testkit import RecordingComm


@pytest.fixture(autouse=True)
def recording_comms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", lambda **kw: RecordingComm(**kw))


def widget_session(client: Client) -> dict[str, Any]:
    """Detect the faces of a two-person photo, pair each with a new face, swap: what a person
    sees and keeps."""
    from mio_nb.widget import FaceSwapWidget

    widget = FaceSwapWidget(client=client)
    try:
        faceset = widget.load_main(samples.group_photo(faces=2), name="pair.png").result(
            timeout=120
        )
        widget.add_faces(samples.grace_hopper(), samples.astronaut())
        widget.pair(1, "A")
        widget.pair(2, "B")
        pairs = dict(widget.pairs)
        result = widget.swap().result(timeout=300)
        widget.wait(timeout=60)
        return {
            "faces": [(f.index, f.width, f.height, list(f.points)) for f in faceset],
            "face_task": faceset.task_id,
            "shown_faces": json.dumps(widget.faces, sort_keys=True, default=str),
            "pairs": pairs,
            "result_task": result.task_id,
            "result": result.path.read_bytes(),
            "size": (result.width, result.height),
            "error": widget.error,
        }
    finally:
        widget.close()


def test_record_then_replay_round_trips_a_widget_session(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "rec", bodies=True)
    with (
        Sandbox(port=0, data_dir=tmp_path / "sb", engine="instant") as sb,
        Client.for_sandbox(sb, output_dir=tmp_path / "out1", progress=False, record=recorder) as c,
    ):
        recorded = widget_session(c)
        tasks = len(sb.tasks())
        secrets = (sb.token, sb.client_secret)
    assert len(recorded["faces"]) == 2 and recorded["pairs"] == {1: "A", 2: "B"}
    lines = read_session(recorder.path)
    created = [
        line
        for line in lines
        if line.get("path", "").startswith("/v1/task/") and line["path"] != "/v1/task/detail"
    ]
    assert len(created) == tasks, "every task the widget made is in the record"
    paths = {line.get("path") for line in lines if line["kind"] == "api"}
    assert {"/v1/task/get-face", "/v1/task/multiple-face-swap", "/v1/task/detail"} <= paths
    text = recorder.path.read_text()
    assert not any(s in text for s in secrets)

    # The sandbox is gone: every answer now comes from the record.
    with (
        ReplayServer(tmp_path / "rec") as replay,
        Client(
            base_url=replay.base_url, token="replay", output_dir=tmp_path / "out2", progress=False
        ) as c,
    ):
        replayed = widget_session(c)
    assert replay.unmatched == []
    assert replayed.keys() == recorded.keys()
    for name, value in recorded.items():
        assert replayed[name] == value, name


def test_replay_serves_the_recorded_field_types_and_states(tmp_path: Path) -> None:
    """A record of a server that answers status 0 and strings replays as such: the client sees
    exactly what the user's client saw (here: it still finds the faces)."""
    recorder = Recorder(tmp_path / "rec", bodies=True)
    with (
        Sandbox(port=0, data_dir=tmp_path / "sb", engine="instant", success_status=0) as sb,
        Client.for_sandbox(sb, output_dir=tmp_path / "o1", progress=False, record=recorder) as c,
    ):
        faces = c.detect_faces(samples.grace_hopper())
    detail = [
        line["response"]["data"]
        for line in read_session(recorder.path)
        if line.get("path") == "/v1/task/detail"
    ]
    assert detail[-1]["status"] == 0
    with (
        ReplayServer(recorder.path) as replay,
        Client(
            base_url=replay.base_url, token="x", output_dir=tmp_path / "o2", progress=False
        ) as c,
    ):
        again = c.detect_faces(samples.grace_hopper())
    assert [f.points for f in again] == [f.points for f in faces]
    assert replay.unmatched == []


def test_a_record_without_bodies_names_the_missing_files(tmp_path: Path) -> None:
    with (
        Sandbox(port=0, data_dir=tmp_path / "sb", engine="instant") as sb,
        Client.for_sandbox(
            sb, output_dir=tmp_path / "o1", progress=False, record=tmp_path / "r"
        ) as c,
    ):
        c.detect_faces(samples.grace_hopper())
    with (
        ReplayServer(tmp_path / "r") as replay,
        Client(
            base_url=replay.base_url, token="x", output_dir=tmp_path / "o2", progress=False
        ) as c,
        pytest.raises(MioError, match="storage answered HTTP 404"),
    ):
        c.detect_faces(samples.grace_hopper())
    assert replay.unmatched and all("no body recorded" in u for u in replay.unmatched)
