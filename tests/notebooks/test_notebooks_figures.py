"""Figures the package returns show a picture as a cell's last expression, whatever matplotlib
backend the user set, without importing pyplot (issue 9: ``faces.plot()`` showed only
``<Figure size 660x253 with 3 Axes>``)."""

from __future__ import annotations

from pathlib import Path

from nb_outputs import cell_kinds, check_output, python_notebook

DRAW = (
    "fig = new_figure(figsize=(3, 2))\n"
    "ax = fig.add_subplot()\n"
    "ax.imshow([[0, 1], [1, 0]], cmap='gray')\n"
    "ax.plot([0, 1], [0, 1], lw=4, color='red')\n"
)


def test_package_figures_show_a_png_under_every_backend(run_notebook, notebooks_copy: Path):
    executed = run_notebook(
        python_notebook(
            "from mio_nb.plotting import new_figure\nfrom matplotlib.figure import Figure",
            # No pyplot, the kernel's default backend: matplotlib's own Figure is text only...
            "plain = Figure(figsize=(3, 2)); plain.add_subplot().plot([0, 1])\nplain",
            # ... while the package's Figure is a picture.
            DRAW + "fig",
            "import matplotlib\nmatplotlib.use('agg')\n" + DRAW + "fig",
            "%matplotlib inline\nimport matplotlib.pyplot as plt\n" + DRAW + "fig",
            "import matplotlib\nmatplotlib.use('svg')\n" + DRAW + "fig",
        ),
        notebooks_copy,
    )
    cells = executed.cells
    assert cell_kinds(cells[1]) == {"text"}, "the contrast case: a bare Figure shows text"
    for cell in cells[2:]:
        # Exactly one output, a PNG, readable and not blank (inline's own formatter included).
        assert [sorted(o.get("data", {})) for o in cell.outputs] == [["image/png", "text/plain"]]
        assert check_output(cell.outputs[0]) == [], cell.source
