"""Fixtures of the doctor, recording and replay tests: sandboxes on loopback, no credentials
of the user's, and the strict stand-in of the public reference (standin.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mio_nb.sandbox import Faults, Sandbox

ENV_NAMES = (
    "MIOCREATE_TOKEN",
    "MIOCREATE_CLIENT_ID",
    "MIOCREATE_CLIENT_SECRET",
    "MIOCREATE_TOKEN_URL",
    "MIOCREATE_BASE_URL",
    "MIOCREATE_AUTH_SCHEME",
    "MIO_NB_RECORD",
)


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials, recording folder or Colab of the user's reach a test."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(port=0, data_dir=tmp_path_factory.mktemp("doctor-sb"), engine="instant") as sb:
        yield sb


@pytest.fixture(scope="session")
def sandbox_zero(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox that reports a finished task as status 0 (as a real server was seen to)."""
    with Sandbox(
        port=0, data_dir=tmp_path_factory.mktemp("doctor-sb0"), engine="instant", success_status=0
    ) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.set_faults(Faults())
    yield sandbox
    sandbox.set_faults(Faults())
