"""Raw TCP services that answer with recorded bytes: telnet/FTP banners, SDK ports.

Service config (``proto: raw``):

    banner / banner_hex: sent as soon as the client connects (may be empty)
    replies: [{prefix_hex | contains, reply | reply_hex, origin}]  first match wins
    default / default_hex: reply to anything else (omit to stay silent)
    close_after_reply: true (default)
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from camaudit.zoo.render import Device, as_bytes, fill
from camaudit.zoo.wire import Limits, read_some


def reply_to(service: Mapping[str, Any], data: bytes) -> bytes | None:
    """The recorded reply for the client's first bytes, or None to stay silent."""
    for item in service.get("replies", ()) or ():
        prefix = item.get("prefix_hex")
        if prefix is not None and data.startswith(bytes.fromhex(str(prefix))):
            return as_bytes(item, "reply")
        contains = item.get("contains")
        if contains is not None and str(contains).encode() in data:
            return as_bytes(item, "reply")
    if "default" in service or "default_hex" in service:
        return as_bytes(service, "default")
    return None


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, device: Device,
                 service: Mapping[str, Any], limits: Limits) -> None:
    """Send the banner, answer the client's bytes, then close (or keep answering)."""
    banner = as_bytes(service, "banner")
    if banner:
        writer.write(fill(banner, device.values()))
        await writer.drain()
    while True:
        data = await read_some(reader, limits)
        if not data:
            return
        reply = reply_to(service, data)
        if reply:
            writer.write(fill(reply, device.values()))
            await writer.drain()
        if service.get("close_after_reply", True):
            return
