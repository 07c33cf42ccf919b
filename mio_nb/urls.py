"""Addresses: the one canonical form of a server's URL, and which storage URLs may be fetched.

``canonical_url`` is the server's identity wherever the client needs one (the journal, result
names, the transport): ``HTTP://LocalHost:080/v1/..`` and ``http://localhost`` are one server.
``check_storage_url`` refuses, before any connection, a result or upload URL that is not
http(s), or that points at a link-local, private or loopback address while the API is not on
such an address itself (a cloud metadata address, a service of the local network).
"""

from __future__ import annotations

import functools
import ipaddress
import posixpath
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import BadRequestError, InvalidArgumentError, UnsafeURLError

_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """``scheme://host[:port]/path`` with scheme and host lower case, the default port dropped,
    the port without leading zeros and the path normalised (``.``, ``..``, ``//``, trailing
    ``/``); query and fragment dropped. InvalidArgumentError for what is no http(s) URL."""
    text = str(url).strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:
        raise InvalidArgumentError(f"'{text}' is not a valid URL ({e}).") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        raise InvalidArgumentError(
            f"'{text}' is not an http(s) URL.",
            hint="Write the server as http(s)://host[:port], e.g. https://devapi.miocreate.com.",
        )
    if ":" in host:  # IPv6
        host = f"[{ipaddress.ip_address(host).compressed}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path
    if path:
        path = posixpath.normpath("/" + path)
        path = "" if path in ("/", "//") else path.lstrip("/")
        path = "/" + path if path else ""
    return urlunsplit((scheme, netloc, path, "", ""))


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    out = []
    for info in infos:
        try:
            out.append(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
        except ValueError:
            continue
    return out


def _category(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """ "loopback", "link-local" (cloud metadata lives there), "private", or None (public)."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback or addr.is_unspecified:  # 0.0.0.0 reaches this machine
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_private or addr.is_reserved or addr.is_multicast:
        return "private"
    return None


@functools.lru_cache(maxsize=64)
def host_category(host: str) -> str | None:
    """The most internal category of the addresses ``host`` is (or resolves to), or None."""
    low = host.lower().rstrip(".")
    if low == "localhost" or low.endswith(".localhost"):
        return "loopback"
    found = {_category(a) for a in _addresses(host)}
    for category in ("link-local", "private", "loopback"):
        if category in found:
            return category
    return None


def check_storage_url(url: str, api_url: str, *, what: str = "A result URL") -> str:
    """``url`` if the client may fetch it, else UnsafeURLError (no connection is made).

    http(s) only; an internal address (loopback, private, link-local) only when the API itself
    is on an address of the same kind (the sandbox on loopback keeps its files on loopback).
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise UnsafeURLError(f"{what} is not a valid URL.") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise UnsafeURLError(
            f"{what} ({parts.scheme or 'no scheme'}://...) is not an http(s) URL; it was not "
            "fetched."
        )
    category = host_category(parts.hostname)
    if category is None:
        return url
    api_host = urlsplit(api_url).hostname or ""
    if api_host and host_category(api_host) == category:
        return url
    raise UnsafeURLError(
        f"{what} points at a {category} address ({parts.hostname}) while the API is not on "
        "one; it was not fetched."
    )


class ServerIdentity:
    """What the journal, the result names and the retry rule know a server by, the same on
    every port and in every spelling: for a sandbox (on this machine), the id kept in its data
    dir, asked once at the first need through ``ask()`` (``GET /v1/sandbox/info``); for any
    other server, its canonical URL."""

    def __init__(self, base_url: str, ask: Callable[[], Any]) -> None:
        self.base_url = canonical_url(base_url)
        self._ask = ask
        self._id: str | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        if self._id is None:
            with self._lock:
                if self._id is None:
                    self._id = self._lookup()
        return self._id

    def _lookup(self) -> str:
        from .backend import is_local

        if not is_local(self.base_url):
            return self.base_url
        try:
            data = self._ask()
        except BadRequestError:  # a local server that is no sandbox (a proxy, an old sandbox)
            return self.base_url
        server_id = data.get("server_id") if isinstance(data, dict) else None
        return str(server_id) if server_id else self.base_url
