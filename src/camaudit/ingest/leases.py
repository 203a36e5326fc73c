"""DHCP lease files: which MAC holds which address, and what the client called itself.

Two formats:

- **ISC dhcpd** ``dhcpd.leases``: ``lease ADDRESS { ... }`` blocks with
  ``hardware ethernet MAC;``, ``binding state active|free|...;``,
  ``client-hostname "NAME";`` and, where the server's configuration records it,
  ``set vendor-class-identifier = "TEXT";``. The file is a log: "if more than
  one declaration appears for a given lease, the last one in the file is the
  current one", so leases are kept per address and only the last one counts; a
  lease whose binding state is not ``active`` binds nothing. ``host`` and
  ``failover`` declarations are skipped.
- **dnsmasq** lease file: one lease per line,
  ``EXPIRY MAC ADDRESS HOSTNAME|* CLIENT-ID|*``; IPv6 leases follow a
  ``duid`` line and carry an IAID instead of a MAC (address and host name only).

Each lease gives a :class:`Seen` (address, MAC, host name) and, when the
client sent a host name or vendor class, a ``dhcp`` observation
(``hostname``, ``vendor_class``) as the lease file recorded it.

Sources (checked 2026-11-25):
- dhcpd.leases(5), ISC DHCP 4.x (https://manpages.ubuntu.com/manpages/trusty/man5/dhcpd.leases.5.html;
  ISC DHCP 4.4 manual pages, https://kb.isc.org/docs/isc-dhcp-44-manual-pages-dhcpdleases).
- dnsmasq(8) ``--dhcp-leasefile`` and ``--dhcp-script`` (https://thekelleys.org.uk/dnsmasq/docs/dnsmasq-man.html);
  the line layout is the one dnsmasq's ``lease_update_file()`` (src/lease.c) writes and
  its contrib/wrt/lease_update.sh documents: ``length|expires MAC addr hostname|* CLID|*``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from camaudit.ingest.records import (
    Record,
    Seen,
    bad_input,
    norm_address,
    norm_hostname,
    norm_mac,
)
from camaudit.ingest.textlines import lines
from camaudit.model import FieldValue, Observation

#: Distinct lease addresses kept from one ISC file (the last declaration of each wins).
MAX_LEASES = 1_000_000
#: Longest value kept from a quoted string.
MAX_VALUE = 256

_LEASE_START = re.compile(r"^\s*lease\s+(?P<ip>[0-9A-Fa-f.:]+)\s*\{\s*$")
_BLOCK_START = re.compile(r"^\s*(?:host|failover|group|subgroup|ia-na|ia-ta|ia-pd)\b.*\{\s*$")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_DNSMASQ = re.compile(r"^(?P<expiry>\d+)\s+(?P<mac>\S+)\s+(?P<ip>\S+)\s+(?P<name>\S+)"
                      r"(?:\s+(?P<clid>\S+))?\s*$")


@dataclass
class _Lease:
    address: str
    offset: int
    mac: str | None = None
    state: str | None = None
    hostname: str | None = None
    vendor_class: str | None = None
    raw: str = ""

    def records(self) -> Iterator[Record]:
        if self.state not in (None, "active"):
            return
        yield Seen(address=self.address, mac=self.mac, hostname=self.hostname)
        fields: dict[str, FieldValue] = {}
        if self.hostname:
            fields["hostname"] = self.hostname
        if self.vendor_class:
            fields["vendor_class"] = self.vendor_class
        if fields:
            yield Observation(address=self.address, port=None, probe="dhcp", fields=fields,
                              raw=self.raw.encode()[:4096], source="passive")


def _unquote(text: str) -> str | None:
    m = _QUOTED.search(text)
    if m is None:
        return None
    value = re.sub(r"\\(.)", r"\1", m.group(1))
    return "".join(ch for ch in value if ch.isprintable())[:MAX_VALUE] or None


def _statement(lease: _Lease, text: str) -> None:
    words = text.strip().rstrip(";").split()
    if not words:
        return
    if words[:2] == ["hardware", "ethernet"] and len(words) >= 3:
        lease.mac = norm_mac(words[2])
    elif words[:2] == ["binding", "state"] and len(words) >= 3:
        lease.state = words[2]
    elif words[0] == "client-hostname":
        lease.hostname = norm_hostname(_unquote(text))
    elif words[0] == "set" and len(words) >= 2 and words[1] in (
            "vendor-class-identifier", "vendor-class", "vendor_class_identifier"):
        lease.vendor_class = _unquote(text)


def parse_isc_leases(stream: BinaryIO, name: str) -> Iterator[Record]:
    """Records of the current (last) lease of each address in an ISC ``dhcpd.leases``."""
    current: dict[str, _Lease] = {}
    lease: _Lease | None = None
    skip_depth = 0
    seen_any = False
    last = 0
    for offset, text in lines(stream, name):
        last = offset
        stripped = text.split("#", 1)[0].strip() if '"' not in text else text.strip()
        if not stripped:
            continue
        if skip_depth:
            skip_depth += stripped.count("{") - stripped.count("}")
            continue
        if lease is None:
            if m := _LEASE_START.match(stripped):
                address = norm_address(m["ip"])
                if address is None:
                    raise bad_input(name, offset, f"lease for a non-address {m['ip'][:40]!r}")
                lease = _Lease(address, offset, raw=text + "\n")
                seen_any = True
            elif _BLOCK_START.match(stripped):
                skip_depth = 1
            elif not re.match(r"^(?:server-duid|authoring-byte-order|failover)\b", stripped):
                raise bad_input(name, offset, "expected a lease declaration")
            continue
        if len(lease.raw) < 4096:
            lease.raw += text + "\n"
        if stripped.startswith("}"):
            if lease.address in current or len(current) < MAX_LEASES:
                current.pop(lease.address, None)
                current[lease.address] = lease
            lease = None
            continue
        _statement(lease, stripped)
    for done in current.values():
        yield from done.records()
    if lease is not None:
        raise bad_input(name, lease.offset, f"lease {lease.address} is not closed "
                        "(file truncated?)")
    if skip_depth:
        raise bad_input(name, last, "declaration is not closed (file truncated?)")
    if not seen_any:
        raise bad_input(name, 0, "no lease declaration found")


def parse_dnsmasq_leases(stream: BinaryIO, name: str) -> Iterator[Record]:
    """Records of each lease line of a dnsmasq lease file."""
    found = 0
    for offset, text in lines(stream, name):
        if not text.strip() or text.startswith("duid "):
            continue
        m = _DNSMASQ.match(text)
        address = norm_address(m["ip"]) if m else None
        if m is None or address is None:
            raise bad_input(name, offset, "not a dnsmasq lease line "
                            "(EXPIRY MAC ADDRESS HOSTNAME CLIENT-ID)")
        found += 1
        hostname = norm_hostname(m["name"]) if m["name"] != "*" else None
        mac = norm_mac(m["mac"])  # None for IPv6 leases, whose column is an IAID
        yield Seen(address=address, mac=mac, hostname=hostname)
        if hostname:
            yield Observation(address=address, port=None, probe="dhcp",
                              fields={"hostname": hostname}, raw=text.encode()[:1024],
                              source="passive")
    if not found:
        raise bad_input(name, 0, "no dnsmasq lease line found")
