"""What a user installs: the sdist carries everything to rebuild and test, and the wheel built
from that sdist imports and holds the widget's bundle, the sample picture and the licence
(issue 9). Built offline with hatchling (the build backend, pinned in the dev extra)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import mio_nb

REPO = Path(__file__).resolve().parents[2]
SDIST_MUST_HOLD = [
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "js/build.mjs",
    "js/package.json",
    "js/package-lock.json",
    "js/src/widget.js",
    "mio_nb/static/widget.js",
    "mio_nb/static/widget.css",
    "mio_nb/data/astronaut.jpg",
    "requirements/constraints.txt",
    "scripts/setup.sh",
    "notebooks/01_quickstart.ipynb",
]


def _build(source: Path, target: str, out: Path) -> Path:
    run = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", target, "-d", str(out)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    (built,) = out.glob("*.tar.gz" if target == "sdist" else "*.whl")
    return built


@pytest.fixture(scope="module")
def sdist_and_wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("dist")
    sdist = _build(REPO, "sdist", tmp / "sdist")
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp / "unpacked", filter="data")
    (unpacked,) = (tmp / "unpacked").iterdir()
    wheel = _build(unpacked, "wheel", tmp / "wheel")
    return sdist, unpacked, wheel


def test_sdist_holds_what_rebuilds_and_tests_the_package(sdist_and_wheel) -> None:
    sdist, unpacked, _ = sdist_and_wheel
    missing = [name for name in SDIST_MUST_HOLD if not (unpacked / name).is_file()]
    assert not missing, f"{sdist.name} lacks {missing}"
    assert not list(unpacked.rglob("node_modules")) and not list(unpacked.rglob("*.pyc"))
    meta = Parser().parsestr((unpacked / "PKG-INFO").read_text("utf-8"))
    assert meta["Version"] == mio_nb.__version__
    assert meta["License-Expression"] == "MIT" and meta["License-File"] == "LICENSE"


def test_sdist_rebuilds_the_committed_bundle(sdist_and_wheel, tmp_path: Path) -> None:
    """``node build.mjs --check`` in the unpacked sdist: its sources and build script give
    exactly the bundle it ships (esbuild from js/node_modules, which scripts/test.sh installs)."""
    _, unpacked, _ = sdist_and_wheel
    modules = REPO / "js" / "node_modules"
    if shutil.which("node") is None or not (modules / "esbuild").is_dir():
        pytest.skip("needs node and js/node_modules (scripts/test.sh runs npm ci first)")
    (unpacked / "js" / "node_modules").symlink_to(modules, target_is_directory=True)
    run = subprocess.run(
        ["node", "build.mjs", "--check"],
        cwd=unpacked / "js",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "up to date" in run.stdout


def test_wheel_from_the_sdist_imports_and_holds_the_bundle(sdist_and_wheel, tmp_path) -> None:
    _, _, wheel = sdist_and_wheel
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert zf.read("mio_nb/static/widget.js") == (REPO / "mio_nb/static/widget.js").read_bytes()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(info).decode())
        zf.extractall(tmp_path / "site")
    assert {"mio_nb/data/astronaut.jpg", "mio_nb/py.typed"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert meta["License-Expression"] == "MIT" and meta["Version"] == mio_nb.__version__
    assert "scikit-image" not in " ".join(meta.get_all("Requires-Dist") or [])
    assert not any(n.startswith(("tests/", "js/")) for n in names)
    # Import it from the unpacked wheel (not from the checkout): the widget finds its bundle,
    # the samples their picture.
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import mio_nb, mio_nb.widget, mio_nb.samples\n"
        "assert mio_nb.__file__.startswith(sys.argv[1]), mio_nb.__file__\n"
        "esm = mio_nb.widget.FaceSwapWidget._esm\n"
        "print(len(esm.read_text() if hasattr(esm, 'read_text') else str(esm)))\n"
        "print((mio_nb.samples.DATA_DIR / 'astronaut.jpg').stat().st_size)\n"
    )
    run = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(tmp_path / "site")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    bundle_size, picture_size = map(int, run.stdout.split())
    assert bundle_size > 10_000 and picture_size > 10_000
