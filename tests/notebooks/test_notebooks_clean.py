"""Committed notebooks carry no outputs, no execution counts and no widget state (issue 5).

Outputs would bloat the repo (a video swap!), leak local paths, and make the demo's "Run all" start
from a stale picture. To clean a notebook: JupyterLab's "Edit > Clear Outputs of All Cells", then
save with no widget state ("Settings > Save Widget State Automatically" off).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output


def test_committed_notebook_is_clean(notebook_path: Path, check_clean) -> None:
    nb = nbformat.read(notebook_path, as_version=4)
    nbformat.validate(nb)
    reasons = check_clean(nb)
    assert not reasons, f"{notebook_path.name} is not clean: " + "; ".join(reasons)


def test_committed_notebooks_use_the_python3_kernel(notebook_path: Path) -> None:
    nb = nbformat.read(notebook_path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", nb.metadata.get("kernelspec")


def _sample_notebook() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        new_markdown_cell("# Title"),
        new_code_cell("x = 1"),
        new_code_cell("print(x)"),
    ]
    return nb


def test_clean_check_accepts_a_clean_notebook(check_clean) -> None:
    nb = _sample_notebook()
    nbformat.validate(nb)
    assert check_clean(nb) == []


def test_clean_check_flags_each_kind_of_leftover(check_clean) -> None:
    nb = _sample_notebook()
    nb.cells[1].execution_count = 1
    nb.cells[2].execution_count = 2
    nb.cells[2].outputs = [new_output("stream", name="stdout", text="1\n")]
    nb.cells[2].metadata["execution"] = {"iopub.status.busy": "2026-11-25T00:00:00Z"}
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}
    }
    nbformat.validate(nb)
    reasons = check_clean(nb)
    assert reasons == [
        "cell 1: execution_count 1",
        "cell 2: 1 output(s)",
        "cell 2: execution_count 2",
        "cell 2: execution timing in metadata",
        "notebook metadata holds widget state ('widgets')",
    ]
    # Each leftover alone is enough to fail the check.
    for strip in ("counts", "outputs", "timing", "widgets"):
        partial = _sample_notebook()
        if strip == "counts":
            partial.cells[1].execution_count = 3
        elif strip == "outputs":
            partial.cells[2].outputs = [new_output("execute_result", data={"text/plain": "1"})]
        elif strip == "timing":
            partial.cells[1].metadata["execution"] = {}
        else:
            partial.metadata["widgets"] = {}
        assert len(check_clean(partial)) == 1, strip
