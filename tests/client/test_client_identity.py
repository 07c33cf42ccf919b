"""One canonical form per server: scheme and host lower case, default port dropped, leading zeros
of the port dropped, path normalised. The journal, result names and retry rule all use it."""

from __future__ import annotations

import pytest

from mio_nb.errors import InvalidArgumentError, UnsafeURLError
from mio_nb.urls import canonical_url, check_storage_url

SAME = {
    "https://devapi.miocreate.com": [
        "https://devapi.miocreate.com/",
        "HTTPS://DevAPI.MioCreate.com",
        "https://devapi.miocreate.com:443",
        "https://devapi.miocreate.com:0443/",
        "https://devapi.miocreate.com/./",
        "https://devapi.miocreate.com/v1/..",
        "https://devapi.miocreate.com//",
        "https://devapi.miocreate.com.",
        " https://devapi.miocreate.com ",
    ],
    "http://127.0.0.1:8765": [
        "http://127.0.0.1:08765",
        "HTTP://127.0.0.1:8765/",
        "http://127.0.0.1:8765/v1/../",
        "http://127.0.0.1:0008765//",
    ],
    "http://localhost": ["http://LOCALHOST:80", "http://localhost:080/", "http://localhost/a/.."],
    "https://api.example.com/proxy/mio": [
        "https://api.example.com/proxy/mio/",
        "https://API.example.com:443/proxy//mio",
        "https://api.example.com/proxy/x/../mio/.",
    ],
    "http://[::1]:9000": ["http://[0:0:0:0:0:0:0:1]:9000/", "HTTP://[::1]:09000"],
}


@pytest.mark.parametrize(
    ("canonical", "spelling"), [(c, s) for c, spellings in SAME.items() for s in spellings]
)
def test_every_spelling_of_a_server_is_one_server(canonical: str, spelling: str) -> None:
    assert canonical_url(spelling) == canonical
    assert canonical_url(canonical) == canonical


@pytest.mark.parametrize(
    "bad", ["ftp://host", "devapi.miocreate.com", "http://", "http://host:99999", "file:///x"]
)
def test_what_is_no_http_url_is_refused_with_a_sentence(bad: str) -> None:
    with pytest.raises(InvalidArgumentError):
        canonical_url(bad)


@pytest.mark.parametrize(
    ("url", "api", "allowed"),
    [
        ("http://127.0.0.1:5/x", "http://127.0.0.1:4", True),
        ("http://localhost:5/x", "http://127.0.0.1:4", True),
        ("http://10.0.0.1/x", "http://10.0.0.2", True),
        ("http://10.0.0.1/x", "http://127.0.0.1:4", False),
        ("http://169.254.169.254/", "http://127.0.0.1:4", False),
        ("http://169.254.169.254/", "http://10.0.0.2", False),
        ("http://127.0.0.1:5/x", "https://93.184.215.14", False),
        ("http://[::1]/x", "https://93.184.215.14", False),
        ("http://0.0.0.0/x", "https://93.184.215.14", False),
        ("https://8.8.8.8/x", "https://93.184.215.14", True),
        ("ftp://8.8.8.8/x", "https://93.184.215.14", False),
    ],
)
def test_storage_url_rules(url: str, api: str, allowed: bool) -> None:
    if allowed:
        assert check_storage_url(url, api) == url
    else:
        with pytest.raises(UnsafeURLError):
            check_storage_url(url, api)
