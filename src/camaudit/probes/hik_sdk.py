"""Hikvision's private SDK port (TCP 8000): listen, nudge once, and compare with nmap's signature.

Hikvision devices (and their OEM relabels) serve the proprietary "SDK"
protocol the iVMS/HCNetSDK clients use on TCP 8000. Its framing is not
publicly specified. What is published is nmap's fingerprint of the port:

    match ipcam m|^\\0\\0\\0\\x10\\0\\0\\0\\x1e\\0\\0\\0\\x1e\\0\\0\\0\\0|
        p/Hikvision IPCam control port/

i.e. a 16-byte reply whose first big-endian 32-bit word is its own length
(0x10), followed by the words 0x1e, 0x1e, 0.

Sources (checked 2026-11-25):
- nmap-service-probes, ``match ipcam ... p/Hikvision IPCam control port/``,
  as carried in the service-probe database embedded by the gonmap project
  (a copy of nmap/nmap ``nmap-service-probes``; https://nmap.org/book/vscan.html
  describes the format). The copy lists it with the NULL probe (a banner).
- nmap's ``GenericLines`` probe (``q|\\r\\n\\r\\n|``, same file) is the nudge we
  send when the port stays silent: two empty lines, which change nothing.

Because the protocol itself is undocumented we do not decode more than the
signature: ``recognised`` is True only for the published 16-byte pattern;
anything else is kept as ``reply_hex`` with ``recognised`` False. ``error_code``
is the third 32-bit word when the reply is length-framed like the signature
(0x1e in it); its meaning is not publicly documented, so rules should key on
``recognised``.

Fields (``hik-sdk``): reply_hex (first 64 bytes), recognised (bool), error_code (int).
"""

from __future__ import annotations

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation
from camaudit.netio import Net, NetError, open_tcp
from camaudit.probes.base import Probe

SIGNATURE = b"\x00\x00\x00\x10\x00\x00\x00\x1e\x00\x00\x00\x1e\x00\x00\x00\x00"
NUDGE = b"\r\n\r\n"
#: How long we wait for an unsolicited reply before nudging.
BANNER_WAIT = 1.0
MAX_REPLY = 4096


def parse_reply(data: bytes) -> dict[str, FieldValue]:
    """Reply bytes -> {reply_hex, recognised[, error_code]}; ParseError if empty."""
    if not data:
        raise ParseError("hik-sdk: empty reply", offset=0)
    fields: dict[str, FieldValue] = {
        "reply_hex": data[:64].hex(),
        "recognised": data.startswith(SIGNATURE),
    }
    if len(data) >= 16 and int.from_bytes(data[0:4], "big") == len(data):
        fields["error_code"] = int.from_bytes(data[8:12], "big")
    return fields


def complete(data: bytes) -> bool:
    """True once a reply framed by a leading big-endian length word has fully arrived."""
    if len(data) < 4:
        return False
    declared = int.from_bytes(data[0:4], "big")
    return 4 <= declared <= MAX_REPLY and len(data) >= declared


async def run(net: Net, address: str, port: int) -> list[Observation]:
    """Wait briefly for a banner; if none, send two empty lines; parse what comes back."""
    async with open_tcp(net, address, port, why="hik-sdk probe") as conn:
        data = await conn.read_until_idle(deadline=min(BANNER_WAIT, net.read_timeout),
                                          cap=MAX_REPLY, done=complete)
        if not data:
            try:
                await conn.send(NUDGE)
            except NetError:
                return []
            data = await conn.read_until_idle(cap=MAX_REPLY, done=complete)
    try:
        fields = parse_reply(data)
    except ParseError:
        return []
    return [Observation(address=address, port=port, probe="hik-sdk", fields=fields, raw=data)]


PROBE = Probe(name="hik-sdk", ports=frozenset({8000}), run=run, order=25)
