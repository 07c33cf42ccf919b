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
from urllib.parse import urlsplit, urlunsplit

from .errors import InvalidArgumentError, UnsafeURLError

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


def _internal(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_reserved
        or addr.is_multicast
        or addr.is_unspecified
    )


@functools.lru_cache(maxsize=64)
def is_internal_host(host: str) -> bool:
    """True when ``host`` is (or resolves to) a loopback, private or link-local address."""
    if host.lower() in ("localhost", "localhost.") or host.lower().endswith(".localhost"):
        return True
    return any(_internal(a) for a in _addresses(host))


def check_storage_url(url: str, api_url: str, *, what: str = "A result URL") -> str:
    """``url`` if the client may fetch it, else UnsafeURLError (no connection is made)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise UnsafeURLError(f"{what} is not a valid URL.") from None
    where = f"{parts.scheme}://{parts.hostname or ''}"
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise UnsafeURLError(f"{what} ({where}) is not an http(s) URL; it was not fetched.")
    host = parts.hostname
    if not is_internal_host(host):
        # An internal address hiding behind a public-looking name counts as internal too.
        return url
    api_host = urlsplit(api_url).hostname or ""
    if api_host and is_internal_host(api_host):
        return url  # the API itself is local (the sandbox): its storage is too
    raise UnsafeURLError(
        f"{what} points at an internal address ({host}: loopback, private, link-local or "
        "metadata); it was not fetched."
    )
