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
from nb_outputs import cell_kinds, check_output, output_kind, video_sources
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook

#: For each notebook, what each code cell shows a person, in order: "text" (printed lines or a
#: text result), "image" (a picture), "widget" (the widget's view), "video" (an inline player).
EXPECTED_KINDS: dict[str, list[set[str]]] = {
    "01_quickstart.ipynb": [{"text"}, {"widget"}, {"text"}, {"text", "image"}],
    "02_group_photo.ipynb": [
        {"text"},  # the banner
        {"text", "image"},  # "3 faces found" + faces.plot(): the keypoint figure
        {"text", "image"},  # the swapped photo + where it is saved
        {"widget"},
        {"text"},
    ],
    "03_video.ipynb": [
        {"text"},
        {"text", "video"},  # the swapped clip plays inline
        {"text", "image"},  # people.plot()
        {"text", "video"},
    ],
    "04_scripting.ipynb": [{"text"}] * 5,
}


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_notebook_shows_what_a_person_expects(
    notebook_path: Path, notebooks_copy: Path, run_notebook
):
    """Every code cell runs and shows the kinds of output it should (a picture for
    ``faces.plot()``, a player for a video result, ...); every picture is readable and not
    blank; no output is over its size cap or links a file of the kernel's server; nothing
    is printed to stderr."""
    copy = notebooks_copy / notebook_path.name
    nb = nbformat.read(copy, as_version=4)
    executed = run_notebook(nb, notebooks_copy)
    ran = [c for c in executed.cells if c.cell_type == "code" and c.source.strip()]
    assert ran, f"{notebook_path.name} has no code cell"
    assert all(c.execution_count for c in ran), "some code cells did not run"
    expected = EXPECTED_KINDS.get(notebook_path.name)
    assert expected is not None, f"add {notebook_path.name} to EXPECTED_KINDS"
    seen = [cell_kinds(c) for c in ran]
    assert seen == expected, "\n".join(
        f"cell {i}: shows {sorted(s)}, expected {sorted(e)}\n{c.source[:120]}"
        for i, (s, e, c) in enumerate(zip(seen, expected + [set()] * len(seen), ran, strict=False))
        if s != e
    )
    problems = [
        f"cell {i}: {problem}"
        for i, cell in enumerate(ran)
        for output in cell.outputs
        for problem in check_output(output)
    ]
    assert not problems, "\n".join(problems)
    for cell in ran:
        for output in cell.outputs:
            if output_kind(output) == "video":
                assert [len(v) > 1000 for v in video_sources(output)] == [True]


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
