"""Each fault knob, on a sandbox of its own."""

from __future__ import annotations

import time

import pytest
import requests
from sandbox_helpers import Api

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.sandbox import Faults, Sandbox


def upload_url(api: Api) -> requests.Response:
    return api.post_raw(P.UPLOAD_URL_PATH, {"file_name": "a.png"})


def test_latency_only_on_listed_paths(fresh: Sandbox) -> None:
    api = Api(fresh)
    fresh.set_faults(Faults(latency=0.4, only_paths=(P.UPLOAD_URL_PATH,)))
    t0 = time.monotonic()
    assert upload_url(api).json()["code"] == 200
    assert time.monotonic() - t0 >= 0.4
    t0 = time.monotonic()
    assert api.detail(1)["code"] == 400
    assert time.monotonic() - t0 < 0.3
    fresh.set_faults(latency=0.3)
    t0 = time.monotonic()
    api.detail(1)
    assert time.monotonic() - t0 >= 0.3


def test_error_rate_gives_http_500_json(fresh: Sandbox) -> None:
    api = Api(fresh)
    fresh.set_faults(error_rate=1.0)
    r = upload_url(api)
    assert r.status_code == 500
    assert r.json() == {"code": 500, "message": "Server exception occurred", "data": None}
    fresh.set_faults()
    assert upload_url(api).json()["code"] == 200


def test_bad_gateway_rate_gives_http_502_html(fresh: Sandbox) -> None:
    api = Api(fresh)
    fresh.set_faults(bad_gateway_rate=1.0)
    r = upload_url(api)
    assert r.status_code == 502
    assert r.headers["Content-Type"] == "text/html" and "502 Bad Gateway" in r.text


def test_drop_rate_closes_without_answer(fresh: Sandbox) -> None:
    api = Api(fresh)
    fresh.set_faults(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        upload_url(api)
    with pytest.raises(requests.ConnectionError):
        api.session.get(api.url(P.TASK_DETAIL_PATH), params={"id": 1}, timeout=10)
    fresh.set_faults()
    assert upload_url(api).json()["code"] == 200  # the session recovers


@pytest.mark.parametrize("knob", ["error_rate", "bad_gateway_rate", "drop_rate"])
def test_before_phase_creates_no_task(fresh: Sandbox, knob: str) -> None:
    api = Api(fresh)
    key = api.upload(samples.grace_hopper())
    fresh.set_faults(Faults(**{knob: 1.0}, only_paths=(P.FACE_SWAP_PATH,)))
    try:
        r = api.post_raw(P.FACE_SWAP_PATH, {"main_key": key, "target_key": key})
        assert r.status_code in (500, 502)
    except requests.ConnectionError:
        assert knob == "drop_rate"
    assert fresh.tasks() == []


@pytest.mark.parametrize("knob", ["error_rate", "bad_gateway_rate", "drop_rate"])
def test_after_phase_creates_the_task_then_loses_the_answer(fresh: Sandbox, knob: str) -> None:
    api = Api(fresh)
    key = api.upload(samples.grace_hopper())
    faults = Faults(**{knob: 1.0}, fault_phase="after", only_paths=(P.FACE_SWAP_PATH,))
    fresh.set_faults(faults)
    try:
        r = api.post_raw(P.FACE_SWAP_PATH, {"main_key": key, "target_key": key})
        assert r.status_code in (500, 502)
        assert "task_id" not in r.text
    except requests.ConnectionError:
        assert knob == "drop_rate"
    tasks = fresh.tasks()
    assert len(tasks) == 1 and tasks[0].type == "face-swap"
    assert tasks[0].params["main_key"] == key
    assert api.done(tasks[0].id)["merge_url"]  # and it runs to the end


def test_storage_faults_only_when_listed(fresh: Sandbox) -> None:
    api = Api(fresh)
    data = samples.astronaut().read_bytes()
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "a.png"})
    other = api.ok(P.UPLOAD_URL_PATH, {"file_name": "b.png"})
    fresh.set_faults(drop_rate=1.0)  # API paths only: storage untouched
    assert requests.put(other["upload_url"], data=data, timeout=10).status_code == 200
    fresh.set_faults(Faults(drop_rate=1.0, only_paths=("/storage",)))
    with pytest.raises(requests.ConnectionError):
        requests.put(got["upload_url"], data=data, timeout=10)
    fresh.set_faults()
    assert api.post(P.ACCESS_URL_PATH, {"key": got["key"]})["code"] == 702  # not stored
    fresh.set_faults(Faults(drop_rate=1.0, fault_phase="after", only_paths=("/storage",)))
    with pytest.raises(requests.ConnectionError):
        requests.put(got["upload_url"], data=data, timeout=10)
    fresh.set_faults()
    url = api.ok(P.ACCESS_URL_PATH, {"key": got["key"]})["url"]  # stored, answer lost
    assert requests.get(url, timeout=10).content == data


