"""``mio_nb.doctor()`` on the sandbox and on the strict stand-in read each way the public material
allows: OK where it should be, the exact fix where not, no task created (the sandbox's task
table is counted), no secret in anything it shows or records."""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from standin import Reading, StandIn

import mio_nb
from mio_nb.client import Client
from mio_nb.doctor import Report
from mio_nb.sandbox import Faults, Sandbox

#: Tokens the sandbox issues for a key pair look like this (the doctor's own are never known).
ISSUED_TOKEN = re.compile(r"sbt\.[0-9]+\.")
UNREDACTED_SIGNATURE = re.compile(r"(?i)signature=(?!(<|%3C)redacted)")


def shown(report: Report, tmp: Path) -> str:
    """Everything the doctor shows or writes: the text, the notebook table, the record."""
    text = str(report) + repr(report) + report._repr_html_()
    for path in tmp.rglob("*.jsonl"):
        text += path.read_text()
    return text


def assert_no_secret(text: str, sb: Sandbox) -> None:
    for secret in (sb.token, sb.client_secret):
        assert secret not in text
    assert not ISSUED_TOKEN.search(text), "an issued token"
    assert not UNREDACTED_SIGNATURE.search(text), "a presigned URL's signature"


def statuses(report: Report) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


@pytest.fixture
def counted(sb: Sandbox) -> Iterator[Sandbox]:
    before = len(sb.tasks())
    yield sb
    assert len(sb.tasks()) == before, "doctor created a task"


def run(
    sb: Sandbox,
    reading: Reading | StandIn | None,
    tmp: Path,
    *,
    pair: bool = False,
    **kw: Any,
):
    """doctor() against the sandbox itself (reading None) or a stand-in in front of it."""
    given = isinstance(reading, StandIn)
    standin = reading if isinstance(reading, StandIn) else StandIn(sb, reading) if reading else None
    base = standin.base_url if standin else sb.base_url
    creds = (
        {"client_id": sb.client_id, "client_secret": kw.pop("client_secret", sb.client_secret)}
        if pair
        else {"token": kw.pop("token", sb.token)}
    )
    try:
        report = mio_nb.doctor(base_url=base, engine=False, record=tmp / "rec", **creds, **kw)
    finally:
        if standin and not given:
            standin.close()
    text = shown(report, tmp)
    assert_no_secret(text, sb)
    assert "creates no task and spends no credits" in str(report)
    return report, text, base


OK_LINES = ("credentials", "API host", "clock", "authentication", "upload URL", "storage")


@pytest.mark.parametrize(
    "reading",
    [
        None,
        Reading(auth="bearer"),
        Reading(auth="bearer", strings=True),
        Reading(auth="bearer", token_path="/oauth/token"),
    ],
    ids=["sandbox", "bearer", "bearer-strings", "bearer-other-token-path"],
)
def test_a_token_the_service_accepts_is_ok_on_every_line(counted, reading, tmp_path):
    report, text, _ = run(counted, reading, tmp_path)
    got = statuses(report)
    assert all(got[name] == "OK" for name in OK_LINES), str(report)
    assert report.ok
    assert "a token passed as arguments (values not shown)" in text
    assert "accepted as Bearer <token> (the default)" in text


def test_status_zero_and_strings_change_nothing_for_doctor(sandbox_zero, tmp_path):
    before = len(sandbox_zero.tasks())
    report, _, _ = run(sandbox_zero, Reading(strings=True), tmp_path)
    assert report.ok, str(report)
    assert len(sandbox_zero.tasks()) == before


def test_a_service_that_wants_a_bare_token_gets_the_exact_setting(counted, tmp_path):
    report, _, _ = run(counted, Reading(auth="bare"), tmp_path)
    line = report.check("authentication")
    assert line.status == "FIX" and not report.ok
    assert (
        "the service refuses Bearer <token> but accepts a bare token: set "
        "MIOCREATE_AUTH_SCHEME='' or Client(auth_scheme='')"
    ) in line.detail
    assert "storage" not in statuses(report), "nothing further is tried with a refused token"


