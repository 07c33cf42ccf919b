"""Every command of the README's first screen runs as written, in a fresh clone, after the demo's
setup (``.venv/`` in place): no bare ``mio-nb`` (it is not on the PATH), outputs where it says."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def first_screen_commands() -> list[str]:
    """The shell commands of README's sections before "Install in your own environment"."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    head = text.split("## Install in your own environment")[0]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", head, re.S):
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if command:
                commands.append(command)
    return commands


def test_the_first_screen_has_no_bare_mio_nb() -> None:
    commands = first_screen_commands()
    assert any("mio-nb swap" in c and "--face" in c for c in commands)
    assert any("--pair" in c for c in commands)
    for command in commands:
        assert not command.startswith("mio-nb "), command


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of this repository (its committed state), with the venv the demo makes."""
    where = tmp_path_factory.mktemp("clone") / "mio-nb"
    subprocess.run(["git", "clone", "-q", str(REPO), str(where)], check=True, timeout=120)
    (where / ".venv").symlink_to(Path(sys.prefix))
    return where


def test_every_readme_command_runs_as_written_in_a_fresh_clone(clone: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIOCREATE_")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(clone))  # the clone's code, the sandbox
    ran = 0
    for command in first_screen_commands():
        if command.startswith("scripts/"):
            continue  # the two commands themselves: tests/browser/test_browser_demo.py
        run = subprocess.run(
            command, shell=True, cwd=clone, env=env, capture_output=True, text=True, timeout=300
        )
        assert run.returncode == 0, f"{command}\n{run.stdout}\n{run.stderr}"
        for word in shlex.split(command):
            if word.startswith("demo-files/") and word.endswith(".png") and "=" not in word:
                assert (clone / word).is_file(), f"{command}: {word} is missing"
        ran += 1
    assert ran >= 4
    faces = Image.open(clone / "demo-files" / "faces.png")
    assert faces.width > 300
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout
    status = "".join(line for line in status.splitlines(True) if line.strip() != "?? .venv")
    assert status == "", f"the commands left the clone dirty:\n{status}"  # (.venv: our link)
