"""Choosing the server: credentials -> the real API, none -> the local sandbox, and saying so."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mio_nb
from mio_nb.backend import SANDBOX_NOTICE, resolve_backend
from mio_nb.sandbox import Sandbox

CREDENTIAL_VARS = (
    "MIOCREATE_TOKEN",
    "MIOCREATE_CLIENT_ID",
    "MIOCREATE_CLIENT_SECRET",
    "MIOCREATE_TOKEN_URL",
    "MIOCREATE_BASE_URL",
)


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)


def test_a_token_in_the_environment_selects_that_server(
    sb: Sandbox, no_credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    remote_looking = "http://api.example.invalid"
    monkeypatch.setenv("MIOCREATE_TOKEN", sb.token)
    monkeypatch.setenv("MIOCREATE_BASE_URL", remote_looking)
    backend = resolve_backend(output_dir=tmp_path)
    assert backend.mode == "api" and backend.client is not None
    assert backend.client.base_url == remote_looking
    assert backend.banner == f"MioCreate API at {remote_looking}."
    assert sb.token not in backend.banner and sb.token not in repr(backend)


def test_connect_prints_which_server_and_the_client_works(
    sb: Sandbox, no_credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MIOCREATE_TOKEN", sb.token)
    monkeypatch.setenv("MIOCREATE_BASE_URL", sb.base_url)
    out = io.StringIO()
    client = mio_nb.connect(stream=out, output_dir=tmp_path, progress=False)
    # A server on this machine is a sandbox, whatever the credentials.
    assert out.getvalue().startswith(f"Sandbox at {sb.base_url}: results are made locally")
    assert client.upload(mio_nb.samples.grace_hopper()).kind == "image"
    assert sb.token not in out.getvalue()


def test_no_credentials_fall_back_to_the_shared_sandbox(tmp_path: Path) -> None:
    # In a fresh interpreter: the shared sandbox is process-wide, and other tests own this one's.
    code = (
        "import mio_nb\n"
        "client = mio_nb.connect(output_dir='out', progress=False)\n"
        "print(client.upload(mio_nb.samples.grace_hopper()).kind)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    env["MIO_NB_SANDBOX_DIR"] = str(tmp_path / "shared")
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    banner, kind = run.stdout.splitlines()
    assert banner.startswith("Sandbox at http://127.0.0.1:") and SANDBOX_NOTICE[9:] in banner
    assert kind == "image" and (tmp_path / "shared").is_dir()


def test_without_credentials_or_sandbox_connect_says_how_to_get_either(tmp_path: Path) -> None:
    # A real interpreter in which the sandbox package cannot be imported, as in a core install.
    lines = _connect_without(tmp_path, "mio_nb.sandbox")
    assert lines[0] == "unavailable"
    assert "MIOCREATE_TOKEN" in lines[1] and "not installed" in lines[1]
    # Hints that work from PyPI (no "mio-nb" package is published there) or from a clone.
    assert "pip install dlib-bin face-recognition-models==0.3.0" in lines[1]
    assert 'pip install ".[sandbox]"' in lines[1] and "mio-nb[sandbox]" not in lines[1]
    assert lines[2].startswith("raised:") and "No MioCreate credentials" in lines[2]
    assert "pip install dlib-bin" in lines[2]


def _connect_without(tmp_path: Path, block: str) -> list[str]:
    """What resolve_backend() and connect() say in an interpreter where ``block`` (a module the
    sandbox's engine imports) cannot be imported."""
    code = (
        f"import sys; sys.modules[{block!r}] = None\n"
        "import mio_nb\n"
        "from mio_nb.backend import resolve_backend\n"
        "b = resolve_backend()\n"
        "print(b.mode); print(b.notice)\n"
        "try:\n"
        "    mio_nb.connect()\n"
        "except mio_nb.MissingCredentialsError as e:\n"
        "    print('raised:', str(e).replace(chr(10), ' '))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    env.update(HOME=str(tmp_path), MIO_NB_SANDBOX_DIR=str(tmp_path / "sandbox"))
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == "", "nothing may be printed to stderr"
    return run.stdout.splitlines()


@pytest.mark.parametrize(
    ("block", "package", "install"),
    [
        ("dlib", "dlib-bin", "pip install dlib-bin"),
        ("cv2", "opencv-python-headless", "pip install opencv-python-headless"),
        ("face_recognition_models", "face-recognition-models", "face-recognition-models==0.3.0"),
    ],
)
def test_a_missing_engine_dependency_is_named_with_its_install_command(
    tmp_path: Path, block: str, package: str, install: str
) -> None:
    mode, notice, raised = _connect_without(tmp_path, block)
    assert mode == "unavailable"
    assert "not installed" not in notice and "cannot start" in notice
    assert package in notice and install in notice and "MIOCREATE_TOKEN" in notice
    assert raised.startswith("raised:") and package in raised and install in raised
