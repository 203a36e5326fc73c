"""UDP discovery answers: WS-Discovery (3702), SSDP (1900), Ubiquiti (10001), Dahua DHIP (37810).

The zoo answers only unicast requests sent to a device's own address (it joins
no multicast group, so nothing reaches the real LAN). Service config:

    proto: wsd   reply: ProbeMatches envelope template; {{relates_to}} is the
                 probe's MessageID, {{message_id}} a fresh urn:uuid
    proto: ssdp  reply: HTTP-over-UDP response template; {{st}} echoes the ST
    proto: ubnt  tlvs: list of {type, text|hex|mac|mac_ip}; answers the v1 request
    proto: dhip  device_info: mapping (values are templates); answers DHDiscover.search
    origin: key
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import struct
import uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

from camaudit.probes import dhip
from camaudit.zoo.render import Device, fill

_MESSAGE_ID = re.compile(rb"<(?:[\w-]+:)?MessageID[^>]*>\s*([^<\s]{1,200})\s*<")
_ST = re.compile(rb"(?im)^ST:[ \t]*([^\r\n]{1,200})")
MAX_DATAGRAM = 8192


def wsd_reply(service: Mapping[str, Any], device: Device, data: bytes) -> bytes | None:
    """A ProbeMatches for a WS-Discovery Probe (sans-IO); None for anything else."""
    template = str(service.get("reply", "")).encode()
    head = data[:MAX_DATAGRAM]
    if b"Probe" not in head or b"ProbeMatch" in head:
        return None
    match = _MESSAGE_ID.search(head)
    extra = {b"relates_to": match.group(1) if match else b"",
             b"message_id": f"urn:uuid:{uuid.uuid4()}".encode()}
    return fill(template, device.values(), extra)


def ssdp_reply(service: Mapping[str, Any], device: Device, data: bytes) -> bytes | None:
    """An SSDP search response for an M-SEARCH (sans-IO); None for anything else."""
    template = str(service.get("reply", "")).encode()
    head = data[:MAX_DATAGRAM]
    if not head.startswith(b"M-SEARCH"):
        return None
    match = _ST.search(head)
    extra = {b"st": match.group(1).strip() if match else b"ssdp:all"}
    return fill(template, device.values(), extra)


def _tlv_value(item: Mapping[str, Any], device: Device) -> bytes:
    mac = bytes.fromhex((device.mac or "00:00:00:00:00:00").replace(":", ""))
    if item.get("mac_ip"):
        return mac + ipaddress.IPv4Address(device.address).packed
    if item.get("mac"):
        return mac
    if "hex" in item:
        return bytes.fromhex(str(item["hex"]))
    return fill(str(item.get("text", "")).encode(), device.values())


def ubnt_reply(service: Mapping[str, Any], device: Device, data: bytes) -> bytes | None:
    """A Ubiquiti discovery v1 reply (TLVs, big-endian lengths) to the 4-byte request."""
    if data[:4] != b"\x01\x00\x00\x00":
        return None
    body = b"".join(struct.pack(">BH", int(item["type"]), len(value)) + value
                    for item in service.get("tlvs", ())
                    for value in [_tlv_value(item, device)])
    return struct.pack(">BBH", 1, 0, len(body)) + body


def dhip_reply(service: Mapping[str, Any], device: Device, data: bytes) -> bytes | None:
    """A DHIP ``client.notifyDevInfo`` (32-byte header, JSON) to a DHDiscover.search."""
    if data[4:8] != dhip.MAGIC or b"DHDiscover.search" not in data[:MAX_DATAGRAM]:
        return None
    values = device.values()
    info = {key: fill(str(value).encode(), values).decode() if isinstance(value, str) else value
            for key, value in (service.get("device_info") or {}).items()}
    body = json.dumps({"mac": values[b"mac_lower"].decode(), "method": "client.notifyDevInfo",
                       "params": {"deviceInfo": info}}, separators=(",", ":")).encode()
    return dhip.frame(body)


_BUILDERS = {"wsd": wsd_reply, "ssdp": ssdp_reply, "ubnt": ubnt_reply, "dhip": dhip_reply}


class Responder(asyncio.DatagramProtocol):
    """One device's UDP port: answer each request datagram with at most one reply."""

    def __init__(self, device: Device, service: Mapping[str, Any],
                 count: Callable[[], None]) -> None:
        self.device = device
        self.service = service
        self.build = _BUILDERS[str(service.get("proto", "ssdp"))]
        self.count = count
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # uvloop: own class

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.count()
        reply = self.build(self.service, self.device, data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP errors: nothing to do
        return
