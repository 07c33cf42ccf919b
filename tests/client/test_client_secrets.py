"""The token and the client secret never show: not in a repr, a str, a log record, an
exception, the journal or a result."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from client_testkit import FAST_RETRY

from mio_nb import Client, MioError
from mio_nb.sandbox import Faults, Sandbox
from mio_nb.transport import RetryConfig


def test_no_secret_in_any_text(sb: Sandbox, tmp_path: Path, media, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's included
    texts: list[str] = []
    errors: list[BaseException] = []

    client = Client.for_sandbox(
        sb, client_credentials=True, output_dir=tmp_path, retry=FAST_RETRY, progress=False
    )
    static = Client.for_sandbox(sb, output_dir=tmp_path, retry=FAST_RETRY, progress=False)
    result = client.swap_image(media["jpg"], media["png"])
    faces = client.detect_faces(media["group"])
    task = static.submit_image_swap(media["jpg"], media["png"])
    texts += [repr(result), str(result), repr(faces), repr(task), repr(task.wait(timeout=30))]

    def collect(call):
        try:
            call()
        except (MioError, KeyboardInterrupt) as e:
            errors.append(e)

    sb.set_faults(Faults(token_ttl=0.2))
    time.sleep(0.3)
    collect(lambda: static.upload(media["png"]))  # 401 with the static token
    collect(lambda: client.upload(media["png"]))  # renewed
    sb.set_faults(Faults())
    bad = Client(base_url=sb.base_url, token=sb.token + "x", output_dir=tmp_path)
    collect(lambda: bad.upload(media["png"]))
    wrong_secret = Client(
        base_url=sb.base_url,
        client_id=sb.client_id,
        client_secret=sb.client_secret + "x",
        output_dir=tmp_path,
    )
    collect(lambda: wrong_secret.upload(media["png"]))
    sb.set_faults(Faults(error_rate=1.0, only_paths=("/v1/task/face-swap",)))
    collect(lambda: client.submit_image_swap(media["jpg"], media["png"]))
    sb.set_faults(Faults(drop_rate=1.0))
    collect(lambda: static.upload(media["png"]))
    sb.set_faults(Faults())
    collect(lambda: client.task(10**9).refresh())
    unreachable = Client(
        base_url="http://127.0.0.1:9",
        token=sb.token,
        output_dir=tmp_path,
        retry=RetryConfig(retries=1, backoff_factor=0.01),
    )
    collect(lambda: unreachable.upload(media["png"]))
    assert len(errors) == 7, errors

    issued = client._transport.credentials.token()  # a token the sandbox issued
    secrets = [sb.token, sb.client_secret, issued]
    for obj in (client, static, bad, wrong_secret, unreachable):
        texts += [
            repr(obj),
            str(obj),
            repr(obj._transport),
            repr(obj._transport.credentials),
            repr(obj.__dict__),
            repr(obj._transport.__dict__),
            repr(obj._transport.credentials.__dict__),
            repr(obj._transport.api.auth),
        ]
    for e in errors:
        texts += [str(e), repr(e), e.message, e.hint or ""]
        cause = e.__cause__ or e.__context__
        while cause is not None:
            texts.append(repr(cause))
            cause = cause.__cause__ or cause.__context__
    texts += [r.getMessage() for r in caplog.records]
    texts += [f"{r.args}" for r in caplog.records]
    texts.append((tmp_path / "journal.jsonl").read_text())
    texts += [repr(e) for e in client.history()]
    assert len(caplog.records) > 20  # the requests were logged, just never the secrets
    for secret in secrets:
        assert len(secret) >= 10
        for text in texts:
            assert secret not in text


def test_credentials_cannot_be_pickled(sb: Sandbox, tmp_path: Path):
    import pickle

    client = Client.for_sandbox(sb, output_dir=tmp_path)
    with pytest.raises(TypeError):
        pickle.dumps(client._transport.credentials)
