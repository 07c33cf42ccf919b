"""Fixtures of the batch tests: real sandboxes on loopback and real photos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mio_nb import samples
from mio_nb.client import Client
from mio_nb.sandbox import Faults, Sandbox


@pytest.fixture(scope="session")
def instant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(port=0, data_dir=tmp_path_factory.mktemp("batch-sb"), engine="instant") as sb:
        yield sb


@pytest.fixture
def sb(instant: Sandbox) -> Iterator[Sandbox]:
    """The instant sandbox, with its faults off before and after each test."""
    instant.set_faults(Faults())
    yield instant
    instant.set_faults(Faults())


@pytest.fixture
def client(sb: Sandbox, tmp_path: Path) -> Iterator[Client]:
    with Client.for_sandbox(sb, output_dir=tmp_path / "out", progress=False) as c:
        yield c


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Eight distinct one-face photos (the portraits, mirrored, tinted, resized)."""
    from PIL import Image, ImageOps

    folder = tmp_path_factory.mktemp("photos")
    out = []
    for i in range(8):
        src = samples.grace_hopper() if i % 2 == 0 else samples.astronaut()
        with Image.open(src) as im:
            img = im.convert("RGB").resize((384 + 8 * i, 384 + 8 * i))
        if i % 4 >= 2:
            img = ImageOps.mirror(img)
        path = folder / f"photo-{i}.jpg"
        img.save(path, quality=90)
        out.append(path)
    return out
