"""A file that changes while it uploads is an error at once, never a hang; nothing is paid."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mio_nb import Client
from mio_nb.errors import FileChangedError
from mio_nb.sandbox import Faults, Sandbox


@pytest.fixture
def big_png(tmp_path: Path) -> Path:
    """An 18 MB photo-sized PNG (noise, stored uncompressed): many reads to upload."""
    pixels = np.random.default_rng(0).integers(0, 255, (2500, 2500, 3), dtype=np.uint8)
    path = tmp_path / "big.png"
    Image.fromarray(pixels).save(path, compress_level=0)
    return path


@pytest.mark.parametrize("change", ["truncated", "rewritten"])
def test_a_file_changed_during_its_upload_fails_at_once(
    client: Client, sb: Sandbox, media: dict[str, Path], big_png: Path, watch, change: str
) -> None:
    # Storage waits 2 s before reading the body: the upload is mid-way when the file changes.
    sb.set_faults(Faults(latency=2.0, only_paths=("/storage",)))

    def alter() -> None:
        if change == "truncated":
            os.truncate(big_png, big_png.stat().st_size // 3)
        else:  # same size, new content (an editor saving over it)
            with open(big_png, "r+b") as f:
                f.seek(1000)
                f.write(b"\0" * 1000)
            st = big_png.stat()
            os.utime(big_png, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    timer = threading.Timer(0.5, alter)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(FileChangedError) as info:
            client.swap_image(big_png, media["png"])
    finally:
        timer.join()
    assert time.monotonic() - started < 30
    text = str(info.value)
    assert (
        "The original file" in text and "big.png" in text and "while it was being uploaded" in text
    )
    assert watch.new() == [] and client.history() == []  # nothing paid, nothing to resume
