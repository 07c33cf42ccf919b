"""Every error class: bad input fails before any request; API codes map to their class."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from client_testkit import FAST_RETRY, TaskWatch, tiny_gif

from mio_nb import (
    AuthError,
    BadRequestError,
    Client,
    FileError,
    FileTooLargeError,
    ImageResult,
    InsufficientCreditsError,
    KeyNotFoundError,
    MioError,
    MissingCredentialsError,
    MissingFileError,
    NetworkError,
    NoFaceError,
    RateLimitError,
    ServerError,
    TaskTimeoutError,
    UnsupportedFormatError,
)
from mio_nb.errors import CorruptFileError, error_class
from mio_nb.formats import MAX_UPLOAD_BYTES
from mio_nb.sandbox import Faults, Sandbox
from mio_nb.transport import RetryConfig


def _no_request(client: Client, watch: TaskWatch) -> None:
    assert client.request_count == 0
    assert watch.new() == []


def test_missing_path_fails_before_any_request(client: Client, media, watch: TaskWatch):
    with pytest.raises(MissingFileError, match=r"nope\.jpg") as info:
        client.swap_image("nope.jpg", media["png"])
    assert isinstance(info.value, FileNotFoundError) and info.value.code == 701
    # Both inputs are checked before the first upload: a bad new face stops the good original.
    with pytest.raises(MissingFileError, match=r"also-missing\.png"):
        client.swap_image(media["jpg"], Path("also-missing.png"))
    _no_request(client, watch)


def test_empty_unreadable_and_directory_inputs(client: Client, tmp_path: Path, media, watch):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(FileError, match=r"empty\.jpg.*empty"):
        client.upload(empty)
    with pytest.raises(FileError, match="empty"):
        client.upload(b"")
    with pytest.raises(FileError, match="not a file"):
        client.upload(tmp_path)
    if os.geteuid() != 0:
        locked = tmp_path / "locked.png"
        locked.write_bytes(media["png"].read_bytes())
        locked.chmod(0)
        with pytest.raises(FileError, match=r"locked\.png"):
            client.upload(locked)
    _no_request(client, watch)


def test_unsupported_format_by_magic_bytes(client: Client, tmp_path: Path, media, watch):
    fake = tmp_path / "notes.jpg"
    fake.write_text("this is text, not a JPEG")
    with pytest.raises(
        UnsupportedFormatError, match=r"notes\.jpg' is text, not a picture or a video: use JPG"
    ) as info:
        client.swap_image(fake, media["png"])
    assert info.value.code == 703 and "JPG" in info.value.hint
    bmp = tmp_path / "photo.bmp"
    bmp.write_bytes(b"BM" + b"\0" * 100)
    with pytest.raises(UnsupportedFormatError, match=r"photo\.bmp' is a BMP picture, a format"):
        client.upload(bmp)
    _no_request(client, watch)


def test_too_large_by_size_before_reading(client: Client, tmp_path: Path, watch: TaskWatch):
    big = tmp_path / "huge.png"
    with open(big, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 56)
        f.truncate(MAX_UPLOAD_BYTES + 1)  # sparse: no disk space used
    with pytest.raises(FileTooLargeError, match=r"huge\.png.*500") as info:
        client.upload(big)
    assert info.value.code == 704
    _no_request(client, watch)


def test_wrong_kind_for_the_call(client: Client, media, watch: TaskWatch):
    with pytest.raises(BadRequestError, match="must be an image") as info:
        client.swap_image(media["video"], media["png"])
    assert "swap_video" in info.value.hint
    with pytest.raises(BadRequestError, match="must be a video"):
        client.swap_video(media["png"], media["jpg"])
    with pytest.raises(BadRequestError, match="new face"):
        client.swap_image(media["png"], media["video"])
    with pytest.raises(BadRequestError, match="Cannot use"):
        client.upload(12345)
    _no_request(client, watch)


def test_no_credentials_anywhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in ("MIOCREATE_TOKEN", "MIOCREATE_CLIENT_ID", "MIOCREATE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingCredentialsError) as info:
        Client(output_dir=tmp_path)
    text = str(info.value)
    assert "MIOCREATE_TOKEN" in text and "shared_sandbox()" in text
    assert isinstance(info.value, AuthError)


def test_token_from_environment(monkeypatch: pytest.MonkeyPatch, sb: Sandbox, tmp_path: Path):
    monkeypatch.setenv("MIOCREATE_TOKEN", sb.token)
    monkeypatch.setenv("MIOCREATE_BASE_URL", sb.base_url)
    client = Client(output_dir=tmp_path)
    assert client.base_url == sb.base_url and "environment" in repr(client)
    assert client.access_url(client.upload(tiny_gif())).startswith(sb.base_url)


def test_bad_static_token_is_an_auth_error(sb: Sandbox, tmp_path: Path, media, watch):
    client = Client(base_url=sb.base_url, token="wrong", output_dir=tmp_path, retry=FAST_RETRY)
    with pytest.raises(AuthError) as info:
        client.swap_image(media["jpg"], media["png"])
    assert info.value.code == 401 and "MIOCREATE_TOKEN" in info.value.hint
    assert watch.new() == []


def test_bad_client_secret_is_an_auth_error(sb: Sandbox, tmp_path: Path):
    client = Client(
        base_url=sb.base_url, client_id=sb.client_id, client_secret="nope", output_dir=tmp_path
    )
    with pytest.raises(AuthError, match="client credentials"):
        client.upload(tiny_gif())


def test_unknown_key_is_key_not_found(client: Client, media, watch: TaskWatch):
    key = "temporary/20261125/sandbox/1-00000000-0000-0000-0000-000000000000.jpg"
    with pytest.raises(KeyNotFoundError) as info:
        client.swap_image(key, media["png"])
    assert info.value.code == 702 and "Upload the file again" in info.value.hint
    assert watch.new() == []


def test_unknown_task_id_is_bad_request(client: Client):
    with pytest.raises(BadRequestError) as info:
        client.task(987654321).refresh()
    assert info.value.task_id == 987654321


def test_out_of_credits(client: Client, sb: Sandbox, media, watch: TaskWatch):
    sb.set_faults(Faults(credits=0))
    with pytest.raises(InsufficientCreditsError) as info:
        client.swap_image(media["jpg"], media["png"])
    assert info.value.code == 801 and "No task was created" in info.value.hint
    assert watch.new() == []


def test_rate_limit_waits_then_gives_up(sb: Sandbox, tmp_path: Path, media, watch: TaskWatch):
    retry = RetryConfig(backoff_factor=0.05, backoff_max=0.2, rate_limit_wait=2.5)
    client = Client.for_sandbox(sb, output_dir=tmp_path, retry=retry, progress=False)
    # No request is allowed and Retry-After says 1 s each time: the client waits twice, then
    # its budget is spent.
    sb.set_faults(Faults(rate_limit_per_minute=0, rate_limit_window=0.5))
    started = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        client.swap_image(media["jpg"], media["png"])
    assert info.value.code == 802
    assert 1.9 <= time.monotonic() - started < 5
    assert watch.new() == []


def test_rate_limit_longer_than_the_budget_fails_at_once_saying_why(
    sb: Sandbox, tmp_path: Path, media, watch: TaskWatch
):
    retry = RetryConfig(rate_limit_wait=5)
    client = Client.for_sandbox(sb, output_dir=tmp_path, retry=retry, progress=False)
    sb.set_faults(Faults(rate_limit_per_minute=1))
    client.upload(media["jpg"])  # the minute's only request
    started = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        client.upload(media["png"])
    assert time.monotonic() - started < 1  # no pointless waiting for a limit that won't lift
    assert "asks to wait" in info.value.message and "rate_limit_wait" in info.value.message
    assert watch.new() == []


def test_task_timeout_leaves_the_task_resumable(client: Client, sb: Sandbox, media, watch):
    sb.set_faults(Faults(task_seconds=1.5))
    task = client.submit_image_swap(media["jpg"], media["png"])
    with pytest.raises(TaskTimeoutError) as info:
        task.wait(timeout=0.4)
    assert info.value.task_id == task.id
    assert f"client.task({task.id}).wait()" in info.value.hint
    result = client.task(task.id).wait(timeout=30)
    assert isinstance(result, ImageResult)
    assert len(watch.assert_no_duplicates()) == 1


def test_unreachable_server_is_a_network_error(tmp_path: Path, media):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    client = Client(
        base_url=f"http://127.0.0.1:{port}",
        token="t",
        output_dir=tmp_path,
        retry=RetryConfig(retries=2, backoff_factor=0.01),
    )
    with pytest.raises(NetworkError) as info:
        client.upload(media["png"])
    assert isinstance(info.value, ConnectionError) and not info.value.task_may_exist
    assert "MIOCREATE_BASE_URL" in info.value.hint


def test_html_502_is_a_server_error_never_a_json_error(client: Client, sb: Sandbox):
    sb.set_faults(Faults(bad_gateway_rate=1.0))
    with pytest.raises(ServerError) as info:
        client.upload(tiny_gif())
    assert info.value.http_status == 502 and "HTML" in info.value.message


def test_corrupt_file_with_valid_magic_is_refused_before_any_request(client: Client, media, watch):
    """It passes the magic-bytes check but does not decode: refused before the upload, so
    nothing is paid for, and the message names the role."""
    corrupt = b"\x89PNG\r\n\x1a\n" + b"not really a picture " * 20
    with pytest.raises(CorruptFileError) as info:
        client.swap_image(corrupt, media["png"])
    assert "The original" in info.value.message and info.value.task_id is None
    assert client.request_count == 0 and client.history() == [] and watch.new() == []


def test_no_face_found_is_no_face_error(client: Client, watch):
    """The instant engine detects faces for real when dlib is installed: a cup has none."""
    from mio_nb import samples

    with pytest.raises(NoFaceError) as info:
        client.detect_faces(samples.no_face())
    assert info.value.code == 602 and info.value.task_id is not None
    assert "clearly visible" in info.value.hint
    assert [r.code for r in watch.assert_no_duplicates()] == [602]


def test_every_api_code_has_its_class():
    """The instant engine accepts any picture; the classes of task failures (602, 603, 604...)
    are reached with the real engine in test_client_real_engine.py. Here: every API code has
    its own class carrying code, hint and task id."""
    expected = {
        400: "BadRequestError",
        401: "AuthError",
        500: "ServerError",
        601: "TaskError",
        602: "NoFaceError",
        603: "MultipleFacesError",
        604: "FilePolicyError",
        605: "TargetPolicyError",
        701: "FileError",
        702: "KeyNotFoundError",
        703: "UnsupportedFormatError",
        704: "FileTooLargeError",
        801: "InsufficientCreditsError",
        802: "RateLimitError",
        502: "ServerError",
    }
    for code, name in expected.items():
        cls = error_class(code)
        assert cls.__name__ == name
        err = cls("msg", code=code, task_id=7)
        assert isinstance(err, MioError) and err.hint and "(task 7)" in str(err)


def test_rate_limit_lifted_while_waiting(sb: Sandbox, tmp_path: Path, media, watch):
    retry = RetryConfig(backoff_factor=0.05, backoff_max=0.3, rate_limit_wait=20)
    client = Client.for_sandbox(sb, output_dir=tmp_path, retry=retry, progress=False)
    assets = client.upload_many([media["jpg"], media["png"]])
    sb.set_faults(Faults(rate_limit_per_minute=1, rate_limit_window=10.0))
    client.access_url(assets[0])  # uses up the window (Retry-After: 10 s, within the budget)
    threading.Timer(0.6, sb.set_faults, args=(Faults(),)).start()
    result = client.swap_image(assets[0], assets[1])  # 802 first, waits, then goes through
    assert isinstance(result, ImageResult)
    assert len(watch.assert_no_duplicates()) == 1