@pytest.mark.parametrize("how", ["environment", "argument"])
def test_the_setting_doctor_names_makes_it_ok(counted, tmp_path, monkeypatch, how):
    kw: dict[str, Any] = {}
    if how == "environment":
        monkeypatch.setenv("MIOCREATE_AUTH_SCHEME", "")
    else:
        kw["auth_scheme"] = ""
    report, text, _ = run(counted, Reading(auth="bare"), tmp_path, **kw)
    assert report.ok, str(report)
    assert "accepted as <token> (bare)" in text
    assert ("from MIOCREATE_AUTH_SCHEME" in text) == (how == "environment")


def test_a_bare_token_sent_to_a_bearer_service_gets_the_bearer_setting(counted, tmp_path):
    report, _, _ = run(counted, Reading(auth="bearer"), tmp_path, auth_scheme="")
    assert report.check("authentication").detail.endswith(
        "set MIOCREATE_AUTH_SCHEME='Bearer' or Client(auth_scheme='Bearer')."
    )


@pytest.mark.parametrize("reading", [Reading(auth="bearer"), Reading(auth="bare"), None])
def test_a_wrong_token_is_refused_in_every_form_and_doctor_says_so(counted, reading, tmp_path):
    report, _, _ = run(counted, reading, tmp_path, token="not-the-token-0123")
    line = report.check("authentication")
    assert line.status == "FIX"
    assert "the token is refused in every form (Bearer <token>, <token> (bare))" in line.detail
    assert "copy a new one from the MioCreate console into MIOCREATE_TOKEN" in line.detail


@pytest.mark.parametrize(
    "reading",
    [None, Reading(auth="bearer", strings=True), Reading(auth="bare")],
    ids=["sandbox", "strings", "bare"],
)
def test_a_key_pair_reports_the_token_exchange(counted, reading, tmp_path):
    report, text, base = run(counted, reading, tmp_path, pair=True)
    line = report.check("token exchange")
    assert line.status == "OK"
    assert re.search(rf"{re.escape(base)}/v1/auth/token gave a token valid 86400 s", line.detail)
    assert "a key pair (client id and secret) passed as arguments" in text
    if reading is not None and reading.auth == "bare":
        assert "set MIOCREATE_AUTH_SCHEME=''" in report.check("authentication").detail
    else:
        assert report.ok, str(report)
    # The record holds the exchange, its secrets redacted.
    assert '"kind": "token"' in text and '"access_token": "<redacted>"' in text


@pytest.mark.parametrize("path", ["/oauth/token", "/v1/oauth/token", "/v1/token"])
def test_a_token_endpoint_elsewhere_is_found_and_named(counted, tmp_path, path):
    with StandIn(counted, Reading(token_path=path)) as standin:
        report, _, base = run(counted, standin, tmp_path, pair=True)
        line = report.check("token exchange")
        assert line.status == "FIX"
        assert f"set MIOCREATE_TOKEN_URL={base}{path} or Client(token_url='{base}{path}')" in (
            line.detail
        )
        # ... and with that setting, every line is OK.
        report, _, _ = run(counted, standin, tmp_path, pair=True, token_url=base + path)
        assert report.ok, str(report)


def test_a_token_endpoint_nowhere_to_be_found_says_what_to_set(counted, tmp_path):
    report, _, _ = run(counted, Reading(token_path="/secret/place"), tmp_path, pair=True)
    detail = report.check("token exchange").detail
    assert "none of the usual paths answered: set MIOCREATE_TOKEN_URL" in detail


def test_a_wrong_client_secret_is_refused_not_searched_for(counted, tmp_path):
    report, _, _ = run(counted, None, tmp_path, pair=True, client_secret="wrong-secret-xyz")
    detail = report.check("token exchange").detail
    assert "refused the key pair (code 401): copy the client id and secret again" in detail


@pytest.mark.parametrize("offset", [300.0, -900.0])
def test_a_clock_off_by_minutes_is_named(counted, tmp_path, offset):
    report, _, _ = run(counted, Reading(clock_offset=offset), tmp_path)
    line = report.check("clock")
    way = "behind" if offset > 0 else "ahead of"
    assert line.status == "FIX"
    said = re.search(rf"clock is (\d+) s {way} the API's", line.detail)
    assert said, line.detail
    assert abs(int(said[1]) - abs(offset)) <= 1, line.detail  # the Date header has 1 s steps
    assert "timedatectl set-ntp true" in line.detail


