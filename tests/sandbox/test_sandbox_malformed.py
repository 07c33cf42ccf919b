"""Malformed requests, as a hostile client sends them: always a 4xx with an envelope (S3-style
XML for storage), never a 500, and never a traceback in the log at error level."""

from __future__ import annotations

import json
import logging
import random
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sandbox_helpers import Api

from mio_nb import protocol as P
from mio_nb import samples
from mio_nb.sandbox import Sandbox

TWENTY_DIGITS = "9" * 20


@pytest.fixture(autouse=True)
def no_error_logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture) -> Iterator:
    """Fails the test when the sandbox logged at error level or printed a traceback."""
    caplog.set_level(logging.INFO, logger="mio_nb.sandbox")
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert "Traceback" not in capfd.readouterr().err


def raw(sb: Sandbox, request: bytes, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` on a new connection, close our side, read the whole answer.
    Returns (HTTP status or 0 when the server closed without answering, headers, body)."""
    with socket.create_connection(("127.0.0.1", sb.port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before reading everything
        answer = b""
        try:
            while piece := sock.recv(65536):
                answer += piece
        except ConnectionResetError:
            pass
    if not answer:
        return 0, {}, b""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def request(method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""):
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    framed = any(k.lower() in ("content-length", "transfer-encoding") for k in headers or {})
    if body and not framed:
        head += f"Content-Length: {len(body)}\r\n"
    try:
        data = head.encode("latin-1")
    except UnicodeEncodeError:
        data = head.encode("utf-8")
    return data + b"\r\n" + body


def assert_envelope_4xx(status: int, body: bytes) -> dict:
    """A JSON envelope with a 4xx code, sent with a status below 500."""
    assert 200 <= status < 500, (status, body[:300])
    env = json.loads(body)
    assert 400 <= env["code"] < 500, env
    assert env["data"] is None
    return env


def auth(sb: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sb.token}", "Content-Type": "application/json"}


def storage_target(sb: Sandbox, method: str = "GET") -> str:
    key = Api(sb).upload(samples.astronaut())
    u = urlsplit(sb.presign(key, method))
    return f"{u.path}?{u.query}"


# -- the five inputs of the issue ----------------------------------------------------------
def test_expires_that_is_a_unicode_digit(sb: Sandbox) -> None:
    target = storage_target(sb).split("?")[0]
    status, headers, body = raw(sb, request("GET", f"{target}?X-Expires=%C2%B2&X-Signature=ab"))
    assert status == 403 and headers["content-type"] == "application/xml"
    assert b"<Code>SignatureDoesNotMatch</Code>" in body


def test_content_length_that_is_not_ascii(sb: Sandbox) -> None:
    body = json.dumps({"file_name": "a.png"}).encode()
    req = request("POST", P.UPLOAD_URL_PATH, {**auth(sb), "Content-Length": "\xb2"}, body)
    status, _, answer = raw(sb, req)
    assert status == 400
    assert_envelope_4xx(status, answer)


def test_json_nested_100000_deep(sb: Sandbox) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    status, _, answer = raw(sb, request("POST", P.UPLOAD_URL_PATH, auth(sb), body))
    env = assert_envelope_4xx(status, answer)
    assert env["code"] == 400 and "nested" in env["message"]


@pytest.mark.parametrize("task_id", [TWENTY_DIGITS, "-" + TWENTY_DIGITS, "1" * 5000, "\u0663"])
def test_detail_id_out_of_range(sb: Sandbox, task_id: str) -> None:
    target = f"{P.TASK_DETAIL_PATH}?id={task_id}"
    status, _, answer = raw(sb, request("GET", target, auth(sb)))
    assert assert_envelope_4xx(status, answer)["code"] == 400
    body = json.dumps({"id": task_id}).encode()
    status, _, answer = raw(sb, request("POST", P.TASK_DETAIL_PATH, auth(sb), body))
    assert assert_envelope_4xx(status, answer)["code"] == 400


@pytest.mark.parametrize("face_id", [int(TWENTY_DIGITS), TWENTY_DIGITS, -(10**19)])
def test_get_face_id_out_of_range(sb: Sandbox, face_id: int | str) -> None:
    key = Api(sb).upload(samples.astronaut())
    pairs = [{"target_part_key": key, "avatar_part_key": key}]
    body = json.dumps({"avatar_key": pairs, "get_face_id": face_id}).encode()
    status, _, answer = raw(sb, request("POST", P.MULTIPLE_FACE_SWAP_PATH, auth(sb), body))
    env = assert_envelope_4xx(status, answer)
    assert env["code"] == 400 and "out of range" in env["message"]


# -- others found by probing --------------------------------------------------------------
@pytest.mark.parametrize(
    "token", ["sbt.\u00b2.nonce.mac", "sbt." + "9" * 5000 + ".n.m", "\u00e9\u00e8", "sbt...."]
)
def test_odd_tokens_are_401(sb: Sandbox, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    status, _, answer = raw(sb, request("GET", f"{P.TASK_DETAIL_PATH}?id=1", headers))
    assert assert_envelope_4xx(status, answer)["code"] == 401


@pytest.mark.parametrize("length", ["9" * 5000, "-5", "1e3", "0x10", " ", "\u0663"])
def test_odd_content_lengths(sb: Sandbox, length: str) -> None:
    req = request("POST", P.UPLOAD_URL_PATH, {**auth(sb), "Content-Length": length}, b"{}")
    status, _, answer = raw(sb, req)
    assert status == 400
    assert_envelope_4xx(status, answer)


def test_odd_content_length_on_storage_is_xml(sb: Sandbox) -> None:
    target = storage_target(sb, "PUT")
    status, headers, body = raw(sb, request("PUT", target, {"Content-Length": "\xb2"}, b"x"))
    assert status == 400 and headers["content-type"] == "application/xml"
    assert body.startswith(b"<?xml")


@pytest.mark.parametrize("size", [b"-1", b"0x10", b"1_0", b"\xd9\xa3", b"f" * 40, b"zz"])
def test_odd_chunk_sizes(sb: Sandbox, size: bytes) -> None:
    req = request("POST", P.UPLOAD_URL_PATH, {**auth(sb), "Transfer-Encoding": "chunked"})
    status, _, answer = raw(sb, req + size + b"\r\n{}\r\n0\r\n\r\n")
    assert status == 400
    assert_envelope_4xx(status, answer)


def test_body_shorter_than_its_length(sb: Sandbox) -> None:
    req = request("POST", P.UPLOAD_URL_PATH, {**auth(sb), "Content-Length": "100"}) + b"{}"
    status, _, answer = raw(sb, req)
    assert status == 400
    assert_envelope_4xx(status, answer)


@pytest.mark.parametrize("rng", ["bytes=\u0663-", "bytes=" + "9" * 40 + "-", "bytes=-" + "9" * 40])
def test_odd_ranges(sb: Sandbox, rng: str) -> None:
    status, _, body = raw(sb, request("GET", storage_target(sb), {"Range": rng}))
    assert status in (200, 206, 416), status
    if status == 416:
        assert body.startswith(b"<?xml")


def test_non_ascii_signature(sb: Sandbox) -> None:
    target = storage_target(sb).split("&X-Signature=")[0]
    status, _, body = raw(sb, request("GET", f"{target}&X-Signature=%C3%A9"))
    assert status == 403 and b"SignatureDoesNotMatch" in body


def test_huge_expires_on_storage(sb: Sandbox) -> None:
    target = storage_target(sb).split("?")[0]
    status, _, body = raw(sb, request("GET", f"{target}?X-Expires={'9' * 5000}&X-Signature=a"))
    assert status == 403 and b"SignatureDoesNotMatch" in body


@pytest.mark.parametrize("method", ["PATCH", "FOO", "TRACE"])
def test_unknown_methods_are_405(sb: Sandbox, method: str) -> None:
    status, _, answer = raw(sb, request(method, P.UPLOAD_URL_PATH, auth(sb)))
    assert status == 405
    assert_envelope_4xx(status, answer)
    status, headers, _ = raw(sb, request(method, storage_target(sb)))
    assert status == 405 and headers["content-type"] == "application/xml"


@pytest.mark.parametrize(
    "req",
    [
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/0.9\r\n\r\n",
        b"GET / HTTP/1.1.1\r\n\r\n",
        b"GET / HTTP/\xb2.1\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 150 + b"\r\n",
        b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
    ],
    ids=[
        "http2",
        "http09",
        "version",
        "uversion",
        "garbage",
        "long-line",
        "long-header",
        "headers",
        "colon",
    ],
)
def test_malformed_request_heads(sb: Sandbox, req: bytes) -> None:
    status, headers, body = raw(sb, req)
    assert 400 <= status < 500, (status, body[:200])
    assert headers["content-type"] == "application/json"
    assert_envelope_4xx(status, body)


def test_a_storage_head_that_is_malformed_answers_xml(sb: Sandbox) -> None:
    status, headers, body = raw(sb, b"GET /storage/" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n")
    assert status == 414 and headers["content-type"] == "application/xml"
    assert b"<Code>RequestURITooLong</Code>" in body


def test_non_utf8_and_odd_json_bodies(sb: Sandbox) -> None:
    for body in (b"\xff\xfe{", b'{"file_name": "a.png"', b"1e99999", b"[" * 10, b"\xc3("):
        status, _, answer = raw(sb, request("POST", P.UPLOAD_URL_PATH, auth(sb), body))
        assert assert_envelope_4xx(status, answer)["code"] == 400, body


def test_fuzzed_requests_never_get_a_5xx(sb: Sandbox) -> None:
    """Random byte flips, cuts and repeats of valid requests: never a 5xx."""
    rnd = random.Random(13)
    body = json.dumps({"main_key": "a", "target_key": "b", "is_hd": 1}).encode()
    seeds = [
        request("POST", P.FACE_SWAP_PATH, auth(sb), body),
        request("GET", f"{P.TASK_DETAIL_PATH}?id=12", auth(sb)),
        request("PUT", storage_target(sb, "PUT"), {}, samples.astronaut().read_bytes()[:300]),
        request("GET", storage_target(sb), {"Range": "bytes=0-10"}),
    ]
    alphabet = b'\x00\r\n :;-9\xb2\xff{}[]"%&=?/'
    for _ in range(400):
        data = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 4)):
            at = rnd.randrange(len(data))
            op = rnd.random()
            if op < 0.5:
                data[at] = rnd.choice(alphabet)
            elif op < 0.75:
                del data[at : at + rnd.randint(1, 8)]
            else:
                data[at:at] = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(1, 6)))
        status, _, answer = raw(sb, bytes(data))
        assert status < 500, (bytes(data)[:200], status, answer[:300])
