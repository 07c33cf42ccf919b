"""Each fault knob of the sandbox: the flow completes or fails with the right class, and the
task table never shows a task created twice."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from client_testkit import FAST_RETRY, TaskWatch

from mio_nb import AuthError, Client, ImageResult, NetworkError, ServerError
from mio_nb import protocol as P
from mio_nb.sandbox import Faults, Sandbox

SIDE_EFFECT_FREE = (P.UPLOAD_URL_PATH, P.ACCESS_URL_PATH, P.TASK_DETAIL_PATH)


def _full_flow(client: Client, media) -> None:
    """Uploads, a swap, a face detection and a multi-face swap, each waited for and saved."""
    assert isinstance(client.swap_image(media["jpg"], media["png"]), ImageResult)
    faces = client.detect_faces(media["group"])
    assert len(faces) >= 2
    assert isinstance(client.swap_faces(media["group"], {faces[1]: media["png"]}), ImageResult)
    assert client.access_url(faces.source).startswith("http")


@pytest.mark.parametrize(
    "knobs",
    [
        {"error_rate": 0.3},
        {"bad_gateway_rate": 0.3},
        {"drop_rate": 0.3},
        {"error_rate": 0.1, "bad_gateway_rate": 0.1, "drop_rate": 0.1},
    ],
    ids=["500-bursts", "html-502", "drops", "mixed"],
)
def test_side_effect_free_calls_are_retried(client: Client, sb: Sandbox, media, watch, knobs):
    sb.set_faults(Faults(only_paths=SIDE_EFFECT_FREE, seed=7, **knobs))
    _full_flow(client, media)
    assert [r.type for r in watch.assert_no_duplicates()] == [
        "face-swap",
        "get-face",
        "multiple-face-swap",
    ]


@pytest.mark.parametrize(
    "knobs",
    [{"error_rate": 0.3}, {"drop_rate": 0.3}, {"bad_gateway_rate": 0.3}],
    ids=["500", "drops", "html-502"],
)
def test_storage_faults_are_retried(client: Client, sb: Sandbox, media, watch, knobs):
    """Presigned PUTs and GETs are idempotent: retried, the upload stream rewound each time."""
    sb.set_faults(Faults(only_paths=("/storage",), seed=3, **knobs))
    uploaded = client.upload_many([media["jpg"], media["png"], media["video"], media["group"]])
    sb.set_faults(Faults())
    for asset, path in zip(uploaded, ["jpg", "png", "video", "group"], strict=True):
        copy = client.download(asset, client.output_dir / f"check-{asset.name}")
        assert copy.read_bytes() == media[path].read_bytes()
    sb.set_faults(Faults(only_paths=("/storage",), seed=4, **knobs))
    _full_flow(client, media)
    assert len(watch.assert_no_duplicates()) == 3


@pytest.mark.parametrize("phase", ["before", "after"])
@pytest.mark.parametrize(
    ("knob", "cls"),
    [("error_rate", ServerError), ("bad_gateway_rate", ServerError), ("drop_rate", NetworkError)],
    ids=["500", "html-502", "drop"],
)
def test_task_creation_is_never_repeated(client, sb, media, watch, knob, cls, phase):
    assets = client.upload_many([media["jpg"], media["png"]])
    sb.set_faults(Faults(only_paths=(P.FACE_SWAP_PATH,), fault_phase=phase, **{knob: 1.0}))
    assert client.server_id == sb.server_id  # asked once, before counting
    sent_before = client.request_count
    with pytest.raises(cls) as info:
        client.submit_image_swap(assets[0], assets[1])
    err = info.value
    assert err.task_may_exist and "may have reached the server" in err.hint
    assert "not sent again" in err.hint
    assert client.request_count == sent_before + 1  # one attempt, no retry
    rows = watch.assert_no_duplicates()
    assert len(rows) == (1 if phase == "after" else 0)
    (entry,) = [e for e in client.history() if e.status == "unconfirmed"]
    assert entry.task_id is None and entry.inputs["original"]["key"] == assets[0].key


def test_read_timeout_on_creation_is_not_repeated(sb: Sandbox, tmp_path: Path, media, watch):
    client = Client.for_sandbox(
        sb, output_dir=tmp_path, timeout=(5.0, 0.3), retry=FAST_RETRY, progress=False
    )
    assets = client.upload_many([media["jpg"], media["png"]])
    sb.set_faults(Faults(only_paths=(P.FACE_SWAP_PATH,), latency=1.0))
    with pytest.raises(NetworkError, match="timed out") as info:
        client.submit_image_swap(assets[0], assets[1])
    assert info.value.task_may_exist
    deadline = time.monotonic() + 5
    while not watch.new() and time.monotonic() < deadline:
        time.sleep(0.1)  # the server finishes handling the slow request
    time.sleep(0.3)
    assert len(watch.assert_no_duplicates()) == 1


def test_creation_retried_when_the_connection_was_refused(tmp_path: Path, media):
    """Errors raised while connecting (nothing sent) are retried, for task creation too."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path / "sb"
    first = Sandbox(port=port, data_dir=data, engine="instant")
    client = Client.for_sandbox(
        first,
        output_dir=tmp_path / "out",
        progress=False,
        retry=FAST_RETRY.__class__(retries=8, backoff_factor=0.1, backoff_max=0.4),
    )
    assets = client.upload_many([media["jpg"], media["png"]])
    first.stop()
    second: list[Sandbox] = []
    restart = threading.Timer(
        0.5, lambda: second.append(Sandbox(port=port, data_dir=data, engine="instant"))
    )
    restart.start()
    try:
        task = client.submit_image_swap(assets[0], assets[1])
        restart.join()
        assert isinstance(task.wait(timeout=30), ImageResult)
        assert len([r for r in second[0].tasks() if r.type == "face-swap"]) == 1
    finally:
        restart.join()
        for sb in second:
            sb.stop()


