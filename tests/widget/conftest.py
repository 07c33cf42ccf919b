"""Fixtures for FaceSwapWidget tests: a real sandbox on loopback, a widget on it with a
recording comm, and the browser's side of its messages (see widget_testkit.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import comm
import pytest
from widget_testkit import Frontend, RecordingComm

from mio_nb.client import Client
from mio_nb.sandbox import Sandbox
from mio_nb.widget import FaceSwapWidget

CREDENTIAL_VARS = (
    "MIOCREATE_TOKEN",
    "MIOCREATE_CLIENT_ID",
    "MIOCREATE_CLIENT_SECRET",
    "MIOCREATE_TOKEN_URL",
    "MIOCREATE_BASE_URL",
)


@pytest.fixture(autouse=True)
def recording_comms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", lambda **kw: RecordingComm(**kw))


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real credentials reach a test; results go to the test's own folder."""
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(port=0, engine="real") as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox, tmp_path: Path) -> Iterator[Client]:
    c = Client.for_sandbox(sandbox, output_dir=tmp_path / "mio_outputs", progress=False)
    yield c
    c.close()


@pytest.fixture
def widget(client: Client) -> Iterator[FaceSwapWidget]:
    w = FaceSwapWidget(client=client)
    yield w
    # Background work (new-face checks) ends here, not in the next test's sandbox tasks.
    with contextlib.suppress(Exception):
        w.wait(timeout=120)
    w.close()


@pytest.fixture
def front(widget: FaceSwapWidget) -> Frontend:
    return Frontend(widget)
