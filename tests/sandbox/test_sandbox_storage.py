"""Presigned storage URLs: signatures, expiry, methods, and no Authorization header allowed."""

from __future__ import annotations

import pytest
import requests
from sandbox_helpers import Api

from mio_nb import protocol as P
from mio_nb import samples


@pytest.fixture(scope="module")
def key(sb) -> str:
    return Api(sb).upload(samples.grace_hopper())


def is_s3_error(r: requests.Response, status: int, code: str) -> bool:
    return (
        r.status_code == status
        and r.headers["Content-Type"] == "application/xml"
        and f"<Code>{code}</Code>" in r.text
    )


def tamper(url: str, old: str, new: str) -> str:
    assert old in url
    return url.replace(old, new, 1)


def test_tampered_get_urls_are_403(api: Api, key: str) -> None:
    url = api.ok(P.ACCESS_URL_PATH, {"key": key})["url"]
    assert requests.get(url, timeout=30).status_code == 200
    signature = url.rsplit("X-Signature=", 1)[1]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    expires = url.split("X-Expires=")[1].split("&")[0]
    bad_urls = [
        tamper(url, signature, flipped),
        tamper(url, f"X-Expires={expires}", f"X-Expires={int(expires) + 1000}"),
        tamper(url, ".jpg?", ".png?"),  # another key, same signature
        url.split("?")[0],  # no signature at all
        tamper(url, f"&X-Signature={signature}", ""),
    ]
    for bad in bad_urls:
        r = requests.get(bad, timeout=30)
        assert is_s3_error(r, 403, "SignatureDoesNotMatch"), (bad, r.status_code, r.text)


def test_expired_urls_are_403(api: Api, key: str) -> None:
    expired = api.sb.presign(key, "GET", expires_in=-1)
    r = requests.get(expired, timeout=30)
    assert is_s3_error(r, 403, "AccessDenied") and "expired" in r.text
    upload = api.ok(P.UPLOAD_URL_PATH, {"file_name": "a.png"})["key"]
    expired_put = api.sb.presign(upload, "PUT", expires_in=-5)
    r = requests.put(expired_put, data=samples.astronaut().read_bytes(), timeout=30)
    assert is_s3_error(r, 403, "AccessDenied")
    assert api.post(P.ACCESS_URL_PATH, {"key": upload})["code"] == 702
    fresh = api.sb.presign(key, "GET", expires_in=60)
    assert requests.get(fresh, timeout=30).status_code == 200


def test_upload_url_is_only_for_put_and_access_url_only_for_get(api: Api, key: str) -> None:
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "a.png"})
    assert is_s3_error(requests.get(got["upload_url"], timeout=30), 403, "SignatureDoesNotMatch")
    url = api.ok(P.ACCESS_URL_PATH, {"key": key})["url"]
    r = requests.put(url, data=samples.astronaut().read_bytes(), timeout=30)
    assert is_s3_error(r, 403, "SignatureDoesNotMatch")
    assert requests.get(url, timeout=30).content == samples.grace_hopper().read_bytes()
    assert requests.delete(url, timeout=30).status_code == 405


def test_authorization_header_is_refused_on_storage(api: Api, key: str) -> None:
    token = {"Authorization": f"Bearer {api.sb.token}"}
    url = api.ok(P.ACCESS_URL_PATH, {"key": key})["url"]
    r = requests.get(url, headers=token, timeout=30)
    assert is_s3_error(r, 400, "InvalidArgument")
    assert api.sb.token not in r.text
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "a.png"})
    r = requests.put(got["upload_url"], data=samples.astronaut().read_bytes(), headers=token)
    assert is_s3_error(r, 400, "InvalidArgument")
    assert api.post(P.ACCESS_URL_PATH, {"key": got["key"]})["code"] == 702
    # Any scheme counts, an empty one too.
    assert requests.get(url, headers={"Authorization": ""}, timeout=30).status_code == 400


def test_missing_object_is_404(api: Api) -> None:
    url = api.sb.presign("temporary/20240101/sandbox/1-none.png", "GET", 60)
    assert is_s3_error(requests.get(url, timeout=30), 404, "NoSuchKey")


def test_an_upload_url_is_used_once_and_never_overwrites(api: Api) -> None:
    """#16: an upload URL stores one file; a second PUT (which could replace an input a task
    used) is refused with 403, and the first file stays."""
    got = api.ok(P.UPLOAD_URL_PATH, {"file_name": "a.png"})
    assert requests.put(got["upload_url"], data=samples.astronaut().read_bytes()).ok
    assert requests.put(got["upload_url"], data=samples.no_face().read_bytes()).status_code == 403
    url = api.ok(P.ACCESS_URL_PATH, {"key": got["key"]})["url"]
    assert requests.get(url, timeout=30).content == samples.astronaut().read_bytes()


def test_cors_preflight_and_headers(api: Api, key: str) -> None:
    url = api.ok(P.ACCESS_URL_PATH, {"key": key})["url"]
    r = requests.options(url, timeout=30)
    assert r.status_code == 204 and "PUT" in r.headers["Access-Control-Allow-Methods"]
    assert requests.get(url, timeout=30).headers["Access-Control-Allow-Origin"] == "*"
