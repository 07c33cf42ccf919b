"""The task journal: what was submitted survives a kernel restart and can be resumed."""

from __future__ import annotations

import _thread
import json
import re
import threading
from pathlib import Path

import pytest
from client_testkit import FAST_RETRY

from mio_nb import Client, FaceSet, ImageResult
from mio_nb.sandbox import Faults, Sandbox


def _new_client(sb: Sandbox, out: Path) -> Client:
    """What a notebook gets after a kernel restart: a fresh Client on the same folder."""
    return Client.for_sandbox(sb, output_dir=out, retry=FAST_RETRY, progress=False)


def test_pending_task_resumed_by_a_new_client(sb: Sandbox, tmp_path: Path, media, watch):
    sb.set_faults(Faults(task_seconds=1.0))
    first = _new_client(sb, tmp_path / "out")
    task = first.submit_image_swap(media["jpg"], media["png"], hd=True)
    detect = first.submit_detect_faces(media["group"])
    first.close()
    del first

    again = _new_client(sb, tmp_path / "out")
    entries = {e.task_id: e for e in again.history()}
    assert entries[task.id].status == "pending" and entries[task.id].type == "face-swap"
    assert entries[task.id].params == {"hd": True}
    assert entries[task.id].inputs["original"]["path"] == str(media["jpg"].absolute())
    assert sorted(t.id for t in again.pending()) == sorted([task.id, detect.id])

    result = again.task(task.id).wait(timeout=30)
    assert isinstance(result, ImageResult) and result.path.exists()
    assert result.path.name.startswith("face-swap-")
    faces = again.task(detect.id).wait(timeout=30)
    assert isinstance(faces, FaceSet) and faces.source is not None
    assert faces.source.name == media["group"].name and faces.kind == "image"

    done = {e.task_id: e for e in _new_client(sb, tmp_path / "out").history()}
    assert done[task.id].status == "done" and done[task.id].files == (str(result.path),)
    assert done[detect.id].status == "done" and len(done[detect.id].files) == len(faces)
    assert again.pending() == []
    # Waiting again reuses the saved file instead of downloading it again.
    mtime = result.path.stat().st_mtime_ns
    assert again.task(task.id).wait(timeout=30).path.stat().st_mtime_ns == mtime
    assert len(watch.assert_no_duplicates()) == 2


def test_failed_task_is_recorded(client: Client, sb: Sandbox):
    client.journal.failed(5, client.base_url, 602, "No face detected")  # as Task._fail does
    (entry,) = client.history()
    assert entry.status == "failed" and entry.error == {"code": 602, "message": "No face detected"}


def test_keyboard_interrupt_leaves_the_task_resumable(sb: Sandbox, tmp_path: Path, media):
    sb.set_faults(Faults(task_seconds=1.2))
    client = _new_client(sb, tmp_path)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt) as info:
        client.swap_image(media["jpg"], media["png"])
    timer.join()
    message = str(info.value)
    match = re.search(r"client\.task\((\d+)\)\.wait\(\)", message)
    assert match, message
    task_id = int(match.group(1))
    (entry,) = client.history()
    assert entry.task_id == task_id and entry.status == "pending"
    result = _new_client(sb, tmp_path).task(task_id).wait(timeout=30)
    assert isinstance(result, ImageResult)


def test_torn_last_line_is_skipped(client: Client, media):
    client.swap_image(media["jpg"], media["png"])
    with open(client.journal.path, "a") as f:
        f.write('{"event": "submitted", "task_id": 9')  # a crash mid-write
    (entry,) = client.history()
    assert entry.status == "done"
    lines = client.journal.path.read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines[:3]] == ["attempt", "submitted", "done"]


def test_a_journal_of_mio_nb_0_1_reads_in_the_current_vocabulary(tmp_path: Path):
    from mio_nb.journal import JOURNAL_NAME, Journal

    old = [
        {"event": "submitted", "task_id": 3, "type": "detect-faces", "server": "s", "time": 1.0},
        {"event": "done", "task_id": 3, "server": "s", "files": ["a.png"], "time": 2.0},
        {
            "event": "unconfirmed",
            "attempt": "ab12",
            "type": "multi-image-swap",
            "server": "s",
            "inputs": {},
            "params": {},
            "error": {"message": "timed out"},
            "time": 3.0,
        },
    ]
    (tmp_path / JOURNAL_NAME).write_text("".join(json.dumps(e) + "\n" for e in old))
    done, unconfirmed = Journal(tmp_path / JOURNAL_NAME).entries()
    assert (done.type, done.status, done.files) == ("get-face", "done", ("a.png",))
    assert (unconfirmed.type, unconfirmed.status) == ("multiple-face-swap", "unconfirmed")
    assert "timed out" in unconfirmed.error["message"]


def test_the_journal_sees_what_others_append_and_survives_a_torn_line(tmp_path: Path):
    """Reads parse only what was appended since the last read, and still see lines written by
    another writer (another process, another Journal), skip a torn line, and start over when
    the file is replaced."""
    from mio_nb.journal import Journal
    from mio_nb.protocol import TaskType

    path = tmp_path / "journal.jsonl"
    mine, other = Journal(path), Journal(path)
    first = mine.attempt(TaskType.FACE_SWAP, "srv", {}, {})
    mine.submitted(1, TaskType.FACE_SWAP, "srv", {}, {}, attempt=first)
    assert [e.task_id for e in mine.entries()] == [1]
    second = other.attempt(TaskType.FACE_SWAP, "srv", {}, {})
    other.submitted(2, TaskType.FACE_SWAP, "srv", {}, {}, attempt=second)
    other.done(2, "srv", ["b.png"])
    assert [e.task_id for e in mine.entries()] == [1, 2]
    assert mine.find(2, "srv").files == ("b.png",)
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"event": "done", "task_id": 1, "ser')  # a crash in the middle of a line
    assert mine.find(1, "srv").status == "pending"  # the unfinished line is not read yet
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n")
    mine.done(1, "srv", ["a.png"])
    assert mine.find(1, "srv").files == ("a.png",)  # the torn line skipped, the rest kept
    path.unlink()
    Journal(path).attempt(TaskType.GET_FACE, "srv", {}, {})
    assert [e.task_id for e in mine.entries()] == [None]  # a new file: read from its start
