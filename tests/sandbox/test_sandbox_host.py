"""Binding to anything but loopback needs an explicit flag, and then warns about the token."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mio_nb import protocol as P
from mio_nb.sandbox import Sandbox
from mio_nb.sandbox.runner import is_loopback

SANDBOX = [sys.executable, "-m", "mio_nb.cli", "sandbox", "--port", "0", "--engine", "instant"]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["", "0.0.0.0", "::", "192.168.1.10", "10.0.0.1"])
def test_other_hosts(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", ""])
def test_a_non_loopback_host_is_refused_without_the_flag(tmp_path: Path, host: str) -> None:
    with pytest.raises(ValueError, match="allow_remote=True"):
        Sandbox(engine="instant", data_dir=tmp_path, host=host)


def test_cli_refuses_a_non_loopback_host_without_the_flag(tmp_path: Path) -> None:
    cmd = [*SANDBOX, "--host", "0.0.0.0", "--data-dir", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--allow-remote" in proc.stderr and "not loopback" in proc.stderr
    assert "MIOCREATE_BASE_URL" not in proc.stdout


def test_cli_with_the_flag_serves_and_warns_about_the_token(tmp_path: Path) -> None:
    cmd = [*SANDBOX, "--host", "0.0.0.0", "--allow-remote", "--data-dir", str(tmp_path)]
    cmd += ["--token", "remote-token-1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = proc.stdout.readline().strip().split("=", 1)[1]  # type: ignore[union-attr]
        r = requests.get(
            base + P.TASK_DETAIL_PATH,
            params={"id": 1},
            headers={"Authorization": "Bearer remote-token-1"},
            timeout=10,
        )
        assert r.json()["code"] == 400  # served
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        stderr = proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "WARNING" in stderr and "SECURITY" in stderr
    assert "not only on loopback" in stderr
    assert "token" in stderr and str(tmp_path / "sandbox.json") in stderr
    assert "remote-token-1" not in stderr  # the warning names the risk, not the token
