"""The notebooks run unchanged on "the real API" when credentials are set: here the strict
stand-in on 127.0.0.2 (a host the client does not take for the sandbox), reading the reference
strictly (Bearer only, numbers as strings, success as status 0); the banner names the backend."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from standin import Reading, StandIn

from mio_nb.sandbox import Sandbox

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_the_quickstart_runs_unchanged_on_a_strict_api_and_says_so(
    tmp_path: Path, sandbox_zero: Sandbox
) -> None:
    nb = nbformat.read(NOTEBOOKS / "01_quickstart.ipynb", as_version=4)
    before = len(sandbox_zero.tasks())
    with StandIn(sandbox_zero, Reading(auth="bearer", strings=True), host="127.0.0.2") as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MIOCREATE_", "MIO_NB_"))}
        env.update(
            MIOCREATE_BASE_URL=api.base_url,
            MIOCREATE_TOKEN=sandbox_zero.token,
            MIO_NB_SANDBOX_DIR=str(tmp_path / "no-sandbox-here"),
            IPYTHONDIR=str(tmp_path / "ipython"),
        )
        NotebookClient(
            nb,
            timeout=300,
            startup_timeout=120,
            kernel_name="python3",
            allow_errors=False,
            resources={"metadata": {"path": str(tmp_path)}},
        ).execute(env=env)
    code = [c for c in nb.cells if c.cell_type == "code"]
    banner = "".join(o.get("text", "") for o in code[0].outputs if o.output_type == "stream")
    assert banner.strip() == f"MioCreate API at {api.base_url}."
    assert not (tmp_path / "no-sandbox-here").exists(), "no sandbox was started"
    assert len(sandbox_zero.tasks()) > before, "the tasks ran on the stand-in's server"
    last = code[-1].outputs
    assert any(k.startswith("image/") for o in last for k in o.get("data", {})), last
    assert sandbox_zero.token not in nbformat.writes(nb)
