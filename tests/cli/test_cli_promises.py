"""The command line keeps the README's promise with no credentials at all: the default sandbox
(a new port on every start) is the same server to the journal, so a rerun pays for nothing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageOps

from mio_nb import samples


def _mio(*args: object, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIOCREATE_", "MIO_NB_"))}
    env["HOME"] = str(home)  # the default sandbox lives in $HOME/.cache/mio-nb/sandbox
    env["MIO_NB_SANDBOX_ENGINE"] = "instant"
    return subprocess.run(
        [sys.executable, "-m", "mio_nb.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=home,
        env=env,
        timeout=300,
    )


def _task_table(home: Path) -> list[tuple[int, str]]:
    db = sqlite3.connect(home / ".cache" / "mio-nb" / "sandbox" / "tasks.sqlite3")
    try:
        return list(db.execute("SELECT id, type FROM tasks ORDER BY id"))
    finally:
        db.close()


def test_batch_rerun_with_the_default_sandbox_makes_no_new_task(tmp_path: Path) -> None:
    for i in range(4):
        with Image.open(samples.grace_hopper() if i % 2 else samples.astronaut()) as im:
            img = im.convert("RGB").resize((200 + 10 * i, 200 + 10 * i))
        (ImageOps.mirror(img) if i >= 2 else img).save(tmp_path / f"p{i}.jpg", quality=90)
    rows = "".join(f"p{i}.jpg,{samples.grace_hopper()}\n" for i in range(4))
    (tmp_path / "jobs.csv").write_text("original,new_face\n" + rows)

    first = _mio("batch", "jobs.csv", "-o", "out", home=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Sandbox at" in first.stderr and "4 of 4 done" in first.stderr
    made = _task_table(tmp_path)
    assert len(made) == 4

    again = _mio("batch", "jobs.csv", "-o", "out", home=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("from an earlier run") == 4
    assert _task_table(tmp_path) == made  # 0 new tasks
    results = sorted(p.name for p in (tmp_path / "out").glob("*-swap-*"))
    assert len(results) == 4, results


def test_an_unusable_input_exits_2_before_any_task(tmp_path: Path) -> None:
    from mio_nb.sandbox import Sandbox

    good = tmp_path / "face.jpg"
    with Image.open(samples.astronaut()) as im:
        im.convert("RGB").save(good, quality=90)
    (tmp_path / "cut.jpg").write_bytes(good.read_bytes()[:5000])
    with Sandbox(port=0, data_dir=tmp_path / "sb", engine="instant") as sb:
        flags = ["--base-url", sb.base_url, "--token", sb.token]
        run = _mio("swap", "cut.jpg", good, *flags, home=tmp_path)
        blocked = _mio("swap", good, good, "--output-dir", "face.jpg/out", *flags, home=tmp_path)
        assert sb.tasks() == []
    assert run.returncode == 2, run.stderr
    assert "The original file" in run.stderr and "cut.jpg" in run.stderr
    assert blocked.returncode == 2, blocked.stderr
    assert "output folder" in blocked.stderr
