"""Recorded sessions in tests/doctor/replays/ replayed as regression tests: each is what a server
really answered (here: the strict reading of the reference, success as status 0, numbers as
strings, S3-shaped presigned URLs), and the client must keep doing the right thing with it.

A user's record (``mio-nb ... --record DIR``) becomes a test the same way: copy its
``session-*.jsonl`` here and write the calls it made, with ``media=`` for the files it fetched
(a record keeps no file contents)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image, PngImagePlugin

from mio_nb import samples
from mio_nb.client import Client
from mio_nb.replay import ReplayServer

REPLAYS = Path(__file__).parent / "replays"


def png_of(size: int, width: int, height: int) -> bytes:
    """A real PNG of ``width`` x ``height`` that is exactly ``size`` bytes long (a private
    ancillary chunk fills the difference), standing in for a result a record did not keep."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    plain = io.BytesIO()
    image.save(plain, format="PNG")
    info = PngImagePlugin.PngInfo()
    info.add(b"prVt", b"\0" * (size - len(plain.getvalue()) - 12))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    assert len(out.getvalue()) == size
    return out.getvalue()


def test_a_swap_finished_as_status_0_with_strings_is_saved(tmp_path: Path) -> None:
    record = REPLAYS / "swap-status0-strings-s3.jsonl"
    lines = [json.loads(x) for x in record.read_text().splitlines()]
    done = lines[-2]["response"]["data"]
    assert done["status"] == "0" and isinstance(done["additional_data"]["size"], str)
    fetched = next(x for x in lines if x["kind"] == "storage" and x["method"] == "GET")
    extra = done["additional_data"]
    result = png_of(int(extra["size"]), int(extra["width"]), int(extra["height"]))
    with (
        ReplayServer(record, media={fetched["path"]: result}) as replay,
        Client(base_url=replay.base_url, token="t", output_dir=tmp_path, progress=False) as c,
    ):
        swapped = c.swap_image(samples.grace_hopper(), samples.astronaut())
    assert replay.unmatched == []
    assert swapped.task_id == 1 and (swapped.width, swapped.height) == (512, 600)
    assert swapped.path.read_bytes() == result


def test_python_m_mio_nb_replay_serves_a_record(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    import requests

    server = subprocess.Popen(
        [sys.executable, "-m", "mio_nb.replay", str(REPLAYS / "swap-status0-strings-s3.jsonl")],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert server.stdout is not None
        base = server.stdout.readline().strip().removeprefix("MIOCREATE_BASE_URL=")
        assert server.stdout.readline().strip() == "MIOCREATE_TOKEN=replay"
        answer = requests.get(f"{base}/v1/task/detail", params={"id": 1}, timeout=10).json()
        assert answer["data"]["status"] == "2", "the recorded states, in order"
        assert (
            requests.get(f"{base}/v1/task/detail?id=1", timeout=10).json()["data"]["status"] == "0"
        )
        missing = requests.post(f"{base}/v1/task/get-face", json={}, timeout=10).json()
        assert missing["code"] == 400 and "no recorded answer" in missing["message"]
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=10)
    assert "no recorded answer: POST /v1/task/get-face" in out


def test_a_doctor_record_replays_into_the_same_verdict(tmp_path: Path, sb) -> None:
    """What a user sends after `mio-nb doctor --record DIR` reproduces their FIX lines here."""
    from standin import Reading, StandIn

    import mio_nb
    from mio_nb.doctor import TINY_PNG
    from mio_nb.recording import read_session

    with StandIn(sb, Reading(auth="bare", strings=True, amz=True), host="127.0.0.2") as api:
        theirs = mio_nb.doctor(
            base_url=api.base_url,
            client_id=sb.client_id,
            client_secret=sb.client_secret,
            engine=False,
            record=tmp_path / "report",
        )
        fixed = mio_nb.doctor(
            base_url=api.base_url,
            client_id=sb.client_id,
            client_secret=sb.client_secret,
            auth_scheme="",
            engine=False,
            record=tmp_path / "fixed",
        )
    assert fixed.ok
    for folder, report in (("report", theirs), ("fixed", fixed)):
        puts = [
            x["path"]
            for x in read_session(tmp_path / folder)
            if x["kind"] == "storage" and x["method"] == "GET"
        ]
        with ReplayServer(tmp_path / folder, media=dict.fromkeys(puts, TINY_PNG)) as replay:
            again = mio_nb.doctor(
                base_url=replay.base_url,
                client_id="replayed-id",
                client_secret="replayed-secret",
                auth_scheme="" if folder == "fixed" else None,
                engine=False,
            )
        assert replay.unmatched == []
        seen = {c.name: c.status for c in again.checks if c.name not in ("clock",)}
        assert seen == {c.name: c.status for c in report.checks if c.name not in ("clock",)}
        assert again.check("authentication").detail == report.check("authentication").detail
