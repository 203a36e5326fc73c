"""Capture containers, sans-IO: pcap and pcapng bytes in, link-layer frames with offsets out.

Why not ``dpkt.pcap.Reader``/``dpkt.pcapng.Reader``: they neither report the
byte offset of a record nor bound a record's declared length before reading
it, and a truncated last record ends iteration silently. This reader walks
the container itself — a few fixed headers — with every length checked
before it is used, in 1 MiB reads, and raises
:class:`camaudit.errors.IngestError` with the offset of the first bad or
truncated record after yielding every frame before it. Decoding the frames
(Ethernet, IP, TCP, ...) is dpkt's job (:mod:`camaudit.ingest.pcap`).

Sources (checked 2026-11-25):
- pcap: "PCAP Capture File Format", draft-ietf-opsawg-pcap (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/)
  §4 file header (magic 0xA1B2C3D4 µs / 0xA1B23C4D ns, either byte order; SnapLen;
  LinkType), §5 packet record (seconds, (micro|nano)seconds, captured length, original length).
- pcapng: "PCAP Now Generic (pcapng) Capture File Format", draft-ietf-opsawg-pcapng
  (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/) §4.1 Section Header Block
  (0x0A0D0D0A, byte-order magic 0x1A2B3C4D), §4.2 Interface Description Block (LinkType,
  SnapLen, option ``if_tsresol`` = 9), §4.3 Enhanced Packet Block (type 6), §4.4 Simple
  Packet Block (type 3), Appendix A obsolete Packet Block (type 2); block total length is
  repeated at the end and is a multiple of 4.
- Link-layer type numbers: https://www.tcpdump.org/linktypes.html.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from camaudit.ingest.records import bad_input

#: Largest captured frame accepted (tcpdump's default snap length is 262144).
MAX_FRAME = 1024 * 1024
#: Largest pcapng block accepted.
MAX_BLOCK = MAX_FRAME + 4096
#: Bytes read at a time.
CHUNK = 1024 * 1024
#: Interfaces described in one pcapng section.
MAX_INTERFACES = 4096

PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
               b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

ProgressFn = Callable[[int], None]


@dataclass(frozen=True)
class Frame:
    offset: int  # of the record or block in the file
    linktype: int
    ts: float  # seconds since the epoch
    data: bytes


class _Buffer:
    """Sequential reads over a stream with exact byte positions and bounded look-ahead."""

    def __init__(self, stream: BinaryIO, progress: ProgressFn | None) -> None:
        self.stream = stream
        self.buf = b""
        self.pos = 0  # position in buf
        self.base = 0  # file offset of buf[0]
        self.eof = False
        self.progress = progress

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def take(self, n: int) -> bytes | None:
        """The next `n` bytes, or None if the stream ends first (what is left stays unread)."""
        if len(self.buf) - self.pos < n:
            self._fill(n)
            if len(self.buf) - self.pos < n:
                return None
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def at_end(self) -> bool:
        if self.pos < len(self.buf):
            return False
        self._fill(1)
        return self.pos >= len(self.buf)

    def _fill(self, n: int) -> None:
        if self.eof:
            return
        rest = self.buf[self.pos:]
        self.base += self.pos
        self.pos = 0
        parts = [rest]
        have = len(rest)
        while have < n and not self.eof:
            chunk = self.stream.read(max(CHUNK, n - have))
            if not chunk:
                self.eof = True
                break
            parts.append(chunk)
            have += len(chunk)
        self.buf = b"".join(parts)
        if self.progress is not None:
            self.progress(self.base + len(self.buf))


def read_frames(stream: BinaryIO, name: str,
                progress: ProgressFn | None = None) -> Iterator[Frame]:
    """Every frame of a pcap or pcapng stream, in file order."""
    buf = _Buffer(stream, progress)
    magic = buf.take(4)
    if magic is None:
        raise bad_input(name, 0, "too short for a capture file")
    buf.pos = 0
    if magic in PCAP_MAGICS:
        yield from _pcap(buf, name, *PCAP_MAGICS[magic])
    elif magic == PCAPNG_MAGIC:
        yield from _pcapng(buf, name)
    else:
        raise bad_input(name, 0, "not a pcap or pcapng file (unknown magic number)")


def _pcap(buf: _Buffer, name: str, order: str, unit: float) -> Iterator[Frame]:
    header = buf.take(24)
    if header is None:
        raise bad_input(name, 0, "pcap file header is truncated")
    linktype = struct.unpack_from(order + "I", header, 20)[0] & 0x0FFFFFFF
    record = struct.Struct(order + "IIII")
    while not buf.at_end():
        offset = buf.offset
        head = buf.take(16)
        if head is None:
            raise bad_input(name, offset, "packet record header is truncated")
        seconds, fraction, caplen, _origlen = record.unpack(head)
        if caplen > MAX_FRAME:
            raise bad_input(name, offset, f"packet record claims {caplen} bytes "
                            f"(more than {MAX_FRAME}: corrupt file)")
        data = buf.take(caplen)
        if data is None:
            raise bad_input(name, offset, f"packet record of {caplen} bytes is truncated")
        yield Frame(offset, linktype, seconds + fraction * unit, data)


def _tsresol(options: bytes, order: str) -> float:
    """The ``if_tsresol`` option of an IDB (default 10^-6)."""
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(order + "HH", options, pos)
        value = options[pos + 4:pos + 4 + length]
        if code == 0:
            break
        if code == 9 and length >= 1:
            raw = value[0]
            exponent = raw & 0x7F
            if exponent > 30:
                return 1e-6
            return float(2 ** -exponent) if raw & 0x80 else float(10 ** -exponent)
        pos += 4 + ((length + 3) & ~3)
    return 1e-6


def _pcapng(buf: _Buffer, name: str) -> Iterator[Frame]:
    order = "<"
    interfaces: list[tuple[int, float, int]] = []  # (linktype, tsresol, snaplen)
    while not buf.at_end():
        offset = buf.offset
        head = buf.take(8)
        if head is None:
            raise bad_input(name, offset, "block header is truncated")
        if head[:4] == PCAPNG_MAGIC:
            bom = buf.take(4)
            if bom is None:
                raise bad_input(name, offset, "section header block is truncated")
            if bom == b"\x4d\x3c\x2b\x1a":
                order = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                order = ">"
            else:
                raise bad_input(name, offset + 8, "bad byte-order magic in section header")
            interfaces = []
            length = struct.unpack_from(order + "I", head, 4)[0]
            body_len = length - 16
            prefix = 4
        else:
            length = struct.unpack_from(order + "I", head, 4)[0]
            body_len = length - 12
            prefix = 0
        block_type = struct.unpack_from(order + "I", head, 0)[0]
        if length < 12 + prefix or length % 4 or length > MAX_BLOCK:
            raise bad_input(name, offset, f"block length {length} is invalid")
        body = buf.take(body_len)
        trailer = buf.take(4)
        if body is None or trailer is None:
            raise bad_input(name, offset, f"block of {length} bytes is truncated")
        if struct.unpack(order + "I", trailer)[0] != length:
            raise bad_input(name, offset, "block length at the end differs from the start "
                            "(corrupt block)")
        if block_type == 1 and len(body) >= 8:  # Interface Description Block
            linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", body, 0)
            if len(interfaces) >= MAX_INTERFACES:
                raise bad_input(name, offset, "too many interfaces")
            interfaces.append((linktype, _tsresol(body[8:], order), snaplen))
        elif block_type in (6, 2):  # Enhanced / obsolete Packet Block
            frame = _packet_block(block_type, body, order, interfaces, name, offset)
            if frame is not None:
                yield frame
        elif block_type == 3 and interfaces:  # Simple Packet Block
            origlen = struct.unpack_from(order + "I", body, 0)[0] if len(body) >= 4 else 0
            linktype, _, snaplen = interfaces[0]
            caplen = min(origlen, len(body) - 4, snaplen or MAX_FRAME)
            yield Frame(offset, linktype, 0.0, body[4:4 + max(caplen, 0)])


def _packet_block(block_type: int, body: bytes, order: str,
                  interfaces: list[tuple[int, float, int]], name: str,
                  offset: int) -> Frame | None:
    if block_type == 6:
        if len(body) < 20:
            raise bad_input(name, offset, "enhanced packet block is too short")
        iface, high, low, caplen, _origlen = struct.unpack_from(order + "IIIII", body, 0)
    else:
        if len(body) < 20:
            raise bad_input(name, offset, "packet block is too short")
        iface, _drops, high, low, caplen, _origlen = struct.unpack_from(order + "HHIIII",
                                                                         body, 0)
    if iface >= len(interfaces):
        raise bad_input(name, offset, f"packet names interface {iface}, which was not "
                        "described")
    if caplen > len(body) - 20:
        raise bad_input(name, offset, f"packet claims {caplen} bytes, block holds "
                        f"{len(body) - 20}")
    linktype, resolution, _snaplen = interfaces[iface]
    return Frame(offset, linktype, ((high << 32) | low) * resolution, body[20:20 + caplen])
