"""Which passive source a file is, from its first bytes (never from its name alone).

Operators hand over files named ``export.txt`` or ``capture`` and gzip them,
so the format is sniffed from content: capture and zip magic numbers, the
``<nmaprun`` root element, an ISC ``lease ... {`` declaration, a dnsmasq lease
line, a CSV header with an IP or MAC column, or any line a neighbour-table
parser recognises. gzip-compressed files are looked into. ``--format``
overrides the guess.

Formats: ``nmap-xml``, ``pcap`` (pcap and pcapng), ``isc-leases``,
``dnsmasq-leases``, ``neighbours``, ``csv``, ``xlsx``.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from typing import BinaryIO

from camaudit.ingest import inventory, neighbours
from camaudit.ingest.pcapfile import PCAP_MAGICS, PCAPNG_MAGIC
from camaudit.ingest.records import bad_input

FORMATS = ("nmap-xml", "pcap", "isc-leases", "dnsmasq-leases", "neighbours", "csv", "xlsx")
#: Bytes looked at.
SNIFF = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"

_ISC = re.compile(r"^\s*lease\s+[0-9A-Fa-f.:]+\s*\{", re.M)
_DNSMASQ = re.compile(r"^\d{1,12}\s+(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\s+\S+\s+\S+")


def sniff(head: bytes) -> str | None:
    """The format of a file starting with `head` (decompressed), or None."""
    if head[:4] in PCAP_MAGICS or head[:4] == PCAPNG_MAGIC:
        return "pcap"
    if head[:4] == b"PK\x03\x04":
        return "xlsx"
    if b"\0" in head[:4096]:
        return None
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    if re.search(r"<nmaprun\b", text[:8192]):
        return "nmap-xml"
    if _ISC.search(text) or "dhcpd.leases(5)" in text[:2048]:
        return "isc-leases"
    rows = text.splitlines()[:inventory.HEADER_ROWS]
    content = [r for r in rows if r.strip() and not r.startswith("duid ")]
    if content and _DNSMASQ.match(content[0]):
        return "dnsmasq-leases"
    if _csv_header(rows):
        return "csv"
    if any(neighbours.parse_line(r) is not None for r in text.splitlines()[:200]) or \
            text.startswith("IP address       HW type"):
        return "neighbours"
    return None


def _csv_header(rows: list[str]) -> bool:
    sample = "\n".join(rows)
    if not any(d in sample for d in ",;\t|"):
        return False
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        parsed = list(csv.reader(io.StringIO(sample), dialect))
    except csv.Error:
        return False
    return any(inventory.find_columns(list(r), {}) is not None for r in parsed if len(r) > 1)


def is_gzip(head: bytes) -> bool:
    return head[:2] == GZIP_MAGIC


def gunzip_head(stream: BinaryIO) -> bytes:
    """The first decompressed bytes of a gzip stream (for sniffing); b"" if unreadable."""
    try:
        with gzip.GzipFile(fileobj=stream) as gz:
            return gz.read(SNIFF)
    except (OSError, EOFError, zlib.error):
        return b""


def detect(stream: BinaryIO, name: str) -> tuple[str, bool]:
    """(format, gzip-compressed) of a seekable stream; IngestError if unknown."""
    head = stream.read(SNIFF)
    stream.seek(0)
    compressed = is_gzip(head)
    if compressed:
        head = gunzip_head(stream)
        stream.seek(0)
    fmt = sniff(head)
    if fmt is None:
        raise bad_input(name, 0, "cannot tell the format (expected nmap XML, pcap/pcapng, "
                        "ISC or dnsmasq leases, an ARP/neighbour table, CSV or XLSX; "
                        "use --format)")
    return fmt, compressed
