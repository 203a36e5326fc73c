"""Pointers a device hands us (ONVIF XAddrs, SSDP LOCATION URLs) and the scope gate.

A device may point anywhere — at a cloud host, at another subnet, at a
multicast address. camaudit follows a pointer only when its host is inside
the operator's scope; otherwise the address is recorded with
:meth:`camaudit.scope.Scope.refuse` and the pointer is kept as evidence, never
contacted. Host names are not resolved: a pointer must name an address.

URL syntax per RFC 3986 §3 (scheme, authority, path), parsed with
:func:`urllib.parse.urlsplit`; its ``ValueError`` (bad port, bad IPv6 literal)
is translated to "not followable" here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from camaudit.netio import Net

#: Longest pointer we look at; anything longer is kept as evidence only.
MAX_URL = 2048


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_target(url: str) -> Target | None:
    """Scheme, address, port and path of an ``http(s)://address[:port]/path`` URL, else None."""
    if not url or len(url) > MAX_URL:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        host = str(ipaddress.ip_address(parts.hostname))
    except ValueError:
        return None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def host_of(url: str) -> str | None:
    """The host part of a URL as written (address or name), for refusal records."""
    try:
        return urlsplit(url.strip()).hostname
    except ValueError:
        return None


def gate(net: Net, url: str, why: str) -> Target | None:
    """The target of `url` if we may contact it; otherwise record the refusal and return None."""
    target = parse_target(url)
    if target is not None and net.scope.allows(target.host):
        return target
    net.scope.refuse(host_of(url) or url[:200], why)
    return None
