"""Bounded HTTP exchanges over ``netio``: the small async transport of the HTTP family.

A :class:`Client` sends the requests of one probe to one address and port. Each
request goes through :func:`camaudit.netio.connect` (scope gate, shared budget,
connect timeout), is built by :mod:`camaudit.probes.httpwire` and its response is
read until it is complete by its framing, the peer closes, `cap` bytes arrived or
`deadline` seconds passed — whichever comes first. A slow drip, an endless body or a
1 GB Content-Length therefore costs at most `deadline` seconds and `cap` bytes, and
ends in an :class:`Exchange` holding what was read, never an exception.

The client asks for ``Connection: keep-alive`` and keeps a connection that the
device keeps open (HTTP/1.1 without ``Connection: close``, or HTTP/1.0 with
``keep-alive``, and a body framed by its length: RFC 9112 9.3) for its next request:
a camera that allows it costs one connect — and one TLS handshake — per port
instead of one per request. A device that drops such a connection anyway (some
close without saying so) costs one retry on a fresh connection, when nothing came
back, or nothing within :data:`KEPT_WAIT` of the read timeout; from then on the
client asks it to close after each reply. :func:`request` is one request on a
connection of its own, ``Connection: close``.

When the operator supplied credentials (``net.credentials``) and the device
answers 401 with a challenge we can meet (:mod:`camaudit.probes.httpauth`),
the request is repeated once with ``Authorization``; the 401 is kept in
``Exchange.challenged`` because its realm is evidence. The Authorization value
lives only in the bytes sent.

Errors: connecting and sending raise :class:`camaudit.netio.NetError` (the
caller decides whether the port is dead); everything after the request is
sent is folded into ``Exchange.error``. Reusable by other probes (ONVIF SOAP
POSTs: ``Client(net, a, p).request("POST", path, body=..., content_type=...)``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from camaudit.errors import ParseError
from camaudit.netio import Connection, Net, NetError, Refused, TimedOut, TooMuch, connect
from camaudit.probes import httpauth, httpwire

#: Default bytes read for one response.
DEFAULT_CAP = 96 * 1024
#: On a kept connection, the first byte of the reply must come within this share of the
#: read timeout; else the request is sent again on a new connection (a server that kept
#: the connection open but answers only one request per connection costs this, once).
KEPT_WAIT = 0.25


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


#: What :func:`_read` returns: the bytes, why reading stopped early (None: the peer
#: closed, or the response is whole), and the response with its end offset once its
#: framing says it is whole.
Reply = tuple[bytes, str | None, tuple[httpwire.Response, int] | None]


async def _read(conn: Connection, *, method: str, cap: int, deadline: float,
                first_byte: float | None = None) -> Reply:
    """Read one response (see :data:`Reply`); with `first_byte`, give up if nothing came
    by then."""
    end = time.monotonic() + deadline
    first_end = end if first_byte is None else min(end, time.monotonic() + first_byte)
    buf = bytearray()
    while True:
        if len(buf) >= cap:
            return bytes(buf), f"stopped at the {cap}-byte cap", None
        remaining = (end if buf else first_end) - time.monotonic()
        if remaining <= 0:
            return bytes(buf), f"no complete reply within {deadline:.1f}s", None
        try:
            chunk = await conn.read_some(cap - len(buf), timeout=remaining)
        except TimedOut:
            return bytes(buf), f"no complete reply within {deadline:.1f}s", None
        except TooMuch:
            return bytes(buf), "stopped at the per-connection byte cap", None
        except Refused as exc:
            return bytes(buf), f"connection broken: {str(exc)[:80]}", None
        if not chunk:
            return bytes(buf), None, None  # peer closed
        buf += chunk
        data = bytes(buf)
        try:
            whole = httpwire.complete_response(data, method=method)
        except ParseError:
            return data, None, None  # not HTTP: stop reading, the parser will say why
        if whole is not None:
            return data, None, whole


def _interpret(raw: bytes, stop: str | None, method: str,
               whole: httpwire.Response | None = None) -> tuple[httpwire.Response | None,
                                                                str | None]:
    if whole is not None:
        return whole, None
    if not raw:
        return None, stop or "closed without a reply"
    try:
        response = httpwire.parse_response(raw, method=method, eof=stop is None)
    except ParseError as exc:
        return None, f"malformed reply: {exc}"
    if stop is None and not response.complete:
        stop = "reply shorter than its framing announced"
    return response, stop


class Client:
    """The requests of one probe to one address and port, on a kept connection when the
    device allows it (see the module docstring); close it (or use ``async with``)."""

    def __init__(self, net: Net, address: str, port: int, *, tls: bool = False,
                 why: str = "probe", keep_alive: bool = True) -> None:
        self.net = net
        self.address = address
        self.port = port
        self.tls = tls
        self.why = why
        self.keep_alive = keep_alive
        self._kept: Connection | None = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            await kept.close()

    async def request(self, method: str, target: str, *, body: bytes = b"",
                      content_type: str | None = None,
                      headers: Sequence[tuple[str, str]] = (), cap: int | None = None,
                      deadline: float | None = None) -> Exchange:
        """Send one request and read its response within `cap` bytes and `deadline` seconds."""
        cap = min(cap or DEFAULT_CAP, self.net.max_bytes)
        deadline = deadline if deadline is not None else self.net.read_timeout
        host = httpwire.host_header(self.address, self.port, self.tls)
        extra = list(headers)
        if content_type:
            extra.append(("Content-Type", content_type))
        data = httpwire.build_request(method, target, host, headers=extra, body=body,
                                      keep_alive=self.keep_alive)
        first = await self._exchange(data, method, target, cap, deadline, authenticated=False)
        creds = self.net.credentials
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
                                      headers=[*extra, ("Authorization", value)], body=body,
                                      keep_alive=self.keep_alive)
        second = await self._exchange(data, method, target, cap, deadline, authenticated=True)
        second.challenged = first
        return second

    async def _exchange(self, data: bytes, method: str, target: str, cap: int,
                        deadline: float, *, authenticated: bool) -> Exchange:
        """One request on the kept connection, else (or if it was dropped) a new one."""
        kept, self._kept = self._kept, None
        if kept is not None:
            started = time.monotonic()
            try:
                reply = await _ask(kept, data, method=method, cap=cap, deadline=deadline,
                                   first_byte=KEPT_WAIT * self.net.read_timeout)
            except NetError:
                reply = (b"", None, None)
            if reply[0]:
                return await self._finish(kept, reply, method, target, authenticated)
            # Dropped, or left unanswered: one connection per request from now on.
            await kept.close()
            self.keep_alive = False
            deadline = max(0.05, deadline - (time.monotonic() - started))
        conn = await connect(self.net, self.address, self.port, tls=self.tls, why=self.why)
        try:
            reply = await _ask(conn, data, method=method, cap=cap, deadline=deadline)
        except BaseException:
            await conn.close()
            raise
        return await self._finish(conn, reply, method, target, authenticated)

    async def _finish(self, conn: Connection, reply: Reply, method: str, target: str,
                      authenticated: bool) -> Exchange:
        """The exchange; the connection is kept if the reply leaves it open, else closed."""
        raw, stop, whole = reply
        response, error = _interpret(raw, stop, method, whole[0] if whole else None)
        cert = conn.peer_certificate() if self.tls else None
        if (self.keep_alive and whole is not None and whole[1] == len(raw)
                and httpwire.keeps_connection(whole[0]) and not conn.at_eof()):
            self._kept = conn
        else:
            await conn.close()
        return Exchange(self.address, self.port, self.tls, method, target, raw, response,
                        error, cert, authenticated)


async def _ask(conn: Connection, data: bytes, *, method: str, cap: int, deadline: float,
               first_byte: float | None = None) -> Reply:
    """Send one request and read its response (see :func:`_read`)."""
    conn.received = 0  # the byte cap is per response, as on a connection of its own
    await conn.send(data)
    return await _read(conn, method=method, cap=cap, deadline=deadline, first_byte=first_byte)


async def request(net: Net, address: str, port: int, method: str, target: str, *,
                  tls: bool = False, body: bytes = b"", content_type: str | None = None,
                  headers: Sequence[tuple[str, str]] = (), cap: int | None = None,
                  deadline: float | None = None, why: str = "probe") -> Exchange:
    """One request on a connection of its own (``Connection: close``)."""
    async with Client(net, address, port, tls=tls, why=why, keep_alive=False) as client:
        return await client.request(method, target, body=body, content_type=content_type,
                                    headers=headers, cap=cap, deadline=deadline)
