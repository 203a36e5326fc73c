"""Packet captures (pcap, pcapng): what devices said in the clear, in bounded memory.

    frames (pcapfile) --dpkt--> Ethernet/SLL/raw IP -> IPv4/IPv6 -> TCP | UDP | ARP
        TCP  -> tcpflow (reassembly) -> wire.tcp_records (HTTP, TLS, RTSP, SDK ...)
        UDP  -> wire.udp_records (WS-Discovery, SSDP), DHCP and mDNS here
        ARP  -> Seen(address, MAC)

dpkt decodes the link, network and transport layers and DHCP/DNS messages; a
frame dpkt cannot decode is counted and skipped (one bad packet does not make
a bad file). The container itself is read by :mod:`camaudit.ingest.pcapfile`,
which raises :class:`camaudit.errors.IngestError` with the offset of a
truncated or corrupt record after everything before it has been used. IP
fragments are skipped (discovery replies fit one datagram).

DHCP (``dhcp``, keyed by the client's MAC until a DHCPACK or a bound
``ciaddr`` ties it to an address): ``hostname`` (option 12), ``vendor_class``
(option 60), ``param_list`` (option 55, the comma-separated option codes that
DHCP fingerprinting uses), ``message_type`` (option 53). mDNS (``mdns``, from
responses the device sent): ``hostname`` (its A/AAAA owner name), ``services``
(service types it announced, e.g. ``_axis-video._tcp.local``), ``instances``,
``txt`` (``key=value`` strings).

Sources (checked 2026-11-25): RFC 2131 (DHCP: op, ciaddr, yiaddr, chaddr) and
RFC 2132 §3.14 (option 12), §9.6 (53), §9.8 (55), §9.13 (60); RFC 6762 (mDNS, UDP 5353,
responses have QR=1) and RFC 6763 (DNS-SD PTR/SRV/TXT); RFC 826 (ARP); link types per
https://www.tcpdump.org/linktypes.html (1 Ethernet, 113 Linux SLL, 276 Linux SLL2,
0/108 BSD loopback, 101/12/14 raw IP, 228 IPv4, 229 IPv6).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

import dpkt

from camaudit.errors import IngestError
from camaudit.ingest import wire
from camaudit.ingest.pcapfile import Frame, ProgressFn, read_frames
from camaudit.ingest.records import ByMac, Record, Seen, norm_mac
from camaudit.ingest.tcpflow import FlowTable
from camaudit.model import FieldValue, Observation

_DHCP_TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK",
               7: "RELEASE", 8: "INFORM"}
MAX_LIST = 32
_DECODE_ERRORS = (dpkt.Error, struct.error, ValueError, IndexError, KeyError, TypeError,
                  AttributeError, UnicodeError, OverflowError)


@dataclass
class PcapStats:
    frames: int = 0
    undecoded: int = 0
    fragments: int = 0
    tcp_flows: int = 0
    flows_evicted: int = 0


def _ip_text(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def _network(frame: Frame) -> Any:
    """The IP (or ARP) packet inside a frame, or None for other link contents."""
    lt, data = frame.linktype, frame.data
    if lt == 1:
        packet: Any = dpkt.ethernet.Ethernet(data).data
    elif lt == 113:
        packet = dpkt.sll.SLL(data).data
    elif lt == 276:
        packet = dpkt.sll2.SLL2(data).data
    elif lt in (0, 108):
        packet = dpkt.loopback.Loopback(data).data
    elif lt in (101, 12, 14, 228, 229):
        version = data[0] >> 4 if data else 0
        packet = dpkt.ip.IP(data) if version == 4 else (
            dpkt.ip6.IP6(data) if version == 6 else None)
    else:
        return None
    return packet if isinstance(packet, dpkt.ip.IP | dpkt.ip6.IP6 | dpkt.arp.ARP) else None


def _option_text(value: bytes) -> str:
    return "".join(ch for ch in value.decode("utf-8", "replace") if ch.isprintable())[:256]


def dhcp_records(payload: bytes, ts: float) -> list[Record]:
    """A DHCP message -> the client's ``dhcp`` evidence (by MAC) and any address binding."""
    msg = dpkt.dhcp.DHCP(payload)
    if msg.hln != 6:
        return []
    mac = norm_mac(msg.chaddr[:6].hex())
    if mac is None:
        return []
    options = {code: value for code, value in msg.opts if isinstance(value, bytes)}
    kind = options.get(53, b"\0")[:1]
    kind_name = _DHCP_TYPES.get(kind[0], str(kind[0])) if kind else "?"
    out: list[Record] = []
    if msg.op == dpkt.dhcp.DHCP_OP_REPLY:
        if kind_name == "ACK" and msg.yiaddr:
            out.append(Seen(address=_ip_text(struct.pack("!I", msg.yiaddr)), mac=mac))
        return out
    fields: dict[str, FieldValue] = {"message_type": kind_name}
    if 12 in options:
        fields["hostname"] = _option_text(options[12])
    if 60 in options:
        fields["vendor_class"] = _option_text(options[60])
    if 55 in options:
        fields["param_list"] = ",".join(str(b) for b in options[55][:255])
    if msg.ciaddr:
        out.append(Seen(address=_ip_text(struct.pack("!I", msg.ciaddr)), mac=mac,
                        hostname=fields.get("hostname")))  # type: ignore[arg-type]
    if len(fields) > 1:
        out.append(ByMac(mac, Observation(address="", port=None, probe="dhcp", fields=fields,
                                          raw=payload[:1500], time=_when(ts),
                                          source="passive")))
    return out


