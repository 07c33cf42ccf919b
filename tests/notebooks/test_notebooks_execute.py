"""Every notebook in notebooks/ runs top to bottom on the local sandbox (issue 5).

Each is executed with nbclient in a scratch copy of notebooks/, on the environment's python3
kernel, with no MIOCREATE_* variable (so the notebooks pick the sandbox) and the sandbox's data in
a temporary folder; any cell error fails the test with the cell and its traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_notebook_runs_on_the_sandbox(notebook_path: Path, notebooks_copy: Path, run_notebook):
    copy = notebooks_copy / notebook_path.name
    nb = nbformat.read(copy, as_version=4)
    executed = run_notebook(nb, notebooks_copy)
    ran = [c for c in executed.cells if c.cell_type == "code" and c.source.strip()]
    assert ran, f"{notebook_path.name} has no code cell"
    assert all(c.execution_count for c in ran), "some code cells did not run"


def _env_probe_notebook() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        new_code_cell(
            "import os, sys, pathlib\n"
            "print('EXE', sys.executable)\n"
            "print('CWD', pathlib.Path.cwd())\n"
            "print('SANDBOX', os.environ.get('MIO_NB_SANDBOX_DIR'))\n"
            "print('MIOCREATE', sorted(k for k in os.environ if k.startswith('MIOCREATE_')))\n"
        ),
        new_code_cell("import mio_nb\nprint('MIO_NB', mio_nb.__version__)"),
    ]
    return nb


def test_runner_uses_venv_kernel_scratch_dir_and_no_credentials(
    run_notebook, notebooks_copy: Path, check_clean, monkeypatch
) -> None:
    # Credentials in the test process must not reach the notebook's kernel.
    monkeypatch.setenv("MIOCREATE_TOKEN", "must-not-leak")
    executed = run_notebook(_env_probe_notebook(), notebooks_copy)
    text = "".join(
        out.get("text", "") for cell in executed.cells for out in cell.get("outputs", [])
    )
    lines = dict(line.split(" ", 1) for line in text.strip().splitlines())
    assert Path(lines["EXE"]).resolve() == Path(sys.executable).resolve()
    assert Path(lines["CWD"]).resolve() == notebooks_copy.resolve()
    assert lines["SANDBOX"] and Path(lines["SANDBOX"]).is_dir()
    assert not Path(lines["SANDBOX"]).resolve().is_relative_to(Path.home() / ".cache")
    assert lines["MIOCREATE"] == "[]"
    assert lines["MIO_NB"]
    assert os.environ["MIOCREATE_TOKEN"] == "must-not-leak"
    # An executed notebook is exactly what the cleanliness check must refuse.
    assert check_clean(executed)


def test_runner_fails_on_a_cell_error(run_notebook, notebooks_copy: Path) -> None:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [new_code_cell("x = 1"), new_code_cell("raise ValueError('boom in cell 2')")]
    with pytest.raises(CellExecutionError, match="boom in cell 2"):
        run_notebook(nb, notebooks_copy)
