"""A recorded session holds every exchange and no secret: tokens (static and fetched), the client
secret, presigned signatures and credentials, and the random parts of keys."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from standin import AMZ_CREDENTIAL, Reading, StandIn

from mio_nb import samples
from mio_nb.client import Client
from mio_nb.recording import REDACTED, Redactor, read_session
from mio_nb.sandbox import Faults, Sandbox

#: The reference's own example of an upload URL and its key.
REFERENCE_URL = (
    "https://r2-aiautodelete-000-test.214dcedd27630abef236dcb67de0ce92.r2.cloudflarestorage.com/"
    "temporary/20240816/3620/1723807527474-df2da456-b92b-b339-3bee-76365268665a.jpg?"
    "X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
    "91ac9d3ee865be05c575d38c9bdd1275%2F20240816%2Fauto%2Fs3%2Faws4_request&X-Amz-Date="
    "20240816T112527Z&X-Amz-SignedHeaders=host&X-Amz-Expires=1800&X-Amz-Signature="
    "53c3b909f9b8bb32d3d1df88a885eda63037cf468eab3503e4462517c2b4e36b"
)
REFERENCE_KEY = "temporary/20240816/3620/1723807527474-df2da456-b92b-b339-3bee-76365268665a.jpg"
ISSUED_TOKEN = re.compile(r"sbt\.[0-9]+\.")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_the_reference_urls_lose_signature_credential_and_random_parts() -> None:
    r = Redactor()
    envelope = {"code": 200, "data": {"upload_url": REFERENCE_URL, "key": REFERENCE_KEY}}
    text = json.dumps(r.value(envelope))
    for secret in (
        "53c3b909f9b8bb32d3d1df88a885eda63037cf468eab3503e4462517c2b4e36b",
        "91ac9d3ee865be05c575d38c9bdd1275",
        "df2da456-b92b-b339-3bee-76365268665a",
    ):
        assert secret not in text
    data = json.loads(text)["data"]
    assert "X-Amz-Expires=1800" in data["upload_url"], "the expiry explains a 403: kept"
    assert "X-Amz-Signature=<redacted>" in data["upload_url"]
    assert data["upload_url"].startswith("https://r2-aiautodelete-000-test.")
    # The same key reads the same everywhere in a session (and a replay can follow it).
    assert data["key"] in data["upload_url"]
    assert r.value(REFERENCE_KEY) == data["key"] != r.value(REFERENCE_KEY.replace("df2", "ef2"))
    assert r.value({"access_token": "abc", "Authorization": "Bearer x"}) == {
        "access_token": REDACTED,
        "Authorization": REDACTED,
    }


def every_call(client: Client, video: Path) -> list[str]:
    """Each endpoint once (and the storage transfers they make); the keys the server made."""
    made = []
    a = client.upload(samples.grace_hopper())
    b, c = client.upload_many([samples.astronaut(), samples.group_photo(faces=2)])
    made += [a.key, b.key, c.key]
    made.append(client.access_url(a))
    client.download(a, client.output_dir / "again.jpg")
    faces = client.detect_faces(c)
    made += [f.key for f in faces if getattr(f, "key", None)]
    made.append(client.swap_image(a, b).merge_key)
    made.append(client.swap_faces(c, {faces[0]: a, faces[1]: b}, faceset=faces).merge_key)
    made.append(client.swap_video(video, b).merge_key)
    vfaces = client.detect_faces(video)
    made.append(client.swap_faces(video, {vfaces[0]: b}, faceset=vfaces).merge_key)
    made.append(client.task(faces.task_id).wait().task_id)
    return [str(m) for m in made]


def test_a_session_of_every_call_keeps_no_secret(tmp_path: Path) -> None:
    video = samples.sample_video(faces=1, seconds=1.0, height=240, audio=False)
    with (
        Sandbox(port=0, data_dir=tmp_path / "sb", engine="instant") as sb,
        StandIn(sb, Reading(amz=True, strings=True)) as standin,
    ):
        # Short-lived tokens: several are fetched, one is refused and renewed.
        sb.set_faults(Faults(token_ttl=1.5, task_seconds=0.3))
        with Client(
            base_url=standin.base_url,
            client_id=sb.client_id,
            client_secret=sb.client_secret,
            token_url=standin.base_url + "/v1/auth/token",
            output_dir=tmp_path / "out",
            progress=False,
            record=tmp_path / "rec",
        ) as client:
            made = every_call(client, video)
            fetches = client._transport.credentials.fetches
            last_token = client._transport.credentials.token()
        secrets = [sb.client_secret, sb.token, last_token, AMZ_CREDENTIAL]
    assert fetches >= 2, "tokens were renewed during the session"
    lines = read_session(tmp_path / "rec")
    kinds = {(x["kind"], x.get("method"), x.get("path", "")) for x in lines}
    for path in (
        "/v1/source/upload-url",
        "/v1/source/access-url",
        "/v1/task/face-swap",
        "/v1/task/video-face-swap",
        "/v1/task/get-face",
        "/v1/task/multiple-face-swap",
        "/v1/task/multiple-video-face-swap",
        "/v1/task/detail",
    ):
        assert any(k[0] == "api" and k[2] == path for k in kinds), path
    assert sum(1 for x in lines if x["kind"] == "token") == fetches
    assert {"PUT", "GET"} <= {x["method"] for x in lines if x["kind"] == "storage"}
    assert all(x["authorization"] == "none" for x in lines if x["kind"] == "storage")
    assert all(x["authorization"] == "Bearer <token>" for x in lines if x["kind"] == "api")
    text = "\n".join(p.read_text() for p in (tmp_path / "rec").glob("*.jsonl"))
    for secret in secrets:
        assert secret not in text
    assert not ISSUED_TOKEN.search(text)
    signatures = re.findall(r"X-Amz-Signature=([^&\"\s]+)", text)
    assert signatures and set(signatures) == {"<redacted>"}, set(signatures)
    assert "X-Amz-Credential=<redacted>" in text
    randoms = {u for m in made for u in UUID.findall(m)}
    assert randoms and not any(u in text for u in randoms)
    # What a bug report needs is there: field types as sent (strings here), codes, states.
    detail = [x for x in lines if x.get("path") == "/v1/task/detail"]
    assert detail and isinstance(detail[-1]["response"]["data"]["status"], str)


def test_mio_nb_record_and_the_cli_flag_record_a_session(tmp_path: Path, monkeypatch) -> None:
    with Sandbox(port=0, data_dir=tmp_path / "sb", engine="instant") as sb:
        monkeypatch.setenv("MIO_NB_RECORD", str(tmp_path / "env"))
        with Client.for_sandbox(sb, output_dir=tmp_path / "o", progress=False) as c:
            c.detect_faces(samples.grace_hopper())
        monkeypatch.delenv("MIO_NB_RECORD")
        assert any(x.get("path") == "/v1/task/get-face" for x in read_session(tmp_path / "env"))

        env = {k: v for k, v in os.environ.items() if not k.startswith(("MIOCREATE_", "MIO_NB_"))}
        env["HOME"] = str(tmp_path)
        common = ["--base-url", sb.base_url, "--token", sb.token, "--record", str(tmp_path / "c")]
        for args in (["faces", str(samples.grace_hopper())], ["doctor", "--no-engine"]):
            run = subprocess.run(
                [sys.executable, "-m", "mio_nb.cli", *args, *common],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                env=env,
                timeout=120,
            )
            assert run.returncode == 0, run.stderr
            assert sb.token not in run.stdout + run.stderr
        assert "creates no task and spends no credits" in run.stdout
        assert "Recorded (secrets redacted) to" in run.stdout
        lines = read_session(tmp_path / "c")
        assert [x["kind"] for x in lines].count("doctor") >= 5
        texts = "".join(p.read_text() for p in (tmp_path / "c").glob("*.jsonl"))
        assert sb.token not in texts
        assert len(list((tmp_path / "c").glob("session-*.jsonl"))) == 2


def test_failures_without_an_answer_are_recorded_as_warnings_without_signatures(
    tmp_path: Path,
) -> None:
    """A dropped storage connection has no answer to record; urllib3's retry warning (which
    names the presigned URL) goes into the record, its query redacted."""
    with Sandbox(port=0, data_dir=tmp_path / "sb", engine="instant") as sb:
        sb.set_faults(Faults(drop_rate=0.5, only_paths=("/storage",), seed=3))
        with Client.for_sandbox(
            sb, output_dir=tmp_path / "o", progress=False, record=tmp_path / "r"
        ) as c:
            for _ in range(3):
                c.upload(samples.astronaut())
            c._transport.recorder.close()
    lines = read_session(tmp_path / "r")
    warnings = [x for x in lines if x["kind"] == "log"]
    assert warnings, "the dropped connections were retried with a warning"
    assert all("/storage/" in w["message"] for w in warnings if w["logger"].startswith("urllib3"))
    text = "".join(p.read_text() for p in (tmp_path / "r").glob("*.jsonl"))
    assert re.findall(r"X-Signature=([^&\"\s']+)", text) and set(
        re.findall(r"X-Signature=([^&\"\s']+)", text)
    ) == {"<redacted>"}
    assert sb.token not in text


def test_a_record_folder_that_cannot_be_written_is_refused_with_a_sentence(
    tmp_path: Path, sb: Sandbox
) -> None:
    from mio_nb.errors import OutputFolderError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    served = sb.tasks()
    for record in (blocker, blocker / "below"):
        with pytest.raises(OutputFolderError, match="Cannot write the session record to"):
            Client.for_sandbox(sb, output_dir=tmp_path / "o", record=record)
    assert sb.tasks() == served
