"""MAC address from the local neighbour table, and its OUI vendor from offline IEEE data.

A host on the same link as the scanner has an entry in the kernel's ARP
table once we have talked to it; its MAC's first three octets (the OUI) name
the company the block was assigned to. That is the NIC's maker, which for a
camera is often the camera maker (Hikvision, Dahua ... hold their own OUIs)
but may be a module vendor — identify weighs it accordingly. Hosts behind a
router (and loopback, where the zoo lives) have no entry: no observation.

We only read a local file; no packet is sent.

Sources (checked 2026-11-25):
- Linux ``/proc/net/arp`` format: header line, then whitespace-separated
  ``IP address, HW type, Flags, HW address, Mask, Device``; flag 0x2
  (ATF_COM) marks a complete entry (include/uapi/linux/if_arp.h, proc(5):
  https://man7.org/linux/man-pages/man5/proc.5.html).
- IEEE MA-L registry (https://standards-oui.ieee.org/oui/oui.txt) as shipped
  offline inside netaddr (``netaddr.EUI(...).oui.registration().org``).
- IEEE 802 §8.2: bit 0x02 of the first octet marks a locally administered
  address, which has no registered vendor.

Fields (``mac``): mac (lower-case, colon-separated), oui_vendor (absent when
unregistered or locally administered).
"""

from __future__ import annotations

import re
from pathlib import Path

from netaddr import EUI, AddrFormatError, NotRegisteredError

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation
from camaudit.netio import Net
from camaudit.probes.base import Probe

ARP_TABLE = Path("/proc/net/arp")
MAX_TABLE = 1024 * 1024
ATF_COM = 0x2
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def parse_arp_table(text: str) -> dict[str, str]:
    """``/proc/net/arp`` text -> {ip: mac} for complete, non-zero entries."""
    table: dict[str, str] = {}
    lines = text.splitlines()
    if lines and not lines[0].startswith("IP address"):
        raise ParseError("arp table: unexpected header line", offset=0)
    for line in lines[1:]:
        parts = line.split()
        if len(parts) < 4 or not _MAC.match(parts[3]):
            continue
        try:
            flags = int(parts[2], 16)
        except ValueError:
            continue
        mac = parts[3].lower()
        if flags & ATF_COM and mac != "00:00:00:00:00:00":
            table[parts[0]] = mac
    return table


def oui_vendor(mac: str) -> str | None:
    """The IEEE-registered organisation of a MAC's OUI, or None."""
    try:
        eui = EUI(mac)
        if eui.words[0] & 0x02:
            return None
        org = eui.oui.registration().org
    except (AddrFormatError, NotRegisteredError, ValueError, IndexError):
        return None
    return str(org).strip() or None


def fields_for(mac: str) -> dict[str, FieldValue]:
    fields: dict[str, FieldValue] = {"mac": mac.lower()}
    vendor = oui_vendor(mac)
    if vendor:
        fields["oui_vendor"] = vendor
    return fields


def read_table(path: Path = ARP_TABLE) -> dict[str, str]:
    """The neighbour table, or an empty one where the file is missing or unreadable."""
    try:
        with path.open("rb") as fh:
            text = fh.read(MAX_TABLE).decode("ascii", "replace")
    except OSError:
        return {}
    try:
        return parse_arp_table(text)
    except ParseError:
        return {}


async def run(net: Net, address: str, port: int) -> list[Observation]:
    """Look the address up in the neighbour table; no traffic."""
    mac = read_table().get(address)
    if mac is None:
        return []
    return [Observation(address=address, port=None, probe="mac", fields=fields_for(mac))]


PROBE = Probe(name="mac", ports=None, run=run, order=90)
