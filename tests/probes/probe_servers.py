"""Small real servers on loopback addresses for probe transport tests.

Each server runs in the test's own event loop on an address of 127.77.5.0/24
(a corner of 127/8 the zoo does not use), replays real device bytes or plays
a hostile peer, and is torn down — handler tasks cancelled — on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as ssl_module
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from camaudit.netio import Budget, Net
from camaudit.scope import Scope

HOST = "127.77.5.1"
SCOPE = "127.77.5.0/24"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def make_net(read_timeout: float = 0.5, **kwargs: object) -> Net:
    """A Net whose scope is the test corner of loopback, with short timeouts."""
    return Net(scope=Scope([SCOPE]), budget=Budget(max_sockets=32), connect_timeout=0.5,
               read_timeout=read_timeout, **kwargs)  # type: ignore[arg-type]


@dataclass
class Seen:
    """What a server received, per connection."""

    requests: list[bytes] = field(default_factory=list)
    connections: int = 0


@contextlib.asynccontextmanager
async def tcp_server(handler: Handler, host: str = HOST,
                     ssl: ssl_module.SSLContext | None = None) -> AsyncIterator[int]:
    """Serve `handler` on host:ephemeral (over TLS if `ssl`); yield the port; cancel on exit."""
    tasks: set[asyncio.Task[None]] = set()

    async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            tasks.add(task)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away, or the test is over
        finally:
            writer.close()

    server = await asyncio.start_server(wrapped, host, 0, reuse_address=True, ssl=ssl)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def replay(*answers: bytes, seen: Seen | None = None, until: bytes = b"") -> Handler:
    """Answer the n-th request with answers[n]; a request ends at `until` (or any bytes)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if seen is not None:
            seen.connections += 1
        for answer in answers:
            data = await (reader.readuntil(until) if until else reader.read(65536))
            if not data:
                return
            if seen is not None:
                seen.requests.append(data)
            writer.write(answer)
            await writer.drain()
        await reader.read()  # keep the connection open until the client closes it

    return handler


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept, read whatever comes, never answer."""
    while await reader.read(65536):
        pass
    await asyncio.sleep(3600)


def drip(chunk: bytes, interval: float = 0.05, total: int = 10_000_000) -> Handler:
    """Answer every request with an endless slow trickle of `chunk`."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        sent = 0
        while sent < total:
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
            await asyncio.sleep(interval)

    return handler


def flood(block: bytes = b"A" * 65536) -> Handler:
    """Answer with as many bytes as the client will take."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(reader.read(65536), 0.2)
        for _ in range(1000):
            writer.write(block)
            await writer.drain()

    return handler


def http_handler(route: Callable[[bytes], bytes], seen: Seen | None = None,
                 keep_alive: bool = False) -> Handler:
    """Read head + Content-Length body, answer route(request): one request per connection,
    or with `keep_alive` every request on it until the client asks to close or goes."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if seen is not None:
            seen.connections += 1
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length) if length else b""
            if seen is not None:
                seen.requests.append(head + body)
            writer.write(route(head + body))
            await writer.drain()
            if not keep_alive or b"\r\nConnection: close\r\n" in head:
                return

    return handler


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, answer: Callable[[bytes], list[bytes]], seen: Seen) -> None:
        self.answer = answer
        self.seen = seen
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.seen.requests.append(data)
        assert self.transport is not None
        for reply in self.answer(data):
            self.transport.sendto(reply, addr)


@contextlib.asynccontextmanager
async def udp_server(answer: Callable[[bytes], list[bytes]], port: int,
                     host: str = HOST) -> AsyncIterator[Seen]:
    """A UDP responder on host:port (fixed: WSD and SSDP ports are part of the protocol)."""
    seen = Seen()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Udp(answer, seen), local_addr=(host, port), reuse_port=True)
    try:
        yield seen
    finally:
        transport.close()


# --- an ONVIF device service built from the ONVIF device WSDL (devicemgmt.wsdl) ---------

