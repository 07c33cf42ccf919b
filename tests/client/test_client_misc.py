"""Upload URL renewal, cheap import, credential lookup order (Colab secrets included)."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest
import requests
from client_testkit import tiny_gif

from mio_nb import Client, FileError
from mio_nb import protocol as P
from mio_nb.credentials import Credentials
from mio_nb.sandbox import Sandbox
from mio_nb.uploads import prepare, upload_source


def _tampered(url: str) -> str:
    base, _, signature = url.rpartition("X-Signature=")
    assert base, url
    return base + "X-Signature=" + ("0" * len(signature))


def test_refused_upload_url_is_renewed_once(client: Client, sb: Sandbox, media):
    transport = client._transport
    ticket = transport.call("POST", P.UPLOAD_URL_PATH, json={"file_name": "face.png"})
    bad = _tampered(ticket["upload_url"])
    assert requests.put(bad, data=b"\x89PNG\r\n\x1a\n" + b"\0" * 60).status_code == 403
    source = prepare(media["png"], "new face")
    asset = upload_source(transport, source, progress=False, ticket=(bad, ticket["key"]))
    assert asset.key != ticket["key"]  # a fresh upload URL (and key) was used
    stored = requests.get(client.access_url(asset), timeout=10).content
    assert stored == media["png"].read_bytes()


def test_upload_refused_twice_is_a_file_error(client: Client, sb: Sandbox, media, monkeypatch):
    """Storage refusing even a fresh URL (e.g. a badly wrong clock) ends with a FileError."""
    transport = client._transport
    real_call = transport.call

    def tampering_call(method, path, **kw):
        data = real_call(method, path, **kw)
        if path == P.UPLOAD_URL_PATH:
            data = {**data, "upload_url": _tampered(data["upload_url"])}
        return data

    monkeypatch.setattr(transport, "call", tampering_call)
    with pytest.raises(FileError, match="twice"):
        client.upload(media["png"])


def test_import_is_cheap_and_does_not_load_the_sandbox():
    code = (
        "import sys, mio_nb; assert 'requests' not in sys.modules; "
        "from mio_nb import Client, MioError, ImageResult; "
        "assert not any(m.startswith('mio_nb.sandbox') for m in sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_credentials_order_and_colab_secrets(
    monkeypatch: pytest.MonkeyPatch, sb: Sandbox, tmp_path
):
    for name in ("MIOCREATE_TOKEN", "MIOCREATE_CLIENT_ID", "MIOCREATE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    # Colab is not here: stand in its userdata module to check the lookup order.
    secrets = {"MIOCREATE_CLIENT_ID": sb.client_id, "MIOCREATE_CLIENT_SECRET": sb.client_secret}
    userdata = types.ModuleType("google.colab.userdata")

    def get(name):
        if name not in secrets:
            raise KeyError(name)  # what SecretNotFoundError amounts to
        return secrets[name]

    userdata.get = get
    colab = types.ModuleType("google.colab")
    colab.userdata = userdata
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.userdata", userdata)

    found = Credentials.resolve()
    assert found.source == "Colab secrets" and found.can_refresh
    assert sb.client_secret not in repr(found)

    monkeypatch.setenv("MIOCREATE_TOKEN", sb.token)  # the environment comes before Colab
    assert Credentials.resolve().source == "environment"
    assert Credentials.resolve(token="given").source == "argument"

    monkeypatch.delenv("MIOCREATE_TOKEN")
    client = Client(base_url=sb.base_url, output_dir=tmp_path)  # Colab secrets, derived token URL
    assert client.access_url(client.upload(tiny_gif())).startswith(sb.base_url)
