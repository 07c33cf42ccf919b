"""The repo's notebooks that show the FaceSwapWidget, run in a real JupyterLab (issue 5).

nbclient (tests/notebooks) proves every cell runs; only a browser proves the widget cells draw.
Each notebook with a FaceSwapWidget is copied (with the rest of notebooks/) into the server's root,
opened, and run with "Run All Cells" as a newcomer would: no cell may fail, and every widget must
render (its file inputs are on the page, and JupyterLab shows no "Error displaying widget").
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def widget_notebooks() -> list[Path]:
    return [
        p for p in sorted(NOTEBOOKS.glob("*.ipynb")) if "FaceSwapWidget" in p.read_text("utf-8")
    ]


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    "notebook",
    [pytest.param(p, id=p.name) for p in widget_notebooks()]
    or [pytest.param(None, id="none", marks=pytest.mark.skip(reason="no widget notebook yet"))],
)
def test_widget_notebook_runs_all_in_jupyterlab(lab, notebook: Path) -> None:
    folder = lab.server.root / f"repo-notebooks-{notebook.stem}"
    shutil.copytree(
        NOTEBOOKS, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "mio_outputs")
    )
    lab.open_notebook(folder / notebook.name)
    nb = lab.run_all(timeout=600)
    lab.shot("after-run-all")

    widget_cells = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and "FaceSwapWidget" in "".join(cell["source"])
    ]
    assert widget_cells
    page = lab.page
    inputs = page.locator('.jp-OutputArea-output input[type="file"][aria-label="Original file"]')
    inputs.first.wait_for(state="attached", timeout=60_000)  # views render after the run
    assert page.get_by_text("Error displaying widget").count() == 0
    alerts = [
        t.strip()
        for t in page.locator('.jp-OutputArea-output [role="alert"]').all_inner_texts()
        if t.strip()
    ]
    assert not alerts, f"a widget shows an error: {alerts}"