def _name(value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return "".join(ch for ch in text if ch.isprintable())[:256]


def mdns_records(src: str, payload: bytes, ts: float) -> list[Observation]:
    """An mDNS response -> the sender's ``mdns`` observation."""
    msg = dpkt.dns.DNS(payload)
    if msg.qr != dpkt.dns.DNS_R:
        return []
    hostname = None
    services: list[str] = []
    instances: list[str] = []
    txt: list[str] = []
    for rr in [*msg.an, *msg.ar][:256]:
        if rr.type in (dpkt.dns.DNS_A, dpkt.dns.DNS_AAAA) and hostname is None:
            hostname = _name(rr.name)
        elif rr.type == dpkt.dns.DNS_PTR and _name(rr.name).startswith("_"):
            kind = _name(rr.name)
            if kind != "_services._dns-sd._udp.local" and kind not in services:
                services.append(kind)
            target = _name(getattr(rr, "ptrname", ""))
            if target and not target.startswith("_") and target not in instances:
                instances.append(target)
        elif rr.type == dpkt.dns.DNS_TXT:
            txt += [_name(t) for t in getattr(rr, "text", [])[:MAX_LIST] if t]
    fields: dict[str, FieldValue] = {}
    if hostname:
        fields["hostname"] = hostname
    for key, values in (("services", services), ("instances", instances), ("txt", txt)):
        if values:
            fields[key] = values[:MAX_LIST]
    if not fields:
        return []
    return [Observation(address=src, port=5353, probe="mdns", fields=fields,
                        raw=payload[:9000], time=_when(ts), source="passive")]


def _when(ts: float) -> datetime:
    try:
        return datetime.fromtimestamp(ts, UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.now(UTC)


def _udp(src: str, dst: str, udp: Any, ts: float) -> list[Record]:
    sport, dport, payload = udp.sport, udp.dport, bytes(udp.data)
    if not payload:
        return []
    if {sport, dport} == {67, 68}:
        return dhcp_records(payload, ts)
    if sport == 5353:
        return list(mdns_records(src, payload, ts))
    return list(wire.udp_records(src, sport, dport, payload, ts))


def packet_records(frame: Frame, table: FlowTable, stats: PcapStats) -> list[Record]:
    """Records from one frame (finished TCP connections included); [] if undecodable."""
    try:
        packet = _network(frame)
        if packet is None:
            return []
        if isinstance(packet, dpkt.arp.ARP):
            if packet.op in (1, 2) and packet.hln == 6 and packet.pln == 4:
                return [Seen(address=_ip_text(packet.spa), mac=packet.sha.hex())]
            return []
        if isinstance(packet, dpkt.ip.IP) and (packet.mf or packet.offset):  # MF or offset
            stats.fragments += 1
            return []
        src, dst = _ip_text(packet.src), _ip_text(packet.dst)
        segment = packet.data
        if isinstance(segment, dpkt.tcp.TCP):
            finished = table.segment(frame.ts, src, segment.sport, dst, segment.dport,
                                     segment.seq, segment.flags, bytes(segment.data))
            out: list[Record] = []
            for flow in finished:
                stats.tcp_flows += 1
                out += wire.tcp_records(flow)
            return out
        if isinstance(segment, dpkt.udp.UDP):
            return _udp(src, dst, segment, frame.ts)
        return []
    except _DECODE_ERRORS:
        stats.undecoded += 1
        return []


def parse_pcap(stream: BinaryIO, name: str, progress: ProgressFn | None = None,
               stats: PcapStats | None = None) -> Iterator[Record]:
    """Records from a pcap or pcapng stream; connections still open are read at the end,
    also when the file turns out truncated (the error is raised after them)."""
    stats = stats if stats is not None else PcapStats()
    table = FlowTable()
    error: IngestError | None = None
    try:
        for frame in read_frames(stream, name, progress):
            stats.frames += 1
            yield from packet_records(frame, table, stats)
    except IngestError as exc:
        error = exc
    stats.flows_evicted = table.evicted
    for flow in table.drain():
        stats.tcp_flows += 1
        yield from wire.tcp_records(flow)
    if error is not None:
        raise error
