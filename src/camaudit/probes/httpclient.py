"""One bounded HTTP exchange over ``netio``: the small async transport of the HTTP family.

:func:`request` opens one connection through :func:`camaudit.netio.open_tcp`
(scope gate, shared budget, connect timeout), sends one request built by
:mod:`camaudit.probes.httpwire` and reads until the response is complete by
its framing, the peer closes, `cap` bytes arrived or `deadline` seconds
passed — whichever comes first. A slow drip, an endless body or a 1 GB
Content-Length therefore costs at most `deadline` seconds and `cap` bytes, and
ends in an :class:`Exchange` holding what was read, never an exception.

When the operator supplied credentials (``net.credentials``) and the device
answers 401 with a challenge we can meet (:mod:`camaudit.probes.httpauth`),
the request is repeated once with ``Authorization``; the 401 is kept in
``Exchange.challenged`` because its realm is evidence. The Authorization value
lives only in the bytes sent.

Errors: connecting and sending raise :class:`camaudit.netio.NetError` (the
caller decides whether the port is dead); everything after the request is
sent is folded into ``Exchange.error``. Reusable by other probes (ONVIF SOAP
POSTs: ``request(net, a, p, "POST", path, body=..., content_type=...)``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from camaudit.errors import ParseError
from camaudit.netio import Connection, Net, Refused, TimedOut, TooMuch, open_tcp
from camaudit.probes import httpauth, httpwire

#: Default bytes read for one response.
DEFAULT_CAP = 96 * 1024


@dataclass
class Exchange:
    """What one request got back. `error` is None when a whole response was read."""

    address: str
    port: int
    tls: bool
    method: str
    target: str
    raw: bytes
    response: httpwire.Response | None
    error: str | None
    cert: bytes | None = None  # DER of the server certificate (TLS only)
    authenticated: bool = False  # the request carried operator credentials
    challenged: Exchange | None = None  # the 401 answered before an authenticated retry

    @property
    def ok(self) -> bool:
        """A complete, well-formed response arrived."""
        return self.error is None and self.response is not None

    @property
    def status(self) -> int | None:
        return self.response.status if self.response is not None else None


async def _read(conn: Connection, *, method: str, cap: int,
                deadline: float) -> tuple[bytes, str | None]:
    """Read one response: (bytes, why reading stopped early or None)."""
    end = time.monotonic() + deadline
    buf = bytearray()
    while True:
        if len(buf) >= cap:
            return bytes(buf), f"stopped at the {cap}-byte cap"
        remaining = end - time.monotonic()
        if remaining <= 0:
            return bytes(buf), f"no complete reply within {deadline:.1f}s"
        try:
            chunk = await conn.read_some(cap - len(buf), timeout=remaining)
        except TimedOut:
            return bytes(buf), f"no complete reply within {deadline:.1f}s"
        except TooMuch:
            return bytes(buf), "stopped at the per-connection byte cap"
        except Refused as exc:
            return bytes(buf), f"connection broken: {str(exc)[:80]}"
        if not chunk:
            return bytes(buf), None  # peer closed
        buf += chunk
        try:
            if httpwire.message_end(bytes(buf), method=method) is not None:
                return bytes(buf), None
        except ParseError:
            return bytes(buf), None  # not HTTP: stop reading, the parser will say why


def _interpret(raw: bytes, stop: str | None, method: str) -> tuple[httpwire.Response | None,
                                                                     str | None]:
    if not raw:
        return None, stop or "closed without a reply"
    try:
        response = httpwire.parse_response(raw, method=method, eof=stop is None)
    except ParseError as exc:
        return None, f"malformed reply: {exc}"
    if stop is None and not response.complete:
        stop = "reply shorter than its framing announced"
    return response, stop


async def _once(net: Net, address: str, port: int, data: bytes, *, tls: bool, method: str,
                target: str, cap: int, deadline: float, why: str,
                authenticated: bool) -> Exchange:
    async with open_tcp(net, address, port, tls=tls, why=why) as conn:
        cert = conn.peer_certificate() if tls else None
        await conn.send(data)
        raw, stop = await _read(conn, method=method, cap=cap, deadline=deadline)
    response, error = _interpret(raw, stop, method)
    return Exchange(address, port, tls, method, target, raw, response, error, cert,
                    authenticated)


async def request(net: Net, address: str, port: int, method: str, target: str, *,
                  tls: bool = False, body: bytes = b"", content_type: str | None = None,
                  headers: Sequence[tuple[str, str]] = (), cap: int | None = None,
                  deadline: float | None = None, why: str = "probe") -> Exchange:
    """Send one request and read its response within `cap` bytes and `deadline` seconds."""
    cap = min(cap or DEFAULT_CAP, net.max_bytes)
    deadline = deadline if deadline is not None else net.read_timeout
    host = httpwire.host_header(address, port, tls)
    extra = list(headers)
    if content_type:
        extra.append(("Content-Type", content_type))
    data = httpwire.build_request(method, target, host, headers=extra, body=body)
    first = await _once(net, address, port, data, tls=tls, method=method, target=target,
                        cap=cap, deadline=deadline, why=why, authenticated=False)
    creds = net.credentials
    if creds is None or first.status != 401 or first.response is None:
        return first
    challenges = [c for value in first.response.header_all("WWW-Authenticate")
                  for c in httpauth.parse_challenges(value)]
    chosen = httpauth.pick(challenges)
    value = httpauth.authorization(chosen, creds, method, httpwire.safe_target(target)) \
        if chosen is not None else None
    if value is None or any(c in value for c in "\r\n\0"):
        return first  # a challenge we cannot meet, or one that would break the request
    data = httpwire.build_request(method, target, host,
                                  headers=[*extra, ("Authorization", value)], body=body)
    second = await _once(net, address, port, data, tls=tls, method=method, target=target,
                         cap=cap, deadline=deadline, why=why, authenticated=True)
    second.challenged = first
    return second
