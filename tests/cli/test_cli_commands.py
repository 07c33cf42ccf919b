"""The mio-nb command line, run as a real subprocess against a sandbox on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_testkit import mio

from mio_nb import samples
from mio_nb.sandbox import Faults, Sandbox


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(port=0, data_dir=tmp_path_factory.mktemp("cli-sb"), engine="instant") as sb:
        yield sb


def test_swap_saves_the_result_and_copies_it_where_asked(sb: Sandbox, tmp_path: Path) -> None:
    run = mio(
        "swap", samples.grace_hopper(), samples.astronaut(), "-o", "me.png", sb=sb, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "me.png" and (tmp_path / "me.png").stat().st_size > 0
    assert "Sandbox at" in run.stderr and sb.token not in run.stderr + run.stdout


def test_faces_lists_every_face_and_saves_the_keypoint_figure(sb: Sandbox, tmp_path: Path) -> None:
    run = mio("faces", samples.group_photo(faces=3), "-o", "faces.png", sb=sb, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("3 faces in group-3")
    assert [line.split(":")[0].strip() for line in lines[1:4]] == ["face 1", "face 2", "face 3"]
    assert (tmp_path / "faces.png").read_bytes().startswith(b"\x89PNG")


def test_batch_from_csv_reports_each_job_and_a_rerun_skips_the_done_ones(
    sb: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "a.png").write_bytes(Path(samples.astronaut()).read_bytes())
    (tmp_path / "bad.jpg").write_text("not an image")
    (tmp_path / "jobs.csv").write_text(
        "original,new_face,face\n"
        f"a.png,{samples.grace_hopper()},\n"
        f"bad.jpg,{samples.grace_hopper()},\n"
        f"{samples.group_photo(faces=3)},a.png,1\n"
        f"{samples.group_photo(faces=3)},a.png,3\n"
    )
    before = len(sb.tasks())
    run = mio("batch", "jobs.csv", "--workers", "2", sb=sb, cwd=tmp_path)
    assert run.returncode == 1, run.stderr  # one job failed
    out = run.stdout.splitlines()
    assert out[0].startswith("#0 a.png: done (task ")
    assert out[1].startswith("#1 bad.jpg: failed") and "UnsupportedFormatError" in out[1]
    assert out[2].startswith(f"#2 {samples.group_photo(faces=3).name}: done")
    assert "2 of 3 done" in run.stderr
    created = len(sb.tasks()) - before  # a swap, a get-face and a multi-face swap
    assert created == 3

    again = mio("batch", "jobs.csv", sb=sb, cwd=tmp_path)
    assert again.returncode == 1
    assert again.stdout.count("from an earlier run") == 2
    assert len(sb.tasks()) - before == created


def test_batch_stops_on_credits_with_its_own_exit_code(sb: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "originals"
    folder.mkdir()
    for i in range(3):
        (folder / f"p{i}.png").write_bytes(
            Path(samples.group_photo(faces=1)).read_bytes() + bytes(i)
        )
    sb.set_faults(Faults(credits=1))
    try:
        run = mio(
            "batch",
            folder,
            "--new-face",
            samples.astronaut(),
            "--workers",
            "1",
            sb=sb,
            cwd=tmp_path,
        )
    finally:
        sb.set_faults(Faults())
    assert run.returncode == 4, run.stderr
    assert "Credits ran out: 2 jobs were not run" in run.stderr


def test_history_and_resume(sb: Sandbox, tmp_path: Path) -> None:
    swap = mio("swap", samples.astronaut(), samples.grace_hopper(), sb=sb, cwd=tmp_path)
    assert swap.returncode == 0, swap.stderr
    history = mio("history", cwd=tmp_path)
    assert history.returncode == 0
    (line,) = history.stdout.splitlines()
    task_id = int(line.split()[2])
    assert "face-swap" in line and "done" in line
    resume = mio("resume", task_id, sb=sb, cwd=tmp_path)
    assert resume.returncode == 0, resume.stderr
    assert resume.stdout.strip() == swap.stdout.strip()


def test_a_refused_token_exits_3_without_echoing_it(sb: Sandbox, tmp_path: Path) -> None:
    bad = "sk-this-token-is-wrong-0123456789"
    run = mio("swap", samples.astronaut(), samples.grace_hopper(), sb=sb, cwd=tmp_path, token=bad)
    assert run.returncode == 3
    assert "invalid credentials" in run.stderr and bad not in run.stderr + run.stdout


@pytest.mark.parametrize("command", ["swap", "faces", "batch", "history", "resume"])
def test_every_subcommand_documents_itself_and_the_exit_codes(command: str, tmp_path: Path) -> None:
    run = mio(command, "--help", cwd=tmp_path)
    assert run.returncode == 0
    assert "--base-url" in run.stdout and "exit codes:" in run.stdout
