"""Nothing paid twice, nothing lost: restarts on a new port, Ctrl-C during a task POST, two
sandboxes sharing one output folder. Counted in the sandbox's task table."""

from __future__ import annotations

import shutil
import signal
import threading
from pathlib import Path

import pytest
import requests
from client_testkit import FAST_RETRY, portrait

from mio_nb import Client, ImageResult
from mio_nb import protocol as P
from mio_nb.errors import OutputFolderError
from mio_nb.sandbox import Faults, Sandbox


def _client(sb: Sandbox, out: Path) -> Client:
    return Client.for_sandbox(sb, output_dir=out, retry=FAST_RETRY, progress=False)


def test_a_sandbox_restarted_on_a_new_port_finds_its_pending_tasks(
    tmp_path: Path, media: dict[str, Path]
) -> None:
    data = tmp_path / "sandbox-data"
    out = tmp_path / "out"
    with Sandbox(port=0, data_dir=data, engine="instant") as first:
        first.set_faults(Faults(task_seconds=30.0))  # still running when the sandbox stops
        old_port, server_id = first.port, first.server_id
        client = _client(first, out)
        task = client.submit_image_swap(media["jpg"], media["png"])
        assert [t.id for t in client.pending()] == [task.id]
        client.close()
    with Sandbox(port=0, data_dir=data, engine="instant") as again:
        assert again.port != old_port and again.server_id == server_id
        client = _client(again, out)
        (pending,) = client.pending()
        assert pending.id == task.id and pending.type == P.TaskType.FACE_SWAP
        result = pending.wait(timeout=60)
        assert isinstance(result, ImageResult) and result.path.stat().st_size > 0
        assert client.pending() == []
        (entry,) = client.history()
        assert entry.status == "done" and entry.files == (str(result.path),)
        assert [row.id for row in again.tasks()] == [task.id]  # one task, paid once


def test_ctrl_c_during_a_slow_task_post_leaves_an_unconfirmed_attempt(
    sb: Sandbox, tmp_path: Path, media: dict[str, Path], watch
) -> None:
    client = _client(sb, tmp_path / "out")
    assert client.server_id == sb.server_id
    # The task is created at once; its answer comes 3 s later. Ctrl-C lands in between.
    sb.set_faults(Faults(latency=3.0, fault_phase="after", only_paths=(P.FACE_SWAP_PATH,)))
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(1.0, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as info:
            client.swap_image(media["jpg"], media["png"])
    finally:
        timer.join()
    message = str(info.value)
    assert "may exist" in message and "client.history()" in message
    (entry,) = client.history()
    assert entry.status == "unconfirmed" and entry.task_id is None
    assert entry.type == "face-swap" and entry.attempt and entry.attempt[:8] in message
    assert "answer not received" in entry.error["message"]
    assert entry.inputs["original"]["name"] == media["jpg"].name
    (row,) = watch.new()  # the task the interrupted request created: known to the journal
    assert row.type == "face-swap"
    # A new client (a kernel restart) sees the same.
    (again,) = _client(sb, tmp_path / "out").history()
    assert again.status == "unconfirmed" and again.attempt == entry.attempt


def _stored(sb: Sandbox, key: str) -> bytes:
    resp = requests.get(sb.presign(key), timeout=10)
    resp.raise_for_status()
    return resp.content


def test_two_sandbox_sessions_share_an_output_folder_without_mixing_results(
    tmp_path: Path, media: dict[str, Path]
) -> None:
    out = tmp_path / "out"
    other_original = tmp_path / "face.png"  # same name as the first original, other picture
    portrait((180, 220), seed=5).save(other_original)
    with Sandbox(port=0, engine="instant") as a:
        first = _client(a, out).swap_image(media["png"], media["jpg"])
        first_bytes = first.path.read_bytes()
        assert _stored(a, first.merge_key) == first_bytes
    with Sandbox(port=0, engine="instant") as b:  # a fresh sandbox: task ids start at 1 again
        client = _client(b, out)
        assert client.server_id != a.server_id
        second = client.swap_image(other_original, media["png"])
        assert second.task_id == first.task_id
        assert second.path != first.path
        assert second.path.read_bytes() == _stored(b, second.merge_key)
        assert second.path.read_bytes() != first_bytes
        assert first.path.read_bytes() == first_bytes  # never overwritten
        # Asking b for "its" task of that id gives b's result, not a's file.
        again = client.task(second.task_id).wait(timeout=30)
        assert isinstance(again, ImageResult) and again.path == second.path
        assert [t.task_id for t in client.pending()] == []
        assert len(b.tasks()) == 1
    servers = sorted(e.server for e in _client_for_history(out))
    assert servers == sorted([a.server_id, b.server_id])


def _client_for_history(out: Path) -> list:
    from mio_nb.journal import JOURNAL_NAME, Journal

    return Journal(out / JOURNAL_NAME).entries()


def test_a_result_file_of_another_task_is_never_taken_as_done(
    client: Client, sb: Sandbox, media: dict[str, Path]
) -> None:
    result = client.swap_image(media["jpg"], media["png"])
    stranger = result.path.read_bytes()[::-1]  # same size, other content, not in the journal
    result.path.write_bytes(stranger)
    client.journal.path.unlink()  # the journal no longer vouches for the file
    again = client.task(result.task_id).wait(timeout=30)
    assert isinstance(again, ImageResult) and again.path != result.path
    assert again.path.read_bytes() == _stored(sb, again.merge_key)
    assert result.path.read_bytes() == stranger  # left alone


def test_a_folder_that_breaks_after_the_submit_names_the_task_to_resume(
    client: Client, sb: Sandbox, media: dict[str, Path], watch
) -> None:
    task = client.submit_image_swap(media["jpg"], media["png"])
    out = client.output_dir
    shutil.rmtree(out)
    out.write_text("a file in the way")  # the folder went away between submit and save
    with pytest.raises(OutputFolderError) as info:
        task.wait(timeout=30)
    assert info.value.task_id == task.id and f"client.task({task.id}).wait()" in str(info.value)
    assert str(out) in str(info.value)
    out.unlink()
    result = client.task(task.id).wait(timeout=30)
    assert isinstance(result, ImageResult) and result.path.stat().st_size > 0
    assert len(watch.new()) == 1  # resumed, not paid again