def test_rate_limit_802(fresh: Sandbox) -> None:
    api = Api(fresh)
    fresh.set_faults(rate_limit_per_minute=3)
    assert [upload_url(api).json()["code"] for _ in range(5)] == [200, 200, 200, 802, 802]
    r = upload_url(api)
    assert r.status_code == 200
    assert r.json() == {"code": 802, "message": "Not enough requests", "data": None}
    # It says when the sliding minute has room again, so clients can pace themselves exactly.
    assert 55 <= int(r.headers["Retry-After"]) <= 60
    fresh.set_faults()
    assert "Retry-After" not in upload_url(api).headers
    assert upload_url(api).json()["code"] == 200


def test_credits_801(fresh: Sandbox) -> None:
    api = Api(fresh)
    key = api.upload(samples.grace_hopper())
    fresh.set_faults(credits=2)
    body = {"main_key": key, "target_key": key}
    codes = [api.post(P.FACE_SWAP_PATH, body)["code"] for _ in range(3)]
    assert codes == [200, 200, 801]
    assert api.post(P.GET_FACE_PATH, {"main_key": key}) == {
        "code": 801,
        "message": "Not enough credits",
        "data": None,
    }
    assert len(fresh.tasks()) == 2
    assert api.post(P.UPLOAD_URL_PATH, {"file_name": "x.png"})["code"] == 200  # no task: fine


def test_token_ttl_expires_every_token(fresh: Sandbox) -> None:
    api = Api(fresh)
    fresh.set_faults(token_ttl=0.8)
    body = {"client_id": fresh.client_id, "client_secret": fresh.client_secret}
    got = requests.post(fresh.base_url + P.TOKEN_PATH, json=body, timeout=10).json()["data"]
    assert got["expires_in"] == 0.8
    issued = Api(fresh, token=got["access_token"])
    assert upload_url(issued).json()["code"] == 200
    time.sleep(0.9)
    assert upload_url(issued).json()["code"] == 401
    assert upload_url(api).json()["code"] == 401  # the static token too
    again = requests.post(fresh.base_url + P.TOKEN_PATH, json=body, timeout=10).json()["data"]
    assert upload_url(Api(fresh, token=again["access_token"])).json()["code"] == 200
    fresh.set_faults()
    assert upload_url(api).json()["code"] == 200


def test_task_seconds(fresh: Sandbox) -> None:
    api = Api(fresh)
    key = api.upload(samples.grace_hopper())
    fresh.set_faults(task_seconds=1.0)
    t0 = time.monotonic()
    ids = [api.create(P.FACE_SWAP_PATH, {"main_key": key, "target_key": key}) for _ in range(3)]
    seen = {api.detail(ids[0])["data"]["status"]}
    for task_id in ids:
        api.done(task_id)
    elapsed = time.monotonic() - t0
    assert 1.0 <= elapsed < 2.5, elapsed  # at least 1 s each, side by side
    assert seen <= {1, 2}
    rows = fresh.tasks()
    assert all(r.finished_at - r.created_at >= 0.99 for r in rows)


def outcomes(seed: int) -> list[int]:
    with Sandbox(engine="instant", faults=Faults(error_rate=0.5, seed=seed)) as sb:
        api = Api(sb)
        return [upload_url(api).status_code for _ in range(16)]


def test_seed_makes_draws_reproducible() -> None:
    first = outcomes(7)
    assert first == outcomes(7)
    assert set(first) == {200, 500}
    assert first != outcomes(8)


def test_faults_validate_their_values() -> None:
    with pytest.raises(ValueError):
        Faults(error_rate=1.5)
    with pytest.raises(ValueError):
        Faults(error_rate=0.6, drop_rate=0.6)
    with pytest.raises(ValueError):
        Faults(fault_phase="during")  # type: ignore[arg-type]
