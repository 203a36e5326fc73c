"""What every passive-source parser yields, and how evidence of one host is gathered.

Parsers are sans-IO generators: a byte stream in, records out. Three kinds:

- :class:`camaudit.model.Observation` — something a host said (or, with
  ``source="claim"``, something a person wrote about it), keyed by address;
- :class:`Seen` — a source lists an address, a MAC, a host name or open ports
  (ARP and neighbour tables, DHCP leases, nmap host lines, TCP handshakes);
- :class:`ByMac` — an observation of a host known only by its MAC (a DHCP
  request before the host has an address, a switch's MAC table).

:class:`Gatherer` fuses records from all files: MAC-keyed evidence joins the
address the MAC was last bound to, every MAC becomes one ``mac`` observation
(with its IEEE OUI vendor, :func:`camaudit.probes.mac.fields_for`), and
duplicates (the same reply seen a thousand times in a capture) count once.
Memory grows with the number of hosts, never with the size of a file.

A parser that meets bytes it cannot read raises :func:`bad_input` — an
:class:`camaudit.errors.IngestError` naming the file and offset — after
yielding everything it could read before that point.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from camaudit.errors import IngestError
from camaudit.model import Observation
from camaudit.probes import mac as macprobe

#: Distinct observations kept per host (a capture may repeat a host's replies forever).
MAX_OBSERVATIONS = 256
#: Open ports kept per host.
MAX_PORTS = 1024
#: Longest host name kept.
MAX_HOSTNAME = 253

_MAC_RE = re.compile(r"^[0-9a-f]{2}([:.-]?)[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")
_DOTTED_MAC = re.compile(r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$")


@dataclass(frozen=True)
class Seen:
    """A source names a host: an address and/or a MAC, maybe a host name and open ports."""

    address: str | None
    mac: str | None = None
    hostname: str | None = None
    ports: tuple[int, ...] = ()


@dataclass(frozen=True)
class ByMac:
    """Evidence of a host known by its MAC only; it joins the address bound to that MAC."""

    mac: str
    observation: Observation


Record = Observation | Seen | ByMac


def bad_input(name: str, offset: int, why: str) -> IngestError:
    """The one error a passive-source parser raises: file, offset and reason."""
    return IngestError(f"{name}: {why} (at offset {offset})")


def norm_mac(text: str | None) -> str | None:
    """A MAC in any common spelling (``aa:bb..``, ``aa-bb..``, ``aabb.ccdd.eeff``, bare hex)
    as lower-case colon-separated, or None (also for all-zero and broadcast MACs)."""
    if not text:
        return None
    low = text.strip().lower()
    if _DOTTED_MAC.match(low):
        hexdigits = low.replace(".", "")
    elif _MAC_RE.match(low):
        hexdigits = re.sub(r"[:.-]", "", low)
    else:
        return None
    if hexdigits in ("000000000000", "ffffffffffff"):
        return None
    return ":".join(hexdigits[i:i + 2] for i in range(0, 12, 2))


def norm_address(text: str | None) -> str | None:
    """An IPv4/IPv6 address in canonical form (zone id dropped), or None."""
    if not text:
        return None
    try:
        ip = ipaddress.ip_address(text.strip().split("%", 1)[0])
    except ValueError:
        return None
    if ip.is_unspecified or ip.is_multicast or (ip.version == 4 and str(ip) == "255.255.255.255"):
        return None
    return str(ip)


def norm_hostname(text: str | None) -> str | None:
    """A host name as a source wrote it, printable and bounded, or None."""
    if not text:
        return None
    name = "".join(ch for ch in text.strip().strip('"') if ch.isprintable())[:MAX_HOSTNAME]
    return name.rstrip(".") or None


@dataclass
class Host:
    """Everything gathered about one address."""

    address: str
    observations: list[Observation] = field(default_factory=list)
    ports: set[int] = field(default_factory=set)
    macs: list[str] = field(default_factory=list)
    hostname: str | None = None
    keys: set[tuple[str, int | None, str, str, str]] = field(default_factory=set)
    dropped: int = 0

    def add(self, obs: Observation) -> bool:
        key = (obs.probe, obs.port, obs.source, obs.sha256, str(obs.fields.get("path", "")))
        if key in self.keys:
            return False
        if len(self.observations) >= MAX_OBSERVATIONS:
            self.dropped += 1
            return False
        self.keys.add(key)
        self.observations.append(obs)
        return True


class Gatherer:
    """Fuses records from any number of files into hosts keyed by address."""

    def __init__(self) -> None:
        self.hosts: dict[str, Host] = {}
        self.mac_to_address: dict[str, str] = {}
        self.by_mac: dict[str, list[Observation]] = {}
        self.mac_hostnames: dict[str, str] = {}
        self.records = 0

    def host(self, address: str) -> Host:
        host = self.hosts.get(address)
        if host is None:
            host = self.hosts[address] = Host(address)
        return host

    def add(self, record: Record) -> None:
        self.records += 1
        if isinstance(record, Observation):
            address = norm_address(record.address)
            if address is not None:
                record.address = address
                host = self.host(address)
                host.add(record)
                if isinstance(record.port, int) and 0 < record.port < 65536 \
                        and record.probe not in ("inventory", "mac"):
                    self._port(host, record.port)
        elif isinstance(record, Seen):
            self._seen(record)
        else:
            mac = norm_mac(record.mac)
            if mac is not None:
                pending = self.by_mac.setdefault(mac, [])
                if len(pending) < MAX_OBSERVATIONS and all(
                        o.sha256 != record.observation.sha256 for o in pending):
                    pending.append(record.observation)

    def add_all(self, records: Iterable[Record]) -> None:
        for record in records:
            self.add(record)

    def _port(self, host: Host, port: int) -> None:
        if len(host.ports) < MAX_PORTS:
            host.ports.add(port)

    def _seen(self, seen: Seen) -> None:
        address = norm_address(seen.address)
        mac = norm_mac(seen.mac)
        hostname = norm_hostname(seen.hostname)
        if address is None:
            if mac is not None and hostname:
                self.mac_hostnames.setdefault(mac, hostname)
            if mac is not None:
                self.by_mac.setdefault(mac, [])
            return
        host = self.host(address)
        for port in seen.ports:
            if 0 < port < 65536:
                self._port(host, port)
        if hostname and not host.hostname:
            host.hostname = hostname
        if mac is not None:
            self.mac_to_address[mac] = address
            if mac not in host.macs:
                host.macs.append(mac)

    def finish(self) -> tuple[list[Host], list[str]]:
        """Hosts in address order with MAC evidence attached, and MACs bound to no address."""
        unbound: list[str] = []
        for mac, observations in self.by_mac.items():
            address = self.mac_to_address.get(mac)
            if address is None:
                unbound.append(mac)
                continue
            host = self.host(address)
            for obs in observations:
                obs.address = address
                host.add(obs)
            if not host.hostname and mac in self.mac_hostnames:
                host.hostname = self.mac_hostnames[mac]
        for host in self.hosts.values():
            for mac in host.macs:
                host.add(Observation(address=host.address, port=None, probe="mac",
                                     fields=macprobe.fields_for(mac), source="passive"))
        hosts = sorted(self.hosts.values(), key=lambda h: _address_key(h.address))
        return hosts, sorted(unbound)


def _address_key(address: str) -> tuple[int, int]:
    ip = ipaddress.ip_address(address)
    return (ip.version, int(ip))
