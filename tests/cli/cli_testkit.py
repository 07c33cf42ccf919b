"""Running the ``mio-nb`` command line as a real subprocess against a sandbox on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mio_nb.sandbox import Sandbox


def mio(
    *args: object,
    sb: Sandbox | None = None,
    cwd: Path,
    token: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``mio-nb ARGS`` in ``cwd`` (its HOME too: no sandbox or cache of the user's), pointed at
    ``sb`` when given, with no MIOCREATE_* variable of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIOCREATE_")}
    env["HOME"] = str(cwd)
    flags = ["--base-url", sb.base_url, "--token", token or sb.token] if sb else []
    return subprocess.run(
        [sys.executable, "-m", "mio_nb.cli", *map(str, args), *flags],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )
