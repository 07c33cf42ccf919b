"""Every error the sandbox answers itself: 400, 401, 404, 601, 702, 703, 704 (801/802 live with
the faults). Failures the real engine decides (602, 603, 701) are in test_sandbox_real.py."""

from __future__ import annotations

import json
import select
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests
from sandbox_helpers import Api

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.formats import MAX_UPLOAD_BYTES
from mio_nb.sandbox import Sandbox
from mio_nb.sandbox.engine import load_engine

INVALID = {"code": 401, "message": "Your request was made with invalid credentials.", "data": None}


def code_of(env: dict) -> int:
    return env["code"]


@pytest.fixture(scope="module")
def keys(sb: Sandbox) -> dict[str, str]:
    api = Api(sb)
    return {
        "image": api.upload(samples.grace_hopper()),
        "face": api.upload(samples.astronaut()),
        "video": api.upload(samples.sample_video()),
    }


@pytest.mark.parametrize(
    "path",
    [P.UPLOAD_URL_PATH, P.ACCESS_URL_PATH, P.FACE_SWAP_PATH, P.GET_FACE_PATH, P.TASK_DETAIL_PATH],
)
@pytest.mark.parametrize("auth", [None, "Bearer nope", "Bearer ", "nope"])
def test_401_with_http_200(sb: Sandbox, path: str, auth: str | None) -> None:
    headers = {} if auth is None else {"Authorization": auth}
    if path == P.TASK_DETAIL_PATH:
        r = requests.get(sb.base_url + path, params={"id": 1}, headers=headers, timeout=30)
    else:
        r = requests.post(sb.base_url + path, json={"file_name": "a.png"}, headers=headers)
    assert r.status_code == 200
    assert r.json() == INVALID


def test_token_endpoint_refuses_bad_credentials(sb: Sandbox) -> None:
    url = sb.base_url + P.TOKEN_PATH
    bad = requests.post(url, json={"client_id": sb.client_id, "client_secret": "x"}, timeout=30)
    assert bad.status_code == 200 and bad.json() == INVALID
    missing = requests.post(url, json={"client_id": sb.client_id}, timeout=30).json()
    assert missing["code"] == 400


def test_unknown_path_is_http_404_with_envelope_400(api: Api) -> None:
    r = api.post_raw("/v1/task/nope", {})
    assert r.status_code == 404 and r.json()["code"] == 400
    r = api.session.get(api.url("/"), timeout=30)
    assert r.status_code == 404 and r.json()["code"] == 400


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"target_key": "K"},
        {"main_key": "K"},
        {"main_key": 5, "target_key": "K"},
        {"main_key": "K", "target_key": "K", "is_hd": 3},
        {"main_key": "K", "target_key": "K", "is_hd": "yes"},
        {"main_key": "K", "target_key": "K", "is_hd": 1.0},
        {"main_key": "K", "target_key": "K", "is_hd": True},
        {"main_key": "K", "target_key": "K", "is_hd": [1]},
    ],
)
def test_face_swap_bad_parameters(api: Api, keys: dict, body: dict) -> None:
    body = {k: keys["image"] if v == "K" else v for k, v in body.items()}
    env = api.post(P.FACE_SWAP_PATH, body)
    assert env["code"] == 400, env
    assert env["data"] is None and env["message"].startswith("Request parameter error")


def test_body_must_be_a_json_object(api: Api) -> None:
    r = api.session.post(api.url(P.UPLOAD_URL_PATH), data=b"{nope", timeout=30)
    assert r.status_code == 200 and r.json()["code"] == 400
    assert api.post(P.UPLOAD_URL_PATH, ["file_name"])["code"] == 400
    assert api.post(P.UPLOAD_URL_PATH, {"file_name": ""})["code"] == 400


def test_kinds_must_match(api: Api, keys: dict) -> None:
    image, video = keys["image"], keys["video"]
    assert api.post(P.FACE_SWAP_PATH, {"main_key": video, "target_key": image})["code"] == 400
    assert api.post(P.VIDEO_FACE_SWAP_PATH, {"main_key": image, "target_key": image})["code"] == 400
    assert api.post(P.VIDEO_FACE_SWAP_PATH, {"main_key": video, "target_key": video})["code"] == 400


