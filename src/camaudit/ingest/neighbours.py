"""Neighbour tables: which MAC answered for which address, from the exports operators keep.

One parser reads every supported layout line by line (a file may mix them,
e.g. a switch session log with ``show ip arp`` and ``show mac address-table``):

========================  ==========================================================
layout                    example line
========================  ==========================================================
Linux ``ip neigh``        ``192.0.2.10 dev eth0 lladdr 00:11:22:33:44:55 REACHABLE``
Linux ``/proc/net/arp``   ``192.0.2.10  0x1  0x2  00:11:22:33:44:55  *  eth0``
net-tools/BSD ``arp -a``  ``cam1 (192.0.2.10) at 0:11:22:33:44:55 [ether] on eth0``
Windows ``arp -a``        ``  192.0.2.10          00-11-22-33-44-55     dynamic``
Cisco ``show ip arp``     ``Internet  192.0.2.10   12   0011.2233.4455  ARPA   Vlan10``
Cisco MAC table           ``  10    0011.2233.4455    DYNAMIC     Gi1/0/5``
========================  ==========================================================

Address+MAC lines become :class:`Seen` (the MAC then gives a ``mac``
observation with its OUI vendor); MAC-table lines have no address and become
:class:`ByMac` ``mac`` observations carrying ``vlan`` and ``switch_port``,
which join a host once another source binds that MAC to an address.
Incomplete, failed, broadcast and all-zero entries are skipped.

Sources (checked 2026-11-25):
- ip-neighbour(8), iproute2 (https://man7.org/linux/man-pages/man8/ip-neighbour.8.html):
  ``ADDR dev DEV lladdr LLADDR [router] STATE``.
- proc(5) ``/proc/net/arp`` (https://man7.org/linux/man-pages/man5/proc.5.html), read by
  :func:`camaudit.probes.mac.parse_arp_table` (reused here for those lines).
- arp(8), net-tools (https://man7.org/linux/man-pages/man8/arp.8.html), and FreeBSD/macOS
  arp(8) ``-a`` output, which drops leading zeros of MAC octets (``0:11:2:...``).
- Microsoft, "arp" command (https://learn.microsoft.com/windows-server/administration/windows-commands/arp):
  ``Interface:`` blocks of ``Internet Address  Physical Address  Type`` rows.
- Cisco IOS IP Addressing Services Command Reference, ``show ip arp``
  (columns Protocol, Address, Age (min), Hardware Addr, Type, Interface), and Cisco
  Catalyst Command Reference, ``show mac address-table`` (Vlan, Mac Address, Type, Ports).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from camaudit.errors import ParseError
from camaudit.ingest.records import ByMac, Record, Seen, bad_input, norm_address, norm_mac
from camaudit.ingest.textlines import lines
from camaudit.model import Observation
from camaudit.probes import mac as macprobe

_IP = r"(?P<ip>[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+(?:%\S+)?)"
_HEXMAC = (r"(?P<mac>(?:[0-9A-Fa-f]{1,2}[:-]){5}[0-9A-Fa-f]{1,2}"
           r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})")

_IP_NEIGH = re.compile(rf"^{_IP}\s+dev\s+\S+\s+lladdr\s+{_HEXMAC}\b")
_ARP_A = re.compile(rf"^(?P<name>\S+)\s+\({_IP}\)\s+at\s+{_HEXMAC}\b")
_WINDOWS = re.compile(rf"^\s+{_IP}\s+{_HEXMAC}\s+(?:dynamic|static)\s*$", re.I)
_CISCO_ARP = re.compile(rf"^Internet\s+{_IP}\s+(?:-|\d+)\s+{_HEXMAC}\s+\S+", re.I)
_CISCO_MAC = re.compile(rf"^\s*(?P<vlan>\d{{1,4}}|All)\s+{_HEXMAC}\s+(?P<type>[A-Za-z_-]+)"
                        r"(?:\s+(?:\S+\s+)*?(?P<port>[A-Za-z][\w./:-]*\d))?\s*$")
_PROC_HEADER = "IP address"
#: /proc/net/arp lines handed to the probe's parser at once.
_PROC_BATCH = 1024


def _pad_mac(text: str) -> str:
    """``0:11:2:33:44:5`` (BSD, macOS) -> ``00:11:02:33:44:05``; other spellings unchanged."""
    if "." in text:
        return text
    parts = re.split(r"[:-]", text)
    return ":".join(p.zfill(2) for p in parts) if len(parts) == 6 else text


def _seen(ip: str, mac: str, hostname: str | None = None) -> Seen | None:
    address, norm = norm_address(ip), norm_mac(_pad_mac(mac))
    if address is None or norm is None:
        return None
    return Seen(address=address, mac=norm, hostname=hostname)


def _proc_records(batch: list[str]) -> Iterator[Record]:
    try:
        table = macprobe.parse_arp_table("\n".join([_PROC_HEADER, *batch]))
    except ParseError:  # pragma: no cover - the header is ours
        return
    for ip, mac in table.items():
        seen = _seen(ip, mac)
        if seen is not None:
            yield seen


def parse_line(text: str) -> Record | None:
    """One line of any supported layout -> a record, or None when it holds no entry."""
    if m := _IP_NEIGH.match(text):
        return _seen(m["ip"], m["mac"])
    if m := _ARP_A.match(text):
        name = m["name"] if m["name"] != "?" else None
        return _seen(m["ip"], m["mac"], name)
    if m := _CISCO_ARP.match(text):
        return _seen(m["ip"], m["mac"])
    if m := _WINDOWS.match(text):
        return _seen(m["ip"], m["mac"])
    if m := _CISCO_MAC.match(text):
        mac = norm_mac(m["mac"])
        if mac is None or int(mac[:2], 16) & 1:  # multicast MACs are not hosts
            return None
        fields = macprobe.fields_for(mac)
        if m["vlan"].isdigit():
            fields["vlan"] = m["vlan"]
        if m["port"]:
            fields["switch_port"] = m["port"][:64]
        return ByMac(mac, Observation(address="", port=None, probe="mac", fields=fields,
                                      raw=text.encode()[:512], source="passive"))
    return None


def parse_neighbours(stream: BinaryIO, name: str) -> Iterator[Record]:
    """Records from a neighbour-table export; IngestError if nothing in it is a table entry."""
    found = 0
    proc: list[str] = []
    in_proc = False
    last = 0
    for offset, text in lines(stream, name):
        last = offset
        if text.startswith(_PROC_HEADER) and "HW type" in text:
            in_proc = True
            continue
        if in_proc and re.match(r"^\S+\s+0x[0-9a-fA-F]+\s+0x[0-9a-fA-F]+\s", text):
            proc.append(text)
            if len(proc) >= _PROC_BATCH:
                for record in _proc_records(proc):
                    found += 1
                    yield record
                proc.clear()
            continue
        entry = parse_line(text)
        if entry is not None:
            found += 1
            yield entry
    for record in _proc_records(proc):
        found += 1
        yield record
    if not found:
        raise bad_input(name, last, "no ARP, neighbour or MAC-table entry found")
