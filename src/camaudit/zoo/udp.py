"""UDP discovery answers: WS-Discovery ProbeMatches (3702) and SSDP M-SEARCH replies (1900).

The zoo answers only unicast requests sent to a device's own address (it joins
no multicast group, so nothing reaches the real LAN). Service config:

    proto: wsd   reply: ProbeMatches envelope template; {{relates_to}} is the
                 probe's MessageID, {{message_id}} a fresh urn:uuid
    proto: ssdp  reply: HTTP-over-UDP response template; {{st}} echoes the ST
    origin: key
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

from camaudit.zoo.render import Device, fill

_MESSAGE_ID = re.compile(rb"<(?:[\w-]+:)?MessageID[^>]*>\s*([^<\s]{1,200})\s*<")
_ST = re.compile(rb"(?im)^ST:[ \t]*([^\r\n]{1,200})")
MAX_DATAGRAM = 8192


def wsd_reply(template: bytes, device: Device, data: bytes) -> bytes | None:
    """A ProbeMatches for a WS-Discovery Probe (sans-IO); None for anything else."""
    head = data[:MAX_DATAGRAM]
    if b"Probe" not in head or b"ProbeMatch" in head:
        return None
    match = _MESSAGE_ID.search(head)
    extra = {b"relates_to": match.group(1) if match else b"",
             b"message_id": f"urn:uuid:{uuid.uuid4()}".encode()}
    return fill(template, device.values(), extra)


def ssdp_reply(template: bytes, device: Device, data: bytes) -> bytes | None:
    """An SSDP search response for an M-SEARCH (sans-IO); None for anything else."""
    head = data[:MAX_DATAGRAM]
    if not head.startswith(b"M-SEARCH"):
        return None
    match = _ST.search(head)
    extra = {b"st": match.group(1).strip() if match else b"ssdp:all"}
    return fill(template, device.values(), extra)


class Responder(asyncio.DatagramProtocol):
    """One device's UDP port: answer each request datagram with at most one reply."""

    def __init__(self, device: Device, service: Mapping[str, Any],
                 count: Callable[[], None]) -> None:
        self.device = device
        self.template = str(service.get("reply", "")).encode()
        self.build = wsd_reply if service.get("proto") == "wsd" else ssdp_reply
        self.count = count
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # uvloop: own class

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.count()
        reply = self.build(self.template, self.device, data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP errors: nothing to do
        return