def test_702_unknown_keys(api: Api, keys: dict) -> None:
    missing = "temporary/20240101/sandbox/1-00000000-0000-0000-0000-000000000000.png"
    image = keys["image"]
    assert api.post(P.ACCESS_URL_PATH, {"key": missing})["code"] == 702
    assert api.post(P.ACCESS_URL_PATH, {"key": "../../etc/passwd"})["code"] == 702
    assert api.post(P.FACE_SWAP_PATH, {"main_key": missing, "target_key": image})["code"] == 702
    assert api.post(P.FACE_SWAP_PATH, {"main_key": image, "target_key": missing})["code"] == 702
    assert api.post(P.VIDEO_FACE_SWAP_PATH, {"key": missing, "target_key": image})["code"] == 702
    assert api.post(P.GET_FACE_PATH, {"main_key": missing})["code"] == 702
    env = api.post(P.GET_FACE_PATH, {"main_key": missing})
    assert env["message"].startswith("The source file for the key was not found")
    # An upload URL that was never used is no asset either.
    never = api.ok(P.UPLOAD_URL_PATH, {"file_name": "x.png"})["key"]
    assert api.post(P.GET_FACE_PATH, {"main_key": never})["code"] == 702


def test_detail_errors(api: Api) -> None:
    assert api.detail(999_999)["code"] == 400
    assert api.detail("abc")["code"] == 400
    r = api.session.get(api.url(P.TASK_DETAIL_PATH), timeout=30)
    assert r.json()["code"] == 400


def test_multiple_face_swap_checks(api: Api, keys: dict) -> None:
    image, face, video = keys["image"], keys["face"], keys["video"]
    swap_id = api.create(P.FACE_SWAP_PATH, {"main_key": image, "target_key": face})
    api.done(swap_id)
    face_task = api.create(P.GET_FACE_PATH, {"main_key": image})
    faces = api.done(face_task)
    part = faces[0]["avatar_part_key"]
    good = [{"target_part_key": part, "avatar_part_key": face}]
    M = P.MULTIPLE_FACE_SWAP_PATH

    def code(body: dict, path: str = M) -> int:
        return api.post(path, body)["code"]

    assert code({"avatar_key": good, "get_face_id": face_task}) == 200
    assert code({"avatar_key": good}) == 400  # no get_face_id
    assert code({"avatar_key": [], "get_face_id": face_task}) == 400
    assert code({"avatar_key": "nope", "get_face_id": face_task}) == 400
    assert code({"avatar_key": ["x"], "get_face_id": face_task}) == 400
    assert code({"avatar_key": good, "get_face_id": "12ab"}) == 400
    assert code({"avatar_key": good, "get_face_id": 999_999}) == 400  # no such task
    assert code({"avatar_key": good, "get_face_id": swap_id}) == 400  # not a get-face task
    assert (
        code({"avatar_key": good, "get_face_id": face_task}, P.MULTIPLE_VIDEO_FACE_SWAP_PATH) == 400
    )
    other = [{"target_part_key": face, "avatar_part_key": face}]  # not a face of that task
    assert code({"avatar_key": other, "get_face_id": face_task}) == 400
    twice = good + good
    assert code({"avatar_key": twice, "get_face_id": face_task}) == 400
    missing = "temporary/20240101/sandbox/1-00000000-0000-0000-0000-000000000000.png"
    gone = [{"target_part_key": part, "avatar_part_key": missing}]
    assert code({"avatar_key": gone, "get_face_id": face_task}) == 702
    as_video = [{"target_part_key": part, "avatar_part_key": video}]
    assert code({"avatar_key": as_video, "get_face_id": face_task}) == 400
    # A get-face task still running does not count as finished.
    api.sb.set_faults(task_seconds=1.0)
    try:
        pending = api.create(P.GET_FACE_PATH, {"main_key": image})
        assert code({"avatar_key": good, "get_face_id": pending}) == 400
    finally:
        api.sb.set_faults()
    api.done(pending)


def test_703_unsupported_name(api: Api) -> None:
    for name in ("a.txt", "b.bmp", "noext", "c.jpg.exe"):
        env = api.post(P.UPLOAD_URL_PATH, {"file_name": name})
        assert env["code"] == 703, (name, env)
        assert (
            env["message"] == "Only supported formats: JPG, PNG, WEBP, GIF, M4V, MP4, MOV and WEBM"
        )


