"""Pictures built to make a decoder slow (thousands of JPEG segments, PNG chunks) are refused
within a second, by the client before any request and by the sandbox on upload (701)."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import pytest
import requests
from client_testkit import portrait

from mio_nb import protocol
from mio_nb.client import Client
from mio_nb.errors import CorruptFileError
from mio_nb.sandbox import Sandbox


def _jpeg(segments: int, marker: int = 0xE1, payload: bytes = b"Exif\0\0" + b"\0" * 64) -> bytes:
    buf = io.BytesIO()
    portrait((64, 64)).save(buf, format="JPEG")
    data = buf.getvalue()
    seg = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + seg * segments + data[2:]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(extra: bytes, where: str = "before") -> bytes:
    buf = io.BytesIO()
    portrait((64, 64)).save(buf, format="PNG")
    data = buf.getvalue()
    ihdr_end = 8 + 25
    iend = data.rindex(b"IEND") - 4
    if where == "before":
        return data[:ihdr_end] + extra + data[ihdr_end:]
    return data[:iend] + extra + data[iend:]


HOSTILE = {
    "jpeg-800-exif": lambda: _jpeg(800),
    "jpeg-5000-exif": lambda: _jpeg(5000),
    "jpeg-101-app2": lambda: _jpeg(101, 0xE2, b"ICC_PROFILE\0" + b"\0" * 32),
    "jpeg-3000-com": lambda: _jpeg(3000, 0xFE, b"c" * 8),
    "png-300-text": lambda: _png(_png_chunk(b"tEXt", b"k\0v") * 300),
    "png-5000-ztxt": lambda: _png(_png_chunk(b"zTXt", b"k\0\0" + zlib.compress(b"v")) * 5000),
    "png-70000-empty-idat": lambda: _png(_png_chunk(b"IDAT", b"") * 70_000, "after"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_the_client_refuses_a_hostile_picture_within_a_second_before_any_request(
    client: Client, tmp_path: Path, media: dict[str, Path], name: str
) -> None:
    path = tmp_path / ("x.jpg" if name.startswith("jpeg") else "x.png")
    path.write_bytes(HOSTILE[name]())
    start = time.monotonic()
    with pytest.raises(CorruptFileError) as caught:
        client.swap_image(path, media["jpg"])
    assert time.monotonic() - start < 1.0
    assert caught.value.code == 701
    assert "segments" in caught.value.message or "chunks" in caught.value.message
    assert client.request_count == 0


@pytest.mark.parametrize("name", list(HOSTILE))
def test_the_sandbox_refuses_a_hostile_upload_within_a_second(
    sb: Sandbox, client: Client, name: str
) -> None:
    data = HOSTILE[name]()
    suffix = "jpg" if name.startswith("jpeg") else "png"
    ticket = client._transport.call(
        "POST", protocol.UPLOAD_URL_PATH, json={"file_name": f"x.{suffix}"}
    )
    start = time.monotonic()
    resp = requests.put(ticket["upload_url"], data=data, timeout=30)
    assert time.monotonic() - start < 1.0
    assert resp.status_code == 400
    assert resp.json()["code"] == 701


@pytest.mark.parametrize("segments", [0, 5, 40])
def test_real_pictures_with_metadata_still_pass(
    client: Client, tmp_path: Path, media: dict[str, Path], segments: int
) -> None:
    path = tmp_path / "ok.jpg"
    path.write_bytes(_jpeg(segments))
    assert client.upload(path).key
