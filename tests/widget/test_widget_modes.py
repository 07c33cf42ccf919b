"""Which client the widget uses and what it says about it; error sentences for every code."""

from __future__ import annotations

import sys

import pytest
from widget_testkit import Frontend

from mio_nb import samples
from mio_nb.backend import NO_SANDBOX_NOTICE, SANDBOX_NOTICE
from mio_nb.errors import TaskTimeoutError, error_for
from mio_nb.widget import FaceSwapWidget, explain
from mio_nb.widget.messages import Msg


def test_no_credentials_means_the_shared_sandbox_said_plainly(
    monkeypatch: pytest.MonkeyPatch, tmp_path
):
    monkeypatch.setenv("MIO_NB_SANDBOX_DIR", str(tmp_path / "sandbox"))
    from mio_nb.sandbox import shared_sandbox

    w = FaceSwapWidget()
    try:
        assert w.mode == "sandbox"
        assert (
            w.notice == "Sandbox: results are made locally; set MIOCREATE_TOKEN for the real API."
        )
        assert w.client.base_url == shared_sandbox().base_url
    finally:
        w.close()
        shared_sandbox().stop()  # process-wide: the next test to want one gets its own data dir


def test_without_the_sandbox_extra_it_says_how_to_install_or_set_a_token(
    monkeypatch: pytest.MonkeyPatch,
):
    # What a core-only install looks like: the sandbox package cannot be imported.
    monkeypatch.setitem(sys.modules, "mio_nb.sandbox", None)
    w = FaceSwapWidget()
    try:
        assert w.mode == "unavailable" and w.client is None
        assert w.notice == NO_SANDBOX_NOTICE
        assert 'pip install ".[sandbox]"' in w.notice and "MIOCREATE_TOKEN" in w.notice
        front = Frontend(w)
        front.send(
            {"type": Msg.UPLOAD_START, "upload": "u", "role": "main", "name": "a.jpg", "size": 10}
        )
        assert front.replies("u")[-1] == {
            "type": Msg.UPLOAD_ERROR,
            "upload": "u",
            "message": NO_SANDBOX_NOTICE,
        }
        with pytest.raises(RuntimeError):
            w.load_main(samples.grace_hopper())
    finally:
        w.close()


def test_a_token_in_the_environment_means_the_real_api(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MIOCREATE_TOKEN", "tok-123-secret")
    w = FaceSwapWidget()
    try:
        assert w.mode == "api" and w.notice == ""
        assert w.client.base_url == "https://devapi.miocreate.com"
        assert "tok-123-secret" not in repr(w.get_state())
    finally:
        w.close()


def test_a_given_sandbox_client_is_named_as_such(client):
    w = FaceSwapWidget(client=client)
    try:
        assert w.client is client and w.mode == "sandbox" and w.notice == SANDBOX_NOTICE
    finally:
        w.close()


@pytest.mark.parametrize(
    ("code", "during", "start"),
    [
        (602, "detect", "No face was found in the original."),
        (602, "swap", "No face was found in a new face photo"),
        (603, "swap", "A new face photo shows several faces"),
        (604, "swap", "The original was refused under the service's content policy"),
        (605, "swap", "A new face was refused under the service's content policy"),
        (703, "detect", "The service does not accept this file's format"),
        (704, "detect", "The file is over the 500 MB limit"),
        (801, "swap", "Your MioCreate account is out of credits"),
        (802, "swap", "Too many requests right now. Wait a minute, then press Swap again."),
        (401, "swap", "The API refused the token"),
        (500, "swap", "The API had a problem on its side"),
    ],
)
def test_error_codes_become_sentences_with_what_to_do(code: int, during: str, start: str):
    sentence = explain(error_for(code, "server text"), during=during)
    assert sentence.startswith(start), sentence
    assert sentence.endswith("."), sentence


def test_timeouts_and_network_errors_say_what_to_do():
    from mio_nb.errors import NetworkError

    assert "press Resume" in explain(TaskTimeoutError("late", task_id=7))
    assert explain(TaskTimeoutError("late", task_id=7)).startswith("Task 7 did not finish")
    assert explain(NetworkError("refused")).startswith("Could not reach the MioCreate API")
    may_exist = error_for(500, "dropped", task_may_exist=True)
    assert "may exist" in explain(may_exist) and "not sent again" in explain(may_exist)
