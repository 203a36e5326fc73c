"""RTSP/1.0 (RFC 2326) as the persona's media server answers OPTIONS, DESCRIBE and the rest.

Service config (``proto: rtsp``):

    responses: {METHOD or "*": {status_line, headers: [...], body, origin}}

Header lines are templated; ``{{cseq}}`` is the request's CSeq, ``{{nonce}}``
a fresh nonce. A persona whose real server omits CSeq (nmap shows Hikvision
DVRs doing so) simply leaves it out of its headers. An item ``{close: true}``
stands for a reply nobody has published: the persona closes the connection
rather than answer with something invented.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from camaudit.errors import ParseError
from camaudit.zoo.render import Device, as_bytes, fill
from camaudit.zoo.wire import Limits, parse_head, read_body, read_head

_DEFAULT = {"status_line": "RTSP/1.0 405 Method Not Allowed", "headers": ["CSeq: {{cseq}}"]}


def respond(service: Mapping[str, Any], device: Device, method: str, cseq: str) -> bytes:
    """The response bytes for one RTSP request (sans-IO)."""
    table = service.get("responses") or {}
    item = table.get(method) or table.get("*") or _DEFAULT
    if item.get("close"):
        return b""
    body = as_bytes(item)
    lines = [str(item.get("status_line", "RTSP/1.0 200 OK")), *map(str, item.get("headers", ()))]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    extra = {b"cseq": cseq.encode("latin-1", "replace")[:32]}
    head = fill("\r\n".join(lines).encode("latin-1", "replace"), device.values(), extra)
    return head + b"\r\n\r\n" + fill(body, device.values(), extra)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, device: Device,
                 service: Mapping[str, Any], limits: Limits) -> None:
    """Answer RTSP requests on one connection until the client closes or idles."""
    while True:
        raw = await read_head(reader, limits)
        if raw is None:
            return
        try:
            head = parse_head(raw)
        except ParseError:
            writer.write(b"RTSP/1.0 400 Bad Request\r\n\r\n")
            await writer.drain()
            return
        await read_body(reader, head, limits)
        reply = respond(service, device, head.method, head.header("CSeq") or "0")
        if not reply:  # the persona's reply to this method is not published
            return
        writer.write(reply)
        await writer.drain()
        if service.get("close_after_reply"):
            return