SOAP_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
             b'xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" '
             b'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
             b'xmlns:tt="http://www.onvif.org/ver10/schema" '
             b'xmlns:ter="http://www.onvif.org/ver10/error"><SOAP-ENV:Body>')
SOAP_TAIL = b"</SOAP-ENV:Body></SOAP-ENV:Envelope>"

ONVIF_BODIES = {
    b"GetSystemDateAndTime": (
        b"<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        b"<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
        b"<tt:UTCDateTime><tt:Time><tt:Hour>9</tt:Hour><tt:Minute>5</tt:Minute>"
        b"<tt:Second>7</tt:Second></tt:Time><tt:Date><tt:Year>2026</tt:Year>"
        b"<tt:Month>11</tt:Month><tt:Day>25</tt:Day></tt:Date></tt:UTCDateTime>"
        b"</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"),
    b"GetDeviceInformation": (
        b"<tds:GetDeviceInformationResponse><tds:Manufacturer>ExampleMaker</tds:Manufacturer>"
        b"<tds:Model>EX-100</tds:Model><tds:FirmwareVersion>1.2.3</tds:FirmwareVersion>"
        b"<tds:SerialNumber>SN0001</tds:SerialNumber><tds:HardwareId>HW-1</tds:HardwareId>"
        b"</tds:GetDeviceInformationResponse>"),
    b"GetScopes": (
        b"<tds:GetScopesResponse><tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef>"
        b"<tt:ScopeItem>onvif://www.onvif.org/type/video_encoder</tt:ScopeItem></tds:Scopes>"
        b"<tds:Scopes><tt:ScopeDef>Configurable</tt:ScopeDef>"
        b"<tt:ScopeItem>onvif://www.onvif.org/name/EX-100</tt:ScopeItem></tds:Scopes>"
        b"</tds:GetScopesResponse>"),
}
NOT_AUTHORIZED = (b"<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender"
                  b"</SOAP-ENV:Value><SOAP-ENV:Subcode><SOAP-ENV:Value>ter:NotAuthorized"
                  b"</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code><SOAP-ENV:Reason>"
                  b'<SOAP-ENV:Text xml:lang="en">Sender not Authorized</SOAP-ENV:Text>'
                  b"</SOAP-ENV:Reason></SOAP-ENV:Fault>")


def http_reply(status: str, body: bytes, ctype: str = "application/soap+xml") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode() + body


def token_ok(request: bytes, user: str, password: str) -> bool:
    """Check a WS-Security digest UsernameToken independently of the code under test."""
    import base64
    import hashlib
    import re

    m = re.search(rb"<wsse:Username>(.*?)</wsse:Username>.*?<wsse:Password[^>]*>(.*?)"
                  rb"</wsse:Password>.*?<wsse:Nonce[^>]*>(.*?)</wsse:Nonce>.*?"
                  rb"<wsu:Created>(.*?)</wsu:Created>", request, re.S)
    if not m or m.group(1).decode() != user:
        return False
    nonce = base64.b64decode(m.group(3))
    expected = base64.b64encode(hashlib.sha1(nonce + m.group(4) + password.encode()).digest())
    return expected == m.group(2)


def onvif_route(auth: tuple[str, str] | None = None) -> Callable[[bytes], bytes]:
    """Device service: date/time always open; the rest needs `auth` when given."""

    def route(request: bytes) -> bytes:
        action = next((a for a in ONVIF_BODIES if b"<" + a + b" " in request), None)
        if action is None:
            return http_reply("400 Bad Request", SOAP_HEAD + b"<x/>" + SOAP_TAIL)
        if auth and action != b"GetSystemDateAndTime" and not token_ok(request, *auth):
            return http_reply("400 Bad Request", SOAP_HEAD + NOT_AUTHORIZED + SOAP_TAIL)
        return http_reply("200 OK", SOAP_HEAD + ONVIF_BODIES[action] + SOAP_TAIL)

    return route


# --- hostile XML -----------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<lolz>&lol9;</lolz>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://192.0.2.1/x.dtd"><r/>"""
