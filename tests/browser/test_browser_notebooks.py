"""The repo's notebooks, run in a real JupyterLab and in Notebook 7 (issues 5 and 9).

nbclient (tests/notebooks) proves every cell runs and what each output holds; only a browser
proves what a person sees. Each notebook is copied (with the rest of notebooks/) into the server's
root, opened in JupyterLab (/lab/...) or Notebook 7 (/notebooks/..., same server) and run with
"Run All Cells" as a newcomer would. Then: no cell failed; every widget rendered (its file inputs
are on the page, no "Error displaying widget"); every picture output (the keypoint figure of
``faces.plot()``, a swapped photo) loaded and is on screen at a readable size; every video result
plays (readyState >= 2, duration > 0, its time advances) and its poster is a picture. A video
result saved outside the server's root plays as well: no output needs the server's files.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
UIS = ("lab", "notebook")


def _code_cells(nb: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def _shows(cell: dict[str, Any], what: str) -> bool:
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        html = "".join(data.get("text/html", ""))
        if what == "video" and "<video" in html:
            return True
        if what == "image" and "<video" not in html and ({"image/png", "image/jpeg"} & set(data)):
            return True
    return False


def assert_video_plays(lab, index: int) -> None:
    video = lab.cell_video(index)
    assert video is not None, f"cell {index}: no <video> on the page"
    assert video["error"] is None, f"cell {index}: MediaError {video['error']}"
    assert video["readyState"] >= 2 and video["duration"] > 0, video
    assert video["currentTime"] > 0, f"cell {index}: the video did not play: {video}"
    assert video["poster"] and video["poster"]["width"] > 32, f"poster is no picture: {video}"
    assert video["src"].startswith("data:video/mp4"), video["src"]
    assert video["shown"] > 200, video


def assert_pictures_shown(lab, index: int) -> None:
    images = lab.cell_images(index)
    assert images, f"cell {index}: no picture on the page"
    for image in images:
        assert image["loaded"] and image["width"] > 100 and image["shown"] > 100, image


@pytest.mark.timeout(900)
@pytest.mark.parametrize("ui", UIS)
@pytest.mark.parametrize("name", ["01_quickstart.ipynb", "02_group_photo.ipynb", "03_video.ipynb"])
def test_notebook_runs_all_and_shows_its_outputs(lab, ui: str, name: str) -> None:
    folder = lab.server.root / f"repo-notebooks-{ui}-{Path(name).stem}"
    shutil.copytree(
        NOTEBOOKS, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "mio_outputs")
    )
    lab.open_notebook(folder / name, ui=ui)
    nb = lab.run_all(timeout=600)
    lab.shot(f"{ui}-after-run-all")

    cells = _code_cells(nb)
    plots = [i for i, c in cells if ".plot()" in "".join(c["source"])]
    for index in plots:  # the keypoint figure is a picture, not "<Figure size ...>"
        assert _shows(nb["cells"][index], "image"), f"cell {index} shows no picture"
    for index, cell in cells:
        if _shows(cell, "image"):
            assert_pictures_shown(lab, index)
            if index in plots:
                lab.shot(f"{ui}-keypoint-figure")
        if _shows(cell, "video"):
            assert_video_plays(lab, index)
    if any("FaceSwapWidget(" in "".join(c["source"]) for _, c in cells):
        page = lab.page
        inputs = page.locator(
            '.jp-OutputArea-output input[type="file"][aria-label="Original file"]'
        )
        inputs.first.wait_for(state="attached", timeout=60_000)  # views render after the run
        assert page.get_by_text("Error displaying widget").count() == 0
        alerts = [
            t.strip()
            for t in page.locator('.jp-OutputArea-output [role="alert"]').all_inner_texts()
            if t.strip()
        ]
        assert not alerts, f"a widget shows an error: {alerts}"
    if name == "03_video.ipynb":
        assert sum(_shows(c, "video") for _, c in cells) == 2
    lab.shot(f"{ui}-checked")


VIDEO_OUTSIDE_ROOT = [
    "import tempfile\nfrom pathlib import Path\nimport mio_nb\nfrom mio_nb import samples\n"
    "out = Path(tempfile.mkdtemp(prefix='mio-outside-root-'))\n"
    "client = mio_nb.connect(output_dir=out)\n"
    "assert not out.resolve().is_relative_to(Path.cwd().resolve())",
    "result = client.swap_video(samples.sample_video(faces=1, seconds=2), samples.astronaut())\n"
    "assert result.path.parent == out\n"
    "result",
]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("ui", UIS)
def test_video_result_saved_outside_the_server_root_plays(lab, ui: str) -> None:
    path = lab.write_notebook(f"video_outside_root_{ui}", VIDEO_OUTSIDE_ROOT)
    lab.open_notebook(path, ui=ui)
    nb = lab.run_all(timeout=300)
    assert _shows(nb["cells"][1], "video")
    assert_video_plays(lab, 1)
    lab.shot(f"{ui}-video-outside-root")


def test_notebook7_tree_is_served(lab) -> None:
    """The set-up installs Notebook 7: its file browser answers at /tree."""
    response = lab.page.goto(f"{lab.server.url}/tree?token={lab.server.token}")
    assert response is not None and response.status == 200
    lab.page.wait_for_selector(".jp-DirListing", timeout=60_000)
