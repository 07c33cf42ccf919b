"""Housekeeping: what a kill -9 leaves (a partial upload, result files no task recorded) is gone
after a restart; tasks and files past the retention period are removed, and a client gets 702."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import requests
from sandbox_helpers import Api

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.sandbox import Sandbox

TOKEN = "housekeeping-token"
DAY = 86400.0


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def wait_for(check, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_kill_9_leftovers_are_removed_at_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "mio_nb.cli", "sandbox", "--port", "0", "--engine", "instant"]
    cmd += ["--data-dir", str(data), "--token", TOKEN, "--task-seconds", "120"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base_url = proc.stdout.readline().strip().split("=", 1)[1]  # type: ignore[union-attr]
        api = Api(SimpleNamespace(base_url=base_url, token=TOKEN))  # type: ignore[arg-type]
        image = api.upload(samples.grace_hopper())
        # A task whose results are stored, then held (task_seconds) before being recorded.
        task_id = api.create(P.FACE_SWAP_PATH, {"main_key": image, "target_key": image})
        assets = data / "objects" / "sandbox" / "asset"
        wait_for(lambda: len(files_under(assets)) == 2)
        # An upload cut short: 20 MB announced, 5 MB sent.
        got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "big.mp4"})
        u = urlsplit(got["upload_url"])
        sock = socket.create_connection((u.hostname, u.port))
        head = f"PUT {u.path}?{u.query} HTTP/1.1\r\nHost: {u.netloc}\r\n"
        sock.sendall(f"{head}Content-Length: 20000000\r\n\r\n".encode())
        sock.sendall(samples.sample_video().read_bytes()[:4096] + bytes(5_000_000))
        wait_for(lambda: sum(p.stat().st_size for p in files_under(data / "tmp")) >= 4_000_000)
        orphans = files_under(assets)
        partial = files_under(data / "tmp")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        sock.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert len(orphans) == 2 and len(partial) == 1  # the mess a crash leaves
    assert all(p.exists() for p in orphans + partial)

    with Sandbox(engine="instant", data_dir=data) as sb:
        assert not any(p.exists() for p in orphans + partial)
        result = Api(sb).done(task_id, timeout=30)  # the task ran again and was recorded
        assert files_under(data / "tmp") == []
        kept = {p.relative_to(data / "objects").as_posix() for p in files_under(assets)}
        assert kept == {result["merge_key"], result["thumbnail_key"]}
        uploads = files_under(data / "objects" / "temporary")
        assert [p.relative_to(data / "objects").as_posix() for p in uploads] == [image]


def _age_everything(data: Path, days: float) -> None:
    """Make every task and file of a stopped sandbox ``days`` older."""
    db = sqlite3.connect(data / "tasks.sqlite3")
    with db:
        db.execute(
            "UPDATE tasks SET created_at = created_at - ?, finished_at = finished_at - ?",
            (days * DAY, days * DAY),
        )
    db.close()
    for path in files_under(data / "objects"):
        st = path.stat()
        os.utime(path, (st.st_atime - days * DAY, st.st_mtime - days * DAY))


def test_tasks_and_files_past_retention_are_removed_and_answer_702(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Sandbox(engine="instant", data_dir=data) as sb:
        api = Api(sb)
        image = api.upload(samples.grace_hopper())
        swap = api.create(P.FACE_SWAP_PATH, {"main_key": image, "target_key": image})
        merge_url = api.done(swap)["merge_url"]
        faces = api.create(P.GET_FACE_PATH, {"main_key": image})
        api.done(faces)
    _age_everything(data, 8)

    # Retention is configurable: kept 10 days, an 8-day-old task is still there.
    with Sandbox(engine="instant", data_dir=data, retention_days=10) as sb:
        assert Api(sb).done(swap)["merge_key"]
    _age_everything(data, 0)  # (the restart touched nothing)

    with Sandbox(engine="instant", data_dir=data) as sb:  # default: 7 days
        api = Api(sb)
        assert sb.tasks() == []
        for task_id in (swap, faces):
            env = api.detail(task_id)
            assert env["code"] == 702, env
            assert env["message"] == (
                "The source file for the key was not found: "
                f"task {task_id} was removed after the retention period"
            )
        assert api.detail(faces + 1)["code"] == 400  # never existed: still a plain 400
        assert api.post(P.ACCESS_URL_PATH, {"key": image})["code"] == 702
        assert api.post(P.GET_FACE_PATH, {"main_key": image})["code"] == 702
        old = urlsplit(merge_url)
        r = requests.get(f"{sb.base_url}{old.path}?{old.query}", timeout=10)
        assert r.status_code == 404 and b"<Code>NoSuchKey</Code>" in r.content
        assert files_under(data / "objects") == []
        assert [p for p in (data / "objects").iterdir()] == []  # empty folders went too
        fresh = api.upload(samples.astronaut())
        assert api.create(P.GET_FACE_PATH, {"main_key": fresh}) > faces  # ids keep growing
