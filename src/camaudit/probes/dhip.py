"""Dahua discovery (DHIP on UDP 37810): one unicast ``DHDiscover.search``; parse the device info.

Dahua-made cameras, recorders and intercoms — under Dahua's name or an OEM's
— answer a ``DHDiscover.search`` request with ``client.notifyDevInfo``: device
class (IPC, NVR, VTO…), model, serial, firmware version and vendor, without a
login. The framing (a 32-byte header with the ``DHIP`` magic) is Dahua's, so
an answer is a maker telltale whatever the box says. camaudit sends the
request to the device's own address only (never the multicast group).

Sources (checked 2026-11-25):
- rroller/dahua ``tests/dahua/test_discovery.py`` (a6b3dc0d): the request is
  JSON behind a 32-byte header — 0x20 (header size, little endian), ``DHIP``,
  body length little endian at offsets 16 and 24; bare JSON gets no reply.
  Measured replies from a VTO2000A door station (DeviceClass "VTO",
  Vendor/Manufacturer "General", Version "3.120.0000.0.R") and answers from a
  DHI-NVR5464 recorder; the JSON body found by its first "{" because header
  length varied across firmware.
- rroller/dahua ``tests/dahua/test_device_class.py`` (21bc5dd4): measured
  ``getDeviceClass`` answers "VTO" (VTO2000A) and "NVR" (DHI-NVR5464-16P-EI).
- A public UDP-reflection write-up of port 37810 ("DVR DHCPDiscover (multiple
  CCTV products)", found in the public code index, repository not named
  there): a full reply from an IPC-HDW5421S — DeviceClass "IPC",
  Vendor "Dahua", Manufacturer "Private", Version "2.400.0.8".

Fields (``dhip``): recognised, device_class, device_type (the model), vendor,
manufacturer, serial, machine_name, version, mac, http_port, port,
video_inputs, remote_video_inputs. Addressing the device volunteers (IPv4/IPv6
settings, gateway) is not kept.
"""

from __future__ import annotations

import json
import struct

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation
from camaudit.netio import Net
from camaudit.probes.base import Probe, unicast_discovery

PORT = 37810
MAGIC = b"DHIP"
HEADER_SIZE = 32
MAX_REPLY = 64 * 1024
MAX_TEXT = 128

_TEXT = (("DeviceClass", "device_class"), ("DeviceType", "device_type"), ("Vendor", "vendor"),
         ("Manufacturer", "manufacturer"), ("SerialNo", "serial"),
         ("MachineName", "machine_name"), ("Version", "version"))
_NUMBERS = (("HttpPort", "http_port"), ("Port", "port"), ("VideoInputChannels", "video_inputs"),
            ("RemoteVideoInputChannels", "remote_video_inputs"))


def frame(body: bytes) -> bytes:
    """A DHIP message: the 32-byte header (size, magic, body length twice), then the body."""
    size = len(body)
    return (struct.pack("<I", HEADER_SIZE) + MAGIC + bytes(8) + struct.pack("<I", size)
            + bytes(4) + struct.pack("<I", size) + bytes(4) + body)


REQUEST = frame(b'{"method":"DHDiscover.search","params":{"mac":"","uni":1}}\n')


def parse_reply(data: bytes) -> dict[str, FieldValue]:
    """A ``client.notifyDevInfo`` reply -> fields; ParseError for anything else."""
    if len(data) > MAX_REPLY:
        raise ParseError(f"dhip: reply over {MAX_REPLY} bytes", offset=MAX_REPLY)
    if data[4:8] != MAGIC:
        raise ParseError("dhip: no DHIP magic at offset 4", offset=4)
    start = data.find(b"{", 8)
    if start < 0:
        raise ParseError("dhip: no JSON body", offset=len(data))
    try:
        doc = json.loads(data[start:].rstrip(b"\x00\r\n"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ParseError(f"dhip: body is not JSON ({type(exc).__name__})", offset=start) from exc
    params = doc.get("params") if isinstance(doc, dict) else None
    info = params.get("deviceInfo") if isinstance(params, dict) else None
    if not isinstance(info, dict):
        raise ParseError("dhip: reply without params.deviceInfo", offset=start)
    fields: dict[str, FieldValue] = {}
    for key, name in _TEXT:
        value = info.get(key)
        if isinstance(value, str) and value.strip():
            fields[name] = value.strip()[:MAX_TEXT]
    for key, name in _NUMBERS:
        value = info.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 32:
            fields[name] = value
    mac = doc.get("mac")
    if isinstance(mac, str) and mac.strip():
        fields["mac"] = mac.strip()[:32]
    if not {"device_class", "device_type", "serial"} & fields.keys():
        raise ParseError("dhip: deviceInfo names neither class, model nor serial", offset=start)
    fields["recognised"] = "true"
    return fields


async def run(net: Net, address: str, port: int) -> list[Observation]:
    """Send one DHDiscover.search to the device; one observation per parseable reply."""
    return await unicast_discovery(net, address, PORT, REQUEST, parse_reply, "dhip",
                                   why="dahua discovery")


PROBE = Probe(name="dhip", ports=None, run=run, order=30)