def test_rate_limited_creation_is_retried_once_allowed(client, sb, media, watch: TaskWatch):
    assets = client.upload_many([media["jpg"], media["png"]])
    sb.set_faults(Faults(rate_limit_per_minute=1, rate_limit_window=1.0))
    client.access_url(assets[0])  # the window is full: Retry-After 1 s, within FAST_RETRY's 3 s
    threading.Timer(0.5, sb.set_faults, args=(Faults(),)).start()
    assert isinstance(client.swap_image(assets[0], assets[1]), ImageResult)
    assert len(watch.assert_no_duplicates()) == 1


def test_expired_static_token_is_an_auth_error(client, sb: Sandbox, media, watch):
    sb.set_faults(Faults(token_ttl=0.3))
    time.sleep(0.4)
    with pytest.raises(AuthError) as info:
        client.swap_image(media["jpg"], media["png"])
    assert info.value.code == 401
    assert watch.new() == []


def test_expired_token_is_renewed_with_client_credentials(sb, tmp_path: Path, media, watch):
    client = Client.for_sandbox(
        sb, client_credentials=True, output_dir=tmp_path, retry=FAST_RETRY, progress=False
    )
    credentials = client._transport.credentials
    first = client.upload(media["jpg"])
    assert credentials.fetches == 1
    # The server now expires tokens after 0.3 s: the client's token is refused (401) although
    # the client thought it valid; it fetches a new one, once, and the call goes through.
    sb.set_faults(Faults(token_ttl=0.3))
    time.sleep(0.4)
    second = client.upload(media["png"])
    assert credentials.fetches == 2
    task = client.submit_image_swap(first, second)
    time.sleep(0.4)  # short-lived tokens are renewed before they run out, too
    assert isinstance(task.wait(timeout=30), ImageResult)
    assert credentials.fetches >= 3
    assert len(watch.assert_no_duplicates()) == 1


def test_slow_tasks_are_polled_gently(client: Client, sb: Sandbox, media, watch):
    sb.set_faults(Faults(task_seconds=2.0, latency=0.05))
    task = client.submit_image_swap(media["jpg"], media["png"])
    start = time.monotonic()
    assert isinstance(task.wait(timeout=30), ImageResult)
    took = time.monotonic() - start
    assert 1.8 <= took < 6
    assert 5 <= len(task.poll_times) <= 20
    (row,) = watch.assert_no_duplicates()
    # Seen finished within a poll interval (plus latency) of finishing on the server.
    assert row.finished_at is not None


def test_polling_schedule_is_fast_then_gentle():
    from mio_nb.tasks import poll_interval

    assert poll_interval(0) <= 0.15
    assert all(poll_interval(t / 10) <= 0.4 for t in range(100))
    assert 60 / poll_interval(30) <= 20 and 60 / poll_interval(3600) >= 10
    values = [poll_interval(t) for t in range(100)]
    assert values == sorted(values)
