"""Shared wire pieces of the zoo's TCP handlers: bounded reads and request-head parsing.

The parsers here are sans-IO (bytes in, :class:`Head` out, :class:`ParseError`
on anything else); the read helpers bound size and time so that one slow or
silent client never holds a handler beyond its idle limit.
"""

from __future__ import annotations

import asyncio
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
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), limits.idle)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        return None
    return head if len(head) <= MAX_HEAD else None


async def read_body(reader: asyncio.StreamReader, head: Head, limits: Limits) -> bytes:
    """Read a Content-Length body (capped at MAX_BODY; a bad length reads nothing)."""
    raw = head.header("Content-Length")
    if not raw or not raw.strip().isdigit():
        return b""
    want = min(int(raw.strip()), MAX_BODY)
    try:
        return await asyncio.wait_for(reader.readexactly(want), limits.idle)
    except (asyncio.IncompleteReadError, TimeoutError):
        return b""


async def read_some(reader: asyncio.StreamReader, limits: Limits, n: int = 4096) -> bytes:
    """One read of at most `n` bytes; b'' on EOF or when the client stays silent."""
    try:
        return await asyncio.wait_for(reader.read(n), limits.idle)
    except TimeoutError:
        return b""
