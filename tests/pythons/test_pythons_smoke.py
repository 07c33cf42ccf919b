"""The sandbox loads, detects and swaps on every supported Python without setuptools (issue 9).

The whole suite runs on one Python (the venv's, 3.11); ``scripts/test.sh`` also makes fresh venvs
of Python 3.12 and 3.13 with ``scripts/setup.sh --python X --venv DIR --extras sandbox`` (no
setuptools in them: 3.12+ venvs have none, so ``pkg_resources`` is absent, as on Colab) and names
them in ``MIO_NB_SMOKE_VENVS`` ("3.12=DIR 3.13=DIR"). Each test runs ``mio_nb.connect()`` there in
a fresh interpreter: it must give the sandbox, find the faces of a group photo and swap a face.
Without that variable the venvs are looked for at ``.venv-3.12`` and ``.venv-3.13``; a missing one
is skipped, unless ``MIO_NB_REQUIRE_SMOKE=1`` (set by scripts/test.sh), which makes it a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VERSIONS = ("3.12", "3.13")

SMOKE = textwrap.dedent(
    """
    import importlib.util, json, sys
    if "--block-setuptools" in sys.argv:  # as if the running venv had none
        sys.modules.update({"setuptools": None, "pkg_resources": None})
        importlib.util.find_spec = lambda name, *a, _find=importlib.util.find_spec: (
            None if name in ("setuptools", "pkg_resources") else _find(name, *a))
    from PIL import Image, ImageChops, ImageStat
    import mio_nb
    from mio_nb import samples

    client = mio_nb.connect(quiet=True, output_dir=sys.argv[1])
    photo = samples.group_photo(faces=2)
    faces = client.detect_faces(photo)
    result = client.swap_image(samples.grace_hopper(), samples.astronaut())
    with Image.open(samples.grace_hopper()) as before, Image.open(result.path) as after:
        diff = ImageChops.difference(before.convert("RGB"), after.convert("RGB"))
        changed = ImageStat.Stat(diff.convert("L")).mean[0]
        size = after.size
    print(json.dumps({
        "version": "%d.%d" % sys.version_info[:2],
        "prefix": sys.prefix,
        "setuptools": importlib.util.find_spec("setuptools") is not None,
        "pkg_resources": importlib.util.find_spec("pkg_resources") is not None,
        "base_url": client.base_url,
        "faces": len(faces),
        "result": str(result.path),
        "size": size,
        "changed": changed,
    }))
    """
)


def _venvs() -> dict[str, Path]:
    named = os.environ.get("MIO_NB_SMOKE_VENVS", "")
    if named:
        return {v: Path(p) for v, _, p in (item.partition("=") for item in named.split())}
    return {v: REPO / f".venv-{v}" for v in VERSIONS}


def _smoke(python: Path, tmp_path: Path, *args: str) -> dict:
    """Run the smoke script with ``python`` in a clean environment; what it saw."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MIOCREATE_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(
        HOME=str(tmp_path),  # no cached samples, sandbox data or Colab/Jupyter settings
        MIO_NB_SANDBOX_DIR=str(tmp_path / "sandbox"),
        MIO_NB_SAMPLES_DIR=str(tmp_path / "samples"),
    )
    if args:  # the suite's own interpreter: its mio_nb is the checkout under test
        env["PYTHONPATH"] = str(REPO)
    run = subprocess.run(
        [str(python), "-c", SMOKE, str(tmp_path / "out"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=540,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    # Only the tasks' progress lines (tqdm) may reach stderr: no warning, no log record.
    stray = [
        line
        for line in run.stderr.replace("\r", "\n").splitlines()
        if line.strip() and not re.fullmatch(r"\s*(Task \d+: [\w ]+)?\s*\[\d\d:\d\d\]\s*", line)
    ]
    assert not stray, f"stray stderr: {stray[:10]}"
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert not seen["setuptools"] and not seen["pkg_resources"], "setuptools must be absent"
    assert seen["base_url"].startswith("http://127.0.0.1:")
    assert seen["faces"] == 2
    assert Path(seen["result"]).is_file() and seen["size"] == [512, 600]
    # The face was really swapped: the picture changed, but not everywhere.
    assert 1.0 < seen["changed"] < 60.0, seen["changed"]
    return seen


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_suites_python_without_setuptools_detects_and_swaps(tmp_path: Path) -> None:
    """Python 3.11 venvs come with setuptools: block it, as a 3.11 without it would be."""
    seen = _smoke(Path(sys.executable), tmp_path, "--block-setuptools")
    assert seen["version"] == "{}.{}".format(*sys.version_info[:2])


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("version", VERSIONS)
def test_fresh_venv_without_setuptools_detects_and_swaps(version: str, tmp_path: Path) -> None:
    venv = _venvs().get(version)
    python = venv / "bin" / "python" if venv else None
    if python is None or not python.exists():
        message = f"no Python {version} venv (scripts/setup.sh --python {version} --venv DIR)"
        if os.environ.get("MIO_NB_REQUIRE_SMOKE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    seen = _smoke(python, tmp_path)
    assert seen["version"] == version
    assert Path(seen["prefix"]).resolve() == venv.resolve()
