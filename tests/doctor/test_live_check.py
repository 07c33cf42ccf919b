"""``scripts/test.sh --live`` against a stand-in of the real API (127.0.0.2, strict reading):
skipped without credentials or under CI, asks before spending, then exactly two tasks, and a
record with no secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from standin import Reading, StandIn

from mio_nb.recording import read_session
from mio_nb.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]


def live(
    *args: str, env: dict[str, str], cwd: Path, stdin: str = ""
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "test.sh"), "--live", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def records() -> list[Path]:
    """The live check's default record folders (in the repository, git-ignored)."""
    folder = REPO / "live-records"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIOCREATE_", "MIO_NB_"))}
    env.pop("CI", None)
    env.update(MIO_NB_VENV=str(Path(sys.executable).parents[1]), HOME=str(tmp_path))
    return env


def test_skipped_without_credentials_and_under_ci(tmp_path, base_env, sb: Sandbox):
    records_before = records()
    run = live(env=base_env, cwd=tmp_path)
    assert run.returncode == 0 and "live check: skipped: set MIOCREATE_TOKEN" in run.stdout
    ci = {**base_env, "CI": "true", "MIOCREATE_TOKEN": sb.token, "MIOCREATE_BASE_URL": sb.base_url}
    before = len(sb.tasks())
    run = live("--yes", env=ci, cwd=tmp_path)
    assert run.returncode == 0 and "skipped (never under CI)" in run.stdout
    assert len(sb.tasks()) == before
    assert records() == records_before, "nothing recorded when skipped"


def test_states_the_cost_asks_and_spends_nothing_unless_confirmed(tmp_path, base_env, sb):
    with StandIn(sb, Reading(strings=True), host="127.0.0.2") as api:
        env = {**base_env, "MIOCREATE_TOKEN": sb.token, "MIOCREATE_BASE_URL": api.base_url}
        before = len(sb.tasks())
        # No terminal to ask: --yes is needed.
        run = live("--record", str(tmp_path / "asked"), env=env, cwd=tmp_path, stdin="y\n")
        assert run.returncode == 2, run.stdout + run.stderr
        assert "1 image swap" in run.stdout and "a few credits" in run.stdout
        assert "Nothing spent" in run.stdout and len(sb.tasks()) == before

        run = live("--yes", "--record", str(tmp_path / "rec"), env=env, cwd=tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
    assert "All OK." in run.stdout
    assert "the MioCreate API at http://127.0.0.2" in run.stdout
    assert len(sb.tasks()) == before + 2, "one image swap and one get-face"
    assert run.stdout.count("\nOK    ") >= 2
    text = "".join(p.read_text() for p in (tmp_path / "rec").glob("*.jsonl"))
    assert sb.token not in text and sb.token not in run.stdout + run.stderr
    kinds = [(x["kind"], x.get("path")) for x in read_session(tmp_path / "rec")]
    assert ("api", "/v1/task/face-swap") in kinds and ("api", "/v1/task/get-face") in kinds
    assert ("doctor", None) in kinds


def test_stops_after_doctor_when_something_needs_a_fix(tmp_path, base_env, sb):
    with StandIn(sb, Reading(auth="bare"), host="127.0.0.2") as api:
        env = {**base_env, "MIOCREATE_TOKEN": sb.token, "MIOCREATE_BASE_URL": api.base_url}
        before = len(sb.tasks())
        run = live("--yes", "--record", str(tmp_path / "rec"), env=env, cwd=tmp_path)
    assert run.returncode == 1
    assert "set MIOCREATE_AUTH_SCHEME=''" in run.stdout
    assert "stopped after doctor" in run.stdout and len(sb.tasks()) == before
