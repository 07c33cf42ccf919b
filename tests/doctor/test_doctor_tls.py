"""The API host's TLS line, on an HTTPS stand-in with a certificate made here by openssl: not
trusted -> the fix names REQUESTS_CA_BUNDLE; trusted that way -> OK with the TLS version."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from standin import Reading, StandIn

import mio_nb
from mio_nb.sandbox import Sandbox

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A test CA and a server certificate for 127.0.0.2 signed by it."""
    d = tmp_path_factory.mktemp("certs")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=mio-nb test CA")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
            "-subj", "/CN=127.0.0.2")  # fmt: skip
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.2\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    return {"ca": d / "ca.pem", "cert": d / "srv.pem", "key": d / "srv.key"}


def server_context(certs: dict[str, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs["cert"], certs["key"])
    return ctx


def test_an_untrusted_certificate_names_the_fix(sb: Sandbox, certs, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with StandIn(sb, Reading(), host="127.0.0.2", tls=server_context(certs)) as api:
        report = mio_nb.doctor(base_url=api.base_url, token=sb.token, engine=False)
    line = report.check("API host")
    assert line.status == "FIX"
    assert "the TLS certificate does not verify" in line.detail
    assert "REQUESTS_CA_BUNDLE" in line.detail
    assert report.check("authentication").status == "SKIP"


def test_a_certificate_trusted_through_requests_ca_bundle_is_ok(sb: Sandbox, certs, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs["ca"]))
    before = len(sb.tasks())
    with StandIn(sb, Reading(), host="127.0.0.2", tls=server_context(certs)) as api:
        report = mio_nb.doctor(base_url=api.base_url, token=sb.token, engine=False)
    line = report.check("API host")
    assert line.status == "OK", str(report)
    assert "TLSv1." in line.detail and "certificate valid until" in line.detail
    assert report.ok, str(report)
    assert "the MioCreate API at https://127.0.0.2:" in str(report)
    assert len(sb.tasks()) == before and sb.token not in str(report)
