"""Fixtures for the sandbox tests: real servers on loopback, spoken to with plain ``requests``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_helpers import Api

from mio_nb.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox with the instant engine, shared by the tests of one module."""
    with Sandbox(engine="instant", data_dir=tmp_path_factory.mktemp("sandbox")) as sandbox:
        yield sandbox


@pytest.fixture
def api(sb: Sandbox) -> Api:
    return Api(sb)


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox with the real engine (in its process), shared by the tests of one module;
    skipped where the engine's packages are missing."""
    try:
        sb = Sandbox(engine="real", data_dir=tmp_path_factory.mktemp("real"))
    except ImportError as exc:
        pytest.skip(str(exc))
    with sb:
        yield sb


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox of its own (instant engine), for tests that change faults."""
    with Sandbox(engine="instant", data_dir=tmp_path / "sandbox") as sandbox:
        yield sandbox
