"""A minimal raw API client for the sandbox tests (plain ``requests``, envelopes as dicts)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

from mio_nb import protocol as P
from mio_nb.sandbox import Sandbox

TERMINAL = (P.TaskStatus.DONE_AS_ZERO, P.TaskStatus.SUCCESS, P.TaskStatus.FAILED)


class Api:
    """A minimal raw client: envelopes as dicts, nothing hidden."""

    def __init__(self, sb: Sandbox, token: str | None = None) -> None:
        self.sb = sb
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token or sb.token}"

    def url(self, path: str) -> str:
        return self.sb.base_url + path

    def post_raw(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.url(path), json=body, timeout=30, **kwargs)

    def post(self, path: str, body: Any = None) -> dict[str, Any]:
        r = self.post_raw(path, body)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def ok(self, path: str, body: Any = None) -> Any:
        env = self.post(path, body)
        assert env["code"] == 200, env
        return env["data"]

    def upload(self, src: Path | bytes, name: str | None = None) -> str:
        data = src if isinstance(src, bytes) else Path(src).read_bytes()
        if name is None:
            name = "upload.bin" if isinstance(src, bytes) else Path(src).name
        got = self.ok(P.UPLOAD_URL_PATH, {"file_name": name})
        r = requests.put(got["upload_url"], data=data, timeout=30)
        assert r.status_code == 200, (r.status_code, r.text)
        assert r.content == b""
        return got["key"]

    def create(self, path: str, body: dict[str, Any]) -> int:
        task_id = self.ok(path, body)["task_id"]
        assert isinstance(task_id, int)
        return task_id

    def detail(self, task_id: int | str) -> dict[str, Any]:
        r = self.session.get(self.url(P.TASK_DETAIL_PATH), params={"id": task_id}, timeout=30)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def wait(self, task_id: int, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            env = self.detail(task_id)
            if env["code"] != 200 or env["data"]["status"] in TERMINAL:
                return env
            assert time.monotonic() < deadline, f"task {task_id} still {env['data']['status']}"
            time.sleep(0.05)

    def done(self, task_id: int, timeout: float = 60.0) -> Any:
        env = self.wait(task_id, timeout)
        assert env["code"] == 200, env
        assert env["data"]["status"] == P.TaskStatus.SUCCESS, env
        return env["data"]["additional_data"]


def full_swap(api: Api, main: bytes, face: bytes) -> float:
    """One image swap as a client does it: two uploads, the task, polling, the download.
    Returns the seconds it took."""
    t0 = time.perf_counter()
    main_key = api.upload(main, "main.jpg")
    face_key = api.upload(face, "face.png")
    result = api.done(api.create(P.FACE_SWAP_PATH, {"main_key": main_key, "target_key": face_key}))
    r = requests.get(result["merge_url"], timeout=30)
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG"), r.status_code
    return time.perf_counter() - t0


def huge_png(width: int, height: int) -> bytes:
    """A black greyscale PNG of ``width`` x ``height`` (12000x12000: ~140 KB), made 64 rows at a
    time, never holding the picture in memory."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    packer = zlib.compressobj(9)
    rows = bytes(1 + width) * 64  # each row: filter byte 0, then black pixels
    parts = [packer.compress(rows) for _ in range(height // 64)]
    parts.append(packer.compress(bytes(1 + width) * (height % 64)))
    idat = b"".join(parts) + packer.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
