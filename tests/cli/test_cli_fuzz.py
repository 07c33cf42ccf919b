"""The command line on bad arguments, files, CSVs and folders: every case ends with a message
and exit code 2, no traceback, and no task in the sandbox's task table."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from mio_nb import samples
from mio_nb.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(port=0, data_dir=tmp_path_factory.mktemp("fuzz-sb"), engine="instant") as s:
        yield s


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("fuzz")
    face = d / "face.jpg"
    with Image.open(samples.grace_hopper()) as im:
        im.convert("RGB").resize((256, 256)).save(face, quality=90)
    other = d / "other.jpg"
    with Image.open(samples.astronaut()) as im:
        im.convert("RGB").resize((256, 256)).save(other, quality=90)
    out = {"face": face, "other": other, "dir": d}
    (d / "text.jpg").write_text("hello, I am text")
    cut = face.read_bytes()
    (d / "cut.jpg").write_bytes(cut[: len(cut) // 3])
    (d / "empty.jpg").write_bytes(b"")
    (d / "a-file").write_text("not a folder")
    (d / "empty-folder").mkdir()
    (d / "journal-is-a-folder" / "journal.jsonl").mkdir(parents=True)
    (d / "latin1.csv").write_bytes("original,new_face\ncaf\xe9.jpg,face.jpg\n".encode("latin-1"))
    (d / "first.csv").write_text("original,new_face,face\nother.jpg,face.jpg,first\n")
    (d / "empty.csv").write_text("")
    (d / "header-only.csv").write_text("original,new_face\n")
    (d / "columns.csv").write_text("photo,who\nother.jpg,face.jpg\n")
    (d / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (d / "missing-files.csv").write_text("original,new_face\nnope.jpg,face.jpg\nx.png,y.png\n")
    (d / "short-rows.csv").write_text("original,new_face\nother.jpg\n")
    (d / "text-rows.csv").write_text("original,new_face\ntext.jpg,face.jpg\ncut.jpg,face.jpg\n")
    (d / "negative.csv").write_text("original,new_face,face\nother.jpg,face.jpg,-1\n")
    (d / "face-zero.csv").write_text("original,new_face,face\nother.jpg,face.jpg,0\n")  # from 1
    out.update({p.name: p for p in d.iterdir()})
    return out


def _cases(f: dict[str, Path]) -> list[list[str]]:
    d = f["dir"]
    face, other = str(f["face"]), str(f["other"])
    return [
        [],
        ["--bogus"],
        ["swap"],
        ["swap", face],
        ["swap", str(d / "missing.jpg"), face],
        ["swap", str(f["text.jpg"]), face],
        ["swap", str(f["cut.jpg"]), face],
        ["swap", str(f["empty.jpg"]), face],
        ["swap", str(d / "empty-folder"), face],
        ["swap", other, str(f["text.jpg"])],
        ["swap", other, face, "-o", str(d / "no-such-dir" / "x.png")],
        ["swap", other, face, "-o", str(d / "empty-folder")],
        ["swap", other, face, "--output-dir", str(f["a-file"])],
        ["swap", other, face, "--output-dir", str(d / "journal-is-a-folder")],
        ["batch", str(d / "empty-folder"), "--new-face", face, "-o", str(f["a-file"])],
        ["faces", str(d / "missing.png")],
        ["faces", str(f["binary.csv"])],
        ["faces", other, "-o", str(d / "nowhere" / "faces.png")],
        ["batch", str(d / "missing.csv")],
        ["batch", str(f["latin1.csv"])],
        ["batch", str(f["first.csv"])],
        ["batch", str(f["empty.csv"])],
        ["batch", str(f["header-only.csv"])],
        ["batch", str(f["columns.csv"])],
        ["batch", str(f["binary.csv"])],
        ["batch", str(f["missing-files.csv"])],
        ["batch", str(f["short-rows.csv"])],
        ["batch", str(f["text-rows.csv"])],
        ["batch", str(f["negative.csv"])],
        ["batch", str(f["face-zero.csv"])],
        ["batch", str(d)],
        ["batch", str(d / "empty-folder"), "--new-face", face],
        ["batch", str(f["missing-files.csv"]), "--workers", "many"],
        ["resume", "abc"],
        ["history", "-n", "x"],
    ]


def _mio(args: list[str], sb: Sandbox, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["MIOCREATE_BASE_URL"] = sb.base_url
    env["MIOCREATE_TOKEN"] = sb.token
    return subprocess.run(
        [sys.executable, "-m", "mio_nb.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_bad_arguments_files_csvs_and_folders_end_with_a_message_and_exit_2(
    sb: Sandbox, files: dict[str, Path], tmp_path: Path
) -> None:
    before = len(sb.tasks())
    problems = []
    for args in _cases(files):
        run = _mio(args, sb, tmp_path)
        text = run.stderr + run.stdout
        if run.returncode != 2 or "Traceback" in run.stderr or not text.strip():
            problems.append(f"{args}: exit {run.returncode}\n{run.stderr[-800:]}")
    assert not problems, "\n\n".join(problems)
    assert len(sb.tasks()) == before  # nothing was sent


def test_a_file_name_that_is_not_utf8_is_swapped_without_a_traceback(
    sb: Sandbox, files: dict[str, Path], tmp_path: Path
) -> None:
    if sys.platform == "darwin":
        pytest.skip("macOS file systems refuse names that are not UTF-8")
    odd = os.fsencode(tmp_path) + b"/caf\xe9.jpg"
    with open(odd, "wb") as f:
        f.write(files["other"].read_bytes())
    run = subprocess.run(
        [sys.executable, "-m", "mio_nb.cli", "swap", odd, os.fsencode(files["face"])],
        capture_output=True,
        env={**os.environ, "MIOCREATE_BASE_URL": sb.base_url, "MIOCREATE_TOKEN": sb.token},
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    assert b"Traceback" not in run.stderr
    history = _mio(["history"], sb, tmp_path)
    assert history.returncode == 0 and "done" in history.stdout


@pytest.mark.parametrize("command", ["swap", "batch"])
def test_sigterm_ends_a_command_like_ctrl_c(
    sb: Sandbox, files: dict[str, Path], tmp_path: Path, command: str
) -> None:
    import signal
    import time

    from mio_nb.journal import Journal
    from mio_nb.sandbox import Faults

    sb.set_faults(Faults(task_seconds=60))
    try:
        before = len(sb.tasks())
        if command == "swap":
            args = ["swap", str(files["other"]), str(files["face"])]
        else:
            csv_file = tmp_path / "jobs.csv"
            csv_file.write_text(
                f"original,new_face\n{files['other']},{files['face']}\n"
                f"{files['face']},{files['other']}\n"
            )
            args = ["batch", str(csv_file)]
        env = {**os.environ, "MIOCREATE_BASE_URL": sb.base_url, "MIOCREATE_TOKEN": sb.token}
        proc = subprocess.Popen(
            [sys.executable, "-m", "mio_nb.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        deadline = time.monotonic() + 60
        while len(sb.tasks()) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 130, stderr
        assert "Traceback" not in stderr
        assert "terminated" in stderr or "keeps running" in stderr
        out = tmp_path / "mio_outputs"
        assert not list(out.glob(".part-*"))
        entries = Journal(out / "journal.jsonl").entries()
        assert entries and all(e.status == "pending" for e in entries)
        assert len(sb.tasks()) - before == len(entries)
    finally:
        sb.set_faults(Faults())
