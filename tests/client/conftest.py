"""Fixtures of the client tests: a real sandbox on loopback (instant engine) and real files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from client_testkit import FAST_RETRY, TaskWatch, portrait

from mio_nb.client import Client
from mio_nb.sandbox import Faults, Sandbox


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real image and video files: face.jpg, face.png, other.webp, clip.mp4."""
    from mio_nb import samples

    folder = tmp_path_factory.mktemp("media")
    out = {
        "jpg": folder / "face.jpg",
        "png": folder / "face.png",
        "webp": folder / "other.webp",
    }
    portrait().save(out["jpg"], quality=90)
    portrait(seed=1).save(out["png"])
    portrait((120, 150), seed=2).save(out["webp"])
    out["video"] = samples.sample_video(faces=1, seconds=1.0, height=240, audio=False)
    out["group"] = samples.group_photo(faces=3)
    return out


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(port=0, data_dir=tmp_path_factory.mktemp("sandbox"), engine="instant") as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The session sandbox with every fault off before and after the test."""
    sandbox.set_faults(Faults())
    yield sandbox
    sandbox.set_faults(Faults())


@pytest.fixture
def client(sb: Sandbox, tmp_path: Path) -> Iterator[Client]:
    with Client.for_sandbox(sb, output_dir=tmp_path / "out", progress=False, retry=FAST_RETRY) as c:
        yield c


@pytest.fixture
def watch(sb: Sandbox) -> TaskWatch:
    return TaskWatch(sb)
