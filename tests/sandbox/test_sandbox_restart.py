"""A sandbox stopped and started again on the same data dir loses no asset and no task."""

from __future__ import annotations

import time
from pathlib import Path

import requests
from sandbox_helpers import Api

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.sandbox import Faults, Sandbox


def test_restart_finishes_tasks_in_flight(tmp_path: Path) -> None:
    data_dir = tmp_path / "sb"
    first = Sandbox(engine="instant", data_dir=data_dir, faults=Faults(task_seconds=30))
    try:
        api = Api(first)
        image = api.upload(samples.grace_hopper())
        faces_id = api.create(P.GET_FACE_PATH, {"main_key": image})
        body = {"client_id": first.client_id, "client_secret": first.client_secret}
        issued = requests.post(first.base_url + P.TOKEN_PATH, json=body, timeout=10).json()
        slow = api.create(P.FACE_SWAP_PATH, {"main_key": image, "target_key": image})
        deadline = time.monotonic() + 10
        while api.detail(slow)["data"]["status"] != P.TaskStatus.PROCESSING:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        t0 = time.monotonic()
        first.stop()
        assert time.monotonic() - t0 < 5  # a slow task does not hold the stop
    assert not first.running
    with Sandbox(engine="instant", data_dir=data_dir) as second:
        assert second.token == first.token and second.client_secret == first.client_secret
        api = Api(second)
        faces = api.done(faces_id, timeout=20)  # re-queued and finished
        result = api.done(slow, timeout=20)
        assert requests.get(result["merge_url"], timeout=10).status_code == 200
        assert [t.id for t in second.tasks()] == [faces_id, slow]
        # Assets, face parts and issued tokens survive too.
        url = api.ok(P.ACCESS_URL_PATH, {"key": image})["url"]
        assert requests.get(url, timeout=10).content == samples.grace_hopper().read_bytes()
        token_api = Api(second, token=issued["data"]["access_token"])
        pair = {"target_part_key": faces[0]["avatar_part_key"], "avatar_part_key": image}
        multi = token_api.create(
            P.MULTIPLE_FACE_SWAP_PATH, {"avatar_key": [pair], "get_face_id": faces_id}
        )
        assert token_api.done(multi)["merge_url"]
        new_id = api.create(P.GET_FACE_PATH, {"main_key": image})
        assert new_id > multi  # ids keep growing across restarts


def test_finished_results_survive_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "sb"
    with Sandbox(engine="instant", data_dir=data_dir) as sb:
        api = Api(sb)
        key = api.upload(samples.grace_hopper())
        task_id = api.create(P.FACE_SWAP_PATH, {"main_key": key, "target_key": key})
        before = api.done(task_id)
    with Sandbox(engine="instant", data_dir=data_dir) as sb:
        after = Api(sb).done(task_id)
        assert after["merge_key"] == before["merge_key"]
        assert after["merge_url"].startswith(sb.base_url)
        merged = requests.get(after["merge_url"], timeout=10)
        assert merged.status_code == 200 and len(merged.content) == before["size"]


def test_stop_closes_keep_alive_connections(tmp_path: Path) -> None:
    sb = Sandbox(engine="instant", data_dir=tmp_path / "sb")
    api = Api(sb)
    assert api.ok(P.UPLOAD_URL_PATH, {"file_name": "a.png"})
    sb.stop()
    sb.stop()  # idempotent
    try:
        r = api.post_raw(P.UPLOAD_URL_PATH, {"file_name": "a.png"})
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError(f"answered after stop: {r.status_code}")


def test_second_sandbox_on_a_busy_data_dir_leaves_tasks_to_the_first(tmp_path: Path) -> None:
    data_dir = tmp_path / "sb"
    with Sandbox(engine="instant", data_dir=data_dir, faults=Faults(task_seconds=1.5)) as first:
        api = Api(first)
        key = api.upload(samples.grace_hopper())
        task_id = api.create(P.FACE_SWAP_PATH, {"main_key": key, "target_key": key})
        with Sandbox(engine="instant", data_dir=data_dir) as second:
            other = Api(second)
            assert other.detail(task_id)["data"]["status"] in (1, 2)
            result = other.done(task_id, timeout=10)  # finished by the first, seen by both
            assert result["merge_url"].startswith(second.base_url)
            row = second.tasks()[0]
            assert row.finished_at - row.created_at >= 1.4  # not re-run at once by the second
