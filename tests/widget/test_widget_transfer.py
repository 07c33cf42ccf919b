"""mio_nb.transfer on its own: the upload receiver and media parts, with real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mio_nb import samples
from mio_nb.formats import human_bytes
from mio_nb.transfer import (
    MAX_OPEN_UPLOADS,
    UploadError,
    UploadReceiver,
    safe_name,
    send_media,
)


def test_receiver_writes_the_file_and_tells_its_format(tmp_path: Path):
    data = samples.astronaut().read_bytes()
    rx = UploadReceiver(tmp_path)
    rx.start("u", "new_face", "astro.png", len(data))
    received = 0
    for offset in range(0, len(data), 10_000):
        received = rx.chunk("u", offset, memoryview(data)[offset : offset + 10_000])
    assert received == len(data)
    done = rx.finish("u")
    assert done.path.read_bytes() == data and done.path.name == "astro.png"
    assert done.format.name == "png" and done.role == "new_face" and done.size == len(data)
    assert not list(tmp_path.rglob("*.part"))


def test_a_file_smaller_than_the_sniffing_head_is_still_checked(tmp_path: Path):
    rx = UploadReceiver(tmp_path)
    rx.start("u", "main", "tiny.gif", 10)
    rx.chunk("u", 0, b"GIF89a\x01\x00\x01\x00")
    assert rx.finish("u").format.name == "gif"
    rx.start("v", "main", "tiny.txt", 5)
    with pytest.raises(UploadError, match=r"tiny\.txt is text, not a picture or a video"):
        rx.chunk("v", 0, b"hello")


def test_receiver_limits_open_uploads_and_unknown_roles(tmp_path: Path):
    rx = UploadReceiver(tmp_path)
    for i in range(MAX_OPEN_UPLOADS):
        rx.start(f"u{i}", "main", "a.png", 100)
    with pytest.raises(UploadError, match="Too many files"):
        rx.start("one-more", "main", "a.png", 100)
    rx.cancel_all()
    assert rx.open_uploads == 0 and not list(tmp_path.rglob("*.part"))
    with pytest.raises(UploadError, match="Unknown upload role"):
        rx.start("x", "result", "a.png", 100)
    with pytest.raises(UploadError, match="already finished"):
        rx.chunk("never-started", 0, b"data")


def test_send_media_splits_bytes_and_files_into_numbered_parts(tmp_path: Path):
    data = bytes(range(256)) * 1000  # 256000 bytes
    path = tmp_path / "clip.bin"
    path.write_bytes(data)
    for source in (data, path):
        sent: list[tuple[dict, list]] = []
        size = send_media(
            lambda c, b, sent=sent: sent.append((c, b)),
            "k",
            "video/mp4",
            source,
            7,
            chunk_bytes=100_000,
        )
        assert size == len(data)
        assert [c["part"] for c, _ in sent] == [0, 1, 2]
        assert {(c["parts"], c["transfer"], c["size"], c["key"]) for c, _ in sent} == {
            (3, 7, len(data), "k")
        }
        assert b"".join(bytes(b[0]) for _, b in sent) == data


def test_empty_media_is_one_empty_part():
    sent: list = []
    send_media(lambda c, b: sent.append((c, b)), "k", "image/png", b"", 1)
    assert [(c["part"], c["parts"], c["size"]) for c, _ in sent] == [(0, 1, 0)]


def test_names_and_sizes_for_people():
    assert safe_name("C:\\Users\\me\\My Photo (1).JPG") == "My_Photo_1_.JPG"
    assert safe_name("...") == "file" and safe_name("", "x") == "x"
    assert [human_bytes(n) for n in (999, 1500, 250_000, 3_400_000, 500_000_000)] == [
        "999 B",
        "1.5 KB",
        "250 KB",
        "3.4 MB",
        "500 MB",
    ]
