"""The widget's jobs run without a comm: a real sandbox, the public client, and a board that
records what the widget would show. Waiting is Task.wait's (one poll loop in the package)."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path
from typing import Any

from PIL import Image

from mio_nb import Client, samples
from mio_nb.sandbox import Faults, Sandbox
from mio_nb.widget.jobs import Jobs, NewFace, Original, SwapRequest
from mio_nb.widget.people import seen_text
from mio_nb.widget.state import Busy, FaceCard, ResultEntry, Stopped

PACKAGE = Path(__file__).resolve().parents[2] / "mio_nb"
REAL = Path("/work/shared/fixtures/real")


class Recorder:
    """A Board that keeps everything it is told."""

    def __init__(self) -> None:
        self.busy: list[tuple[Busy | None, str]] = []
        self.media: dict[str, tuple[str, Any]] = {}
        self.faces: list[FaceCard] = []
        self.cards: dict[str, dict[str, Any]] = {}
        self.results: list[ResultEntry] = []
        self.failures: list[tuple[str, str, Stopped | None, str]] = []

    def show_busy(self, busy: Busy | None, status: str) -> None:
        self.busy.append((busy, status))

    def publish(self, key: str, mime: str, data: Any) -> None:
        self.media[key] = (mime, data)

    def faces_found(self, rev: int, faceset: Any, cards: list[FaceCard], status: str) -> bool:
        self.faces = cards
        return True

    def is_current(self, rev: int) -> bool:
        return True

    def update_card(self, label: str, **fields: Any) -> None:
        self.cards.setdefault(label, {}).update(fields)

    def add_result(self, entry: ResultEntry, result: Any) -> None:
        self.results.append(entry)

    def failed(self, what: str, message: str, stopped: Stopped | None, status: str) -> None:
        self.failures.append((what, message, stopped, status))


def test_detect_numbers_the_faces_in_reading_order_and_places_them(client: Client) -> None:
    board = Recorder()
    jobs = Jobs(client, board)
    jobs.begin()
    path = samples.group_photo(faces=4)
    faceset = jobs.detect(Original(1, Path(path), path.name, "image"))
    assert faceset is not None and [f.number for f in faceset] == [1, 2, 3, 4]
    assert [c.index for c in board.faces] == [1, 2, 3, 4]
    boxes = [c.box for c in board.faces]
    assert all(b is not None for b in boxes)
    rows: list[list[list[float]]] = []
    for box in boxes:  # reading order: rows top to bottom, left to right within a row
        if rows and abs(box[1] - rows[-1][0][1]) < box[3] / 2:
            assert box[0] > rows[-1][-1][0]
            rows[-1].append(box)
        else:
            assert not rows or box[1] > rows[-1][0][1]
            rows.append([box])
    states = [b.state for b, _ in board.busy if b]
    assert states[0] == "uploading" and states[-1] == "saving"  # faces drawn after: not busy
    assert {f"face-1-{n}" for n in range(1, 5)} <= set(board.media)


def test_stop_ends_the_wait_and_resume_finishes_the_same_task(
    client: Client, sandbox: Sandbox
) -> None:
    board = Recorder()
    jobs = Jobs(client, board)
    jobs.begin()
    path = Path(samples.grace_hopper())
    original = Original(1, path, path.name, "image")
    jobs.detect(original)
    request = SwapRequest(original, {1: NewFace(Path(samples.astronaut()), "a.png")}, {1: "A"})
    sandbox.set_faults(Faults(task_seconds=3.0))
    try:
        threading.Timer(1.0, jobs.stop_event.set).start()
        jobs.begin()
        assert jobs.swap(request) is None  # stopped: no result, nothing raised
        (what, message, stopped, status) = board.failures[-1]
        assert what == "swap" and message == "" and stopped is not None
        assert "keeps running on the server" in status and stopped.since_submitted >= 0.9
        tasks_before = len(sandbox.tasks())
        jobs.begin(stopped.since_submitted)
        result = jobs.resume(stopped, original, request)
    finally:
        sandbox.set_faults(Faults())
    assert result.task_id == stopped.task_id and len(sandbox.tasks()) == tasks_before
    entry = board.results[-1]
    assert entry.pairs == "1 -> A" and entry.original == "main-1" and entry.elapsed >= 3.0
    assert Image.open(entry.path).size == Image.open(path).size


def test_a_faceless_new_face_is_marked_so_its_card_says_why(client: Client) -> None:
    board = Recorder()
    jobs = Jobs(client, board)
    path = Path(samples.no_face())
    jobs.check_new_face("A", NewFace(path, path.name))
    assert board.cards["A"]["check"] == "none"
    assert (
        board.cards["A"]["note"]
        == f"No face found in {path.name}: it cannot be paired. Add another picture."
    )


def test_a_videos_people_are_boxed_on_a_frame_with_when_they_are_seen(
    client: Client, tmp_path: Path
) -> None:
    import imageio_ffmpeg

    # A real clip (two people), converted at test time to the MP4 the API takes.
    clip = tmp_path / "pair.mp4"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run(
        [ffmpeg, "-loglevel", "error",
         "-i", str(REAL / "head-pose-face-detection-female-and-male.gif"),
         "-t", "3", "-movflags", "+faststart", "-pix_fmt", "yuv420p",
         "-vf", "scale=trunc(iw*2/2)*2:trunc(ih*2/2)*2", str(clip)],
        check=True, timeout=120,
    )  # fmt: skip
    board = Recorder()
    jobs = Jobs(client, board)
    jobs.begin()
    faceset = jobs.detect(Original(1, clip, clip.name, "video"))
    assert faceset is not None and len(faceset) >= 2
    people = [c.person for c in board.faces]
    placed = [p for p in people if p]
    assert len(placed) >= 2, people
    for person in placed:
        assert person["frame"] in board.media and board.media[person["frame"]][0] == "image/webp"
        x, y, w, h = person["box"]
        assert (
            x >= 0 and x + w <= person["frame_width"] and y >= 0 and y + h <= person["frame_height"]
        )
        assert re.fullmatch(r"\d:\d\d(-\d:\d\d)?(, \d:\d\d(-\d:\d\d)?)*", person["seen"])
    # both people shown on one frame, side by side (not the same box twice)
    assert placed[0]["frame"] == placed[1]["frame"] and placed[0]["box"] != placed[1]["box"]


def test_seen_text_merges_close_samples_and_splits_gaps() -> None:
    assert seen_text([2.0, 2.33, 2.67, 3.0], 1 / 3) == "0:02-0:03"
    assert seen_text([0.0, 0.33, 5.0, 5.33, 5.67, 6.0], 1 / 3) == "0:00, 0:05-0:06"
    assert seen_text([61.2], 0.5) == "1:01"


def test_no_poll_loop_outside_the_task_module() -> None:
    for path in (PACKAGE / "widget").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "refresh()" not in text and "poll_interval" not in text, path.name
        assert ("time.sleep" not in text and "TaskStatus" not in text) or path.name == "jobs.py"
        assert ".wait(" not in text or "stop=" in text or path.name != "jobs.py", path.name
