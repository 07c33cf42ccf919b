"""Fixtures of the notebook tests: the notebooks of the repo, the cleanliness rule, and a runner
that executes a notebook with nbclient the way a newcomer would: the environment's python3 kernel,
no MioCreate credentials (so the notebooks use the local sandbox), in a scratch copy of
notebooks/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
CELL_TIMEOUT = 300  # seconds per cell


def committed_notebooks() -> list[Path]:
    """Every notebook directly under notebooks/, sorted."""
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def dirty_reasons(nb: nbformat.NotebookNode) -> list[str]:
    """Why a notebook is not clean enough to commit: outputs, execution counts, widget state."""
    reasons = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            if cell.get("outputs"):
                reasons.append(f"cell {i}: {len(cell.outputs)} output(s)")
            if cell.get("execution_count") is not None:
                reasons.append(f"cell {i}: execution_count {cell.execution_count}")
        if "execution" in cell.get("metadata", {}):
            reasons.append(f"cell {i}: execution timing in metadata")
        if "widgets" in cell.get("metadata", {}):
            reasons.append(f"cell {i}: widget state in metadata")
    if "widgets" in nb.metadata:
        reasons.append("notebook metadata holds widget state ('widgets')")
    return reasons


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "notebook_path" in metafunc.fixturenames:
        paths = committed_notebooks()
        params = [pytest.param(p, id=p.name) for p in paths] or [
            pytest.param(None, id="none", marks=pytest.mark.skip(reason="no notebooks/*.ipynb yet"))
        ]
        metafunc.parametrize("notebook_path", params)


@pytest.fixture
def check_clean() -> Callable[[nbformat.NotebookNode], list[str]]:
    return dirty_reasons


@pytest.fixture
def run_notebook(
    tmp_path: Path,
) -> Callable[[nbformat.NotebookNode, Path], nbformat.NotebookNode]:
    """``run(nb, workdir)``: execute every cell (raises on the first error), return the notebook."""
    from nbclient import NotebookClient

    sandbox_dir = tmp_path / "sandbox"
    sandbox_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIOCREATE_")}
    env.update(
        MIO_NB_SANDBOX_DIR=str(sandbox_dir),
        PYTHONUNBUFFERED="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        IPYTHONDIR=str(tmp_path / "ipython"),
    )
    env.pop("MPLBACKEND", None)

    def run(nb: nbformat.NotebookNode, workdir: Path) -> nbformat.NotebookNode:
        client = NotebookClient(
            nb,
            timeout=CELL_TIMEOUT,
            startup_timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(workdir)}},
            allow_errors=False,
            record_timing=False,
        )
        return client.execute(env=env)

    return run


@pytest.fixture
def notebooks_copy(tmp_path: Path) -> Path:
    """A scratch copy of notebooks/ (what a notebook writes lands there, not in the repo)."""
    target = tmp_path / "notebooks"
    if NOTEBOOKS.is_dir():
        ignore = shutil.ignore_patterns(".ipynb_checkpoints", "mio_outputs")
        shutil.copytree(NOTEBOOKS, target, ignore=ignore)
    else:
        target.mkdir()
    return target