def test_an_unreachable_host_is_named_and_nothing_else_is_tried(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = mio_nb.doctor(
        base_url=f"http://127.0.0.1:{port}", token="some-token-123456", engine=False
    )
    line = report.check("API host")
    assert line.status == "FIX" and "cannot connect to 127.0.0.1" in line.detail
    assert report.check("authentication").status == "SKIP"
    assert "some-token-123456" not in str(report) + report._repr_html_()


def test_no_credentials_says_how_to_set_them_and_checks_the_sandbox_engine(tmp_path):
    report = mio_nb.doctor(engine=False)
    line = report.check("credentials")
    assert line.status == "FIX" and "set MIOCREATE_TOKEN" in line.detail
    assert statuses(report)["authentication"] == "SKIP"
    assert report.check("engine packages").status == "OK"


def test_credentials_from_the_environment_and_colab_name_their_source(
    counted, tmp_path, monkeypatch
):
    monkeypatch.setenv("MIOCREATE_BASE_URL", counted.base_url)
    monkeypatch.setenv("MIOCREATE_TOKEN", counted.token)
    report = mio_nb.doctor(engine=False)
    assert "a token from the environment (MIOCREATE_TOKEN)" in str(report)
    assert report.ok
    monkeypatch.delenv("MIOCREATE_TOKEN")
    secrets = {
        "MIOCREATE_CLIENT_ID": counted.client_id,
        "MIOCREATE_CLIENT_SECRET": counted.client_secret,
    }
    userdata = types.SimpleNamespace(get=lambda name: secrets[name])
    colab = types.ModuleType("google.colab")
    colab.userdata = userdata  # type: ignore[attr-defined]
    google = types.ModuleType("google")
    google.colab = colab  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    report = mio_nb.doctor(engine=False)
    text = str(report)
    assert "a key pair (client id and secret) from Colab secrets" in text
    assert report.check("token exchange").status == "OK"
    assert counted.client_secret not in text and counted.client_id not in text


def test_a_pasted_token_with_bearer_or_quotes_is_named(counted, tmp_path):
    for bad, what in (
        (f"Bearer {counted.token}", "starts with 'Bearer '"),
        ('"x-y-z-1"', "quotes"),
    ):
        report = mio_nb.doctor(base_url=counted.base_url, token=bad, engine=False)
        assert what in report.check("token format").detail
        assert counted.token not in str(report)


def test_an_existing_client_is_checked_as_configured(counted, tmp_path):
    with Client.for_sandbox(counted, output_dir=tmp_path / "out", record=tmp_path / "r") as c:
        report = mio_nb.doctor(c, engine=False)
    assert report.ok and report.record is not None and report.record.parent == tmp_path / "r"
    assert_no_secret(shown(report, tmp_path), counted)


def test_the_engine_line_loads_the_real_engine_and_finds_a_face(tmp_path):
    report = mio_nb.doctor(engine=True)
    line = report.check("sandbox")
    assert line.status == "OK" and "finds the face in grace_hopper.jpg" in line.detail


def test_a_rate_limited_service_is_named_not_taken_for_a_refused_token(counted, tmp_path):
    counted.set_faults(Faults(rate_limit_per_minute=0))
    report, _, _ = run(counted, None, tmp_path)
    line = report.check("authentication")
    assert line.status == "FIX"
    assert "rate limiting (code 802): wait a minute and run doctor again" in line.detail


def test_a_failing_task_detail_is_reported_and_the_upload_url_decides(counted, tmp_path):
    counted.set_faults(Faults(error_rate=1.0, only_paths=("/v1/task/detail",)))
    report, _, _ = run(counted, None, tmp_path)
    line = report.check("authentication")
    assert line.status == "OK" and "the detail of an unknown task answered code 500" in line.detail
    assert report.ok, str(report)


def test_a_failing_upload_url_names_the_call_and_what_to_send(counted, tmp_path):
    counted.set_faults(Faults(error_rate=1.0, only_paths=("/v1/source/upload-url",)))
    report, _, _ = run(counted, None, tmp_path)
    line = report.check("upload URL")
    assert line.status == "FIX" and "POST /v1/source/upload-url" in line.detail
    assert "send the record" in line.detail
