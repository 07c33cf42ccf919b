"""``mio-nb sandbox`` serves until interrupted and prints what a client needs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from mio_nb import protocol as P
from mio_nb.cli import build_parser, main


def test_cli_sandbox_serves_until_interrupted(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "mio_nb.cli", "sandbox", "--port", "0", "--engine", "instant"]
    cmd += ["--data-dir", str(tmp_path), "--token", "cli-token-123", "--verbose"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline().strip() for _ in range(2)]
        assert lines[0].startswith("MIOCREATE_BASE_URL=http://127.0.0.1:"), lines
        assert lines[1] == "MIOCREATE_TOKEN=cli-token-123"
        base = lines[0].split("=", 1)[1]
        r = requests.post(
            base + P.UPLOAD_URL_PATH,
            json={"file_name": "a.png"},
            headers={"Authorization": "Bearer cli-token-123"},
            timeout=10,
        )
        assert r.json()["code"] == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        stderr = proc.stderr.read()
        assert "POST /v1/source/upload-url" in stderr  # requests are logged (verbose)
        assert "cli-token-123" not in stderr  # but never the token
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (tmp_path / "tasks.sqlite3").exists()
    assert os.stat(tmp_path / "sandbox.json").st_mode & 0o077 == 0


def test_cli_has_subcommands() -> None:
    parser = build_parser()
    args = parser.parse_args(["sandbox", "--port", "9999", "--engine", "instant"])
    got = (args.command, args.port, args.engine, args.host)
    assert got == ("sandbox", 9999, "instant", "127.0.0.1")
    assert main([]) == 2  # no subcommand: help and a usage error code