@pytest.mark.parametrize(
    "body", [b"hello, this is plain text" * 10, b"", b"BM" + b"\0" * 200, b"\x89PNG"]
)
def test_703_on_put_by_magic_bytes(api: Api, body: bytes) -> None:
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "a.png"})
    r = requests.put(got["upload_url"], data=body, timeout=30)
    assert r.status_code == 400
    assert r.json()["code"] == 703
    assert api.post(P.ACCESS_URL_PATH, {"key": got["key"]})["code"] == 702


def test_703_on_put_streamed_text(api: Api) -> None:
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "a.png"})
    chunks = (b"not an image at all " * 5000 for _ in range(20))
    r = requests.put(got["upload_url"], data=chunks, timeout=30)
    assert r.status_code == 400 and r.json()["code"] == 703


def _raw_put(url: str, headers: dict[str, str], body_chunks, deadline: float = 60.0) -> bytes:
    """PUT over a raw socket, sending until the server answers; returns the raw answer."""
    u = urlsplit(url)
    sock = socket.create_connection((u.hostname, u.port), timeout=30)
    try:
        head = f"PUT {u.path}?{u.query} HTTP/1.1\r\nHost: {u.netloc}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        end = time.monotonic() + deadline
        for chunk in body_chunks:
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered early: stop sending
            sock.sendall(chunk)
            assert time.monotonic() < end
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 30:
            piece = sock.recv(65536)
            if not piece:
                break
            answer += piece
        return answer
    finally:
        sock.close()


def _png_stream(total: int, piece: int = 1 << 20, chunked: bool = False):
    head = samples.astronaut().read_bytes()[:64]
    block = bytes(piece)
    sent = 0
    first = True
    while sent < total:
        data = head + block[len(head) :] if first else block
        first = False
        data = data[: total - sent]
        sent += len(data)
        yield (f"{len(data):x}\r\n".encode() + data + b"\r\n") if chunked else data
    if chunked:
        yield b"0\r\n\r\n"


def test_704_declared_length_over_limit(api: Api) -> None:
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "big.mp4"})
    total = MAX_UPLOAD_BYTES + 1
    answer = _raw_put(got["upload_url"], {"Content-Length": str(total)}, _png_stream(total))
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert json.loads(body)["code"] == 704


def test_704_streamed_body_over_limit(api: Api) -> None:
    """A chunked body says nothing of its size: the server counts and stops at the limit + 1."""
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "big.png"})
    total = MAX_UPLOAD_BYTES + (4 << 20)
    answer = _raw_put(
        got["upload_url"], {"Transfer-Encoding": "chunked"}, _png_stream(total, chunked=True)
    )
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["code"] == 704
    assert api.post(P.ACCESS_URL_PATH, {"key": got["key"]})["code"] == 702
    assert not any((api.sb.data_dir / "tmp").iterdir())  # the partial file is gone


def test_704_with_requests_gets_the_answer(api: Api) -> None:
    """requests sends the whole (declared) body before reading: the server drains it and the
    client still reads the 400 instead of a connection reset."""
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "big.png"})
    total = MAX_UPLOAD_BYTES + 1
    r = requests.put(
        got["upload_url"],
        data=_png_stream(total),
        headers={"Content-Length": str(total)},
        timeout=60,
    )
    assert r.status_code == 400 and r.json()["code"] == 704


class CrashingEngine:
    """The instant engine, except that swapping raises an unexpected error (601 path)."""

    def __init__(self) -> None:
        self.inner = load_engine("instant")
        self.name = "crashing"

    def get_faces(self, main):
        return self.inner.get_faces(main)

    def swap(self, *args, **kwargs):
        raise RuntimeError("boom: secret internals")

    def swap_faces(self, *args, **kwargs):
        raise RuntimeError("boom")


def test_601_on_unexpected_engine_error(tmp_path) -> None:
    with Sandbox(engine=CrashingEngine(), data_dir=tmp_path) as sb:
        api = Api(sb)
        key = api.upload(samples.grace_hopper())
        task_id = api.create(P.FACE_SWAP_PATH, {"main_key": key, "target_key": key})
        env = api.wait(task_id)
        assert env["code"] == 601
        assert env["data"]["status"] == 4
        assert env["data"]["additional_data"] == {}
        assert env["message"] == env["data"]["message"]
        assert "secret internals" not in env["message"]
        row = sb.tasks()[-1]
        assert (row.status, row.code) == (4, 601)
