"""Ubiquiti discovery: one unicast v1 request to UDP 10001 of the device; parse its TLV reply.

Ubiquiti's UniFi and airMAX products — UniFi Protect cameras (UVC) among
them — answer a 4-byte request (version 1, command 0, no payload) with their
MAC, product/platform name, firmware string and host name. It is the one
place a UniFi camera names its model and firmware without a login, and the
protocol itself is Ubiquiti's: nothing else answers it this way. camaudit
sends the request to the device's own address only, never broadcast.

Sources (checked 2026-11-25):
- Wireshark ``epan/dissectors/packet-ubdp.c`` (wireshark/wireshark@10b644a2):
  header version(1) command(1) length(2, big endian), then TLVs type(1)
  length(2, big endian) value; versions 1 and 2; TLV types 1 MAC, 2 MAC+IP,
  3 firmware (full), 10 uptime, 11 host name, 12 product, 13 ESSID,
  16 system id, 20 model type, 21 model, 22 firmware, 27 platform version.
- antoine-lombardo/unifi-cam-proxy ``adoption-flow.md`` (484246be): a UVC G3 Flex's
  reply byte by byte — platform and host name "UVC G3 Flex", firmware
  "UVC.S2L.v4.75.62.67.e71c6e5.250411.1421" (MAC and device id redacted there).
- nmap ``ubiquiti-discovery.nse`` (Tom Sellers): the same v1 request
  ``01 00 00 00`` on UDP 10001.

Fields (``ubnt``): recognised, version, mac, ip, firmware_full, firmware,
hostname, product, model, model_type, essid, system_id, platform_version.
"""

from __future__ import annotations

import ipaddress
import struct

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation
from camaudit.netio import Net
from camaudit.probes.base import Probe, unicast_discovery

PORT = 10001
REQUEST = b"\x01\x00\x00\x00"
#: A reply carries a few hundred bytes; more TLVs than this is not a discovery reply.
MAX_TLVS = 64
MAX_TEXT = 256

_TEXT = {3: "firmware_full", 11: "hostname", 12: "product", 13: "essid", 20: "model_type",
         21: "model", 22: "firmware", 27: "platform_version"}
_MAC_TYPES = (1, 5, 19)


def _text(value: bytes) -> str:
    return value[:MAX_TEXT].decode("utf-8", "replace").strip("\x00 \t\r\n")


def _mac(value: bytes) -> str:
    return ":".join(f"{b:02x}" for b in value)


def parse_reply(data: bytes) -> dict[str, FieldValue]:
    """A discovery reply -> fields; ParseError for anything that is not one."""
    if len(data) < 4:
        raise ParseError("ubnt: shorter than the 4-byte header", offset=len(data))
    version, command, size = struct.unpack_from(">BBH", data)
    if version not in (1, 2):
        raise ParseError(f"ubnt: version {version}", offset=0)
    if command == 0 and size == 0:
        raise ParseError("ubnt: a request, not a reply", offset=2)
    body = data[4:4 + size]
    if len(body) < size:
        raise ParseError("ubnt: reply shorter than its length field", offset=len(data))
    fields: dict[str, FieldValue] = {"version": version}
    offset = count = 0
    while offset < len(body):
        if offset + 3 > len(body) or count >= MAX_TLVS:
            raise ParseError("ubnt: truncated or endless TLV list", offset=4 + offset)
        kind, length = struct.unpack_from(">BH", body, offset)
        value = body[offset + 3:offset + 3 + length]
        if len(value) < length:
            raise ParseError("ubnt: TLV runs past the reply", offset=4 + offset)
        offset += 3 + length
        count += 1
        if kind in _TEXT and value:
            fields.setdefault(_TEXT[kind], _text(value))
        elif kind == 2 and length == 10:
            fields.setdefault("mac", _mac(value[:6]))
            fields.setdefault("ip", str(ipaddress.IPv4Address(value[6:10])))
        elif kind in _MAC_TYPES and length == 6:
            fields.setdefault("mac", _mac(value))
        elif kind == 16 and length == 2:
            fields.setdefault("system_id", value.hex())
    fields = {k: v for k, v in fields.items() if v != ""}
    if not {"mac", "product", "model", "firmware_full", "firmware"} & fields.keys():
        raise ParseError("ubnt: no identifying TLV", offset=4)
    fields["recognised"] = "true"
    return fields


async def run(net: Net, address: str, port: int) -> list[Observation]:
    """Send the v1 request to the device; one observation per parseable reply."""
    return await unicast_discovery(net, address, PORT, REQUEST, parse_reply, "ubnt",
                                   why="ubiquiti discovery")


PROBE = Probe(name="ubnt", ports=None, run=run, order=30)
