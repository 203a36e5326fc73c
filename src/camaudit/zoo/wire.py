"""Shared wire pieces of the zoo's TCP handlers: bounded reads and request-head parsing.

The parsers here are sans-IO (bytes in, :class:`Head` out, :class:`ParseError`
on anything else); the read helpers bound size and time so that one slow or
silent client never holds a handler beyond its idle limit.

:class:`RequestServer` serves the request/reply protocols (HTTP, RTSP: a head, then
a Content-Length body) from callbacks, without a task, stream reader or timeout per
connection: a scanner on the same machine opens thousands of connections a second,
and the zoo's CPU per connection decides how much of the machine is left to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from camaudit.errors import ParseError

#: Largest request head (request line + headers) a handler accepts.
MAX_HEAD = 16 * 1024
#: Largest request body a handler reads.
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """Time bounds of one connection (seconds)."""

    idle: float = 10.0       # waiting for the client's next bytes
    lifetime: float = 60.0   # whole connection, then it is closed whatever happens


@dataclass(frozen=True)
class Head:
    """A parsed HTTP or RTSP request head."""

    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return None


def parse_head(data: bytes) -> Head:
    """Parse ``METHOD target VERSION`` plus header lines (CRLF or LF)."""
    if len(data) > MAX_HEAD:
        raise ParseError("request head too long", MAX_HEAD)
    text = data.decode("latin-1")
    lines = text.replace("\r\n", "\n").split("\n")
    parts = lines[0].split(" ") if lines else []
    if len(parts) != 3 or not parts[0].isalpha() or not parts[0].isupper():
        raise ParseError("malformed request line", 0)
    method, target, version = parts
    if not (version.startswith("HTTP/") or version.startswith("RTSP/")):
        raise ParseError("unknown protocol version in request line", len(method) + len(target) + 2)
    headers: list[tuple[str, str]] = []
    offset = len(lines[0]) + 1
    for line in lines[1:]:
        if not line:
            break
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ParseError("malformed header line", offset)
        headers.append((name, value.strip()))
        offset += len(line) + 1
    return Head(method, target, version, tuple(headers))


async def read_head(reader: asyncio.StreamReader, limits: Limits) -> bytes | None:
    """Read through the blank line ending a request head; None on EOF, idle or oversize.

    ``readuntil`` keeps any body bytes in the reader's buffer for :func:`read_body`.
    """
    try:
        async with asyncio.timeout(limits.idle):
            head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        return None
    return head if len(head) <= MAX_HEAD else None


def body_length(head: Head) -> int:
    """Bytes of body to read after `head`: its Content-Length, capped at MAX_BODY (0 when
    it has none or a bad one)."""
    raw = head.header("Content-Length")
    if not raw or not raw.strip().isdigit():
        return 0
    return min(int(raw.strip()), MAX_BODY)


async def read_body(reader: asyncio.StreamReader, head: Head, limits: Limits) -> bytes:
    """Read a Content-Length body (capped at MAX_BODY; a bad length reads nothing)."""
    want = body_length(head)
    if not want:
        return b""
    try:
        async with asyncio.timeout(limits.idle):
            return await reader.readexactly(want)
    except (asyncio.IncompleteReadError, TimeoutError):
        return b""


async def read_some(reader: asyncio.StreamReader, limits: Limits, n: int = 4096) -> bytes:
    """One read of at most `n` bytes; b'' on EOF or when the client stays silent."""
    try:
        async with asyncio.timeout(limits.idle):
            return await reader.read(n)
    except TimeoutError:
        return b""


#: A request/reply service: the reply to one request (head and body) and whether the
#: connection stays open after it; an empty reply closes the connection unanswered.
Answer = Callable[[Head, bytes], tuple[bytes, bool]]


class RequestServer(asyncio.Protocol):
    """One connection of a request/reply service (HTTP, RTSP), answered from callbacks.

    The same bounds as the stream handlers: a head longer than MAX_HEAD or a client
    silent for ``limits.idle`` ends the connection (a head whose body is still missing
    then is answered without it, as :func:`read_body` gives nothing), and so does
    ``limits.lifetime``. A head that does not parse is answered `bad_request`. An
    exception in `answer` is counted by `on_error` and ends this connection only.
    """

    def __init__(self, answer: Answer, bad_request: bytes, limits: Limits,
                 on_error: Callable[[], None]) -> None:
        self.answer = answer
        self.bad_request = bad_request
        self.limits = limits
        self.on_error = on_error
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.idle: asyncio.TimerHandle | None = None
        self.lifetime: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        loop = asyncio.get_running_loop()
        self.idle = loop.call_later(self.limits.idle, self._idle)
        self.lifetime = loop.call_later(self.limits.lifetime, self.close)

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self.idle, self.lifetime):
            if timer is not None:
                timer.cancel()
        self.transport = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def data_received(self, data: bytes) -> None:
        if self.idle is not None:
            self.idle.cancel()
            self.idle = asyncio.get_running_loop().call_later(self.limits.idle, self._idle)
        self.buffer += data
        while self.transport is not None and self._serve_one(at_idle=False):
            pass

    def _idle(self) -> None:
        self._serve_one(at_idle=True)
        self.close()

    def _serve_one(self, *, at_idle: bool) -> bool:
        """Answer the first buffered request if it is whole; whether to look for another."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or end + 4 > MAX_HEAD:
            if end >= 0 or len(self.buffer) > MAX_HEAD:
                self.close()  # a head over MAX_HEAD is refused, as read_head does
            return False
        try:
            head = parse_head(bytes(self.buffer[:end + 4]))
        except ParseError:
            self._send(self.bad_request, keep=False)
            return False
        start = end + 4
        want = body_length(head)
        if len(self.buffer) - start >= want:
            body = bytes(self.buffer[start:start + want])
        elif at_idle:
            body = b""  # the client went silent mid-body: answered without it
        else:
            return False  # the body is still coming
        del self.buffer[:start + want]
        try:
            reply, keep = self.answer(head, body)
        except Exception:  # one broken request must never stop the zoo
            self.on_error()
            self.close()
            return False
        return self._send(reply, keep)

    def _send(self, reply: bytes, keep: bool) -> bool:
        if self.transport is not None and reply:
            self.transport.write(reply)
        if not reply or not keep:
            self.close()
            return False
        return True
