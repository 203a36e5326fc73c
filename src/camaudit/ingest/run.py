"""One ingest, end to end: files -> records -> hosts -> identify + assess -> store.

    for each file: detect format -> parser (sans-IO generator) -> Gatherer
    for each host:  pipeline.conclude(address, observations, ports, policies, site)
                    + inventory-disagrees (claims) -> Store.save_host

All evidence of one address, from every file, is concluded together, so an
nmap port list, a capture's ISAPI reply, a lease's MAC and a sheet's claim
fuse into one device through the same identify -> assess path as a scan. The
result is a scan of kind ``ingest`` whose options record each file with its
SHA-256, format, record count and error (if any).

Error boundary of this layer: OSError (unreadable file), gzip/zlib damage and
parser errors become :class:`camaudit.errors.IngestError`; a file that fails
part-way keeps what was read before the failure, the other files go on, and
:func:`ingest` reports every failure once at the end (``IngestResult.errors``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from camaudit import __version__
from camaudit.errors import IngestError, UsageError
from camaudit.ingest import claims, detect, inventory, leases, neighbours, nmapxml, pcap
from camaudit.ingest.records import Gatherer, Record, bad_input
from camaudit.store import Store

Parser = Callable[[BinaryIO, str], Iterator[Record]]
#: Called with (bytes done across all files, bytes in all files).
Progress = Callable[[int, int], None]


@dataclass
class SourceReport:
    """What one file gave: recorded in the scan's options."""

    path: str
    format: str | None = None
    sha256: str | None = None
    size: int = 0
    records: int = 0
    error: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestResult:
    scan_id: int
    sources: list[SourceReport]
    hosts: int = 0
    devices: int = 0
    findings: int = 0
    unbound_macs: int = 0

    @property
    def errors(self) -> list[str]:
        return [s.error for s in self.sources if s.error]


class _Guarded(io.RawIOBase):
    """A read-only stream that turns gzip/zlib/OS failures into IngestError with the offset."""

    def __init__(self, inner: BinaryIO, name: str,
                 on_read: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self.inner = inner
        self.name_ = name
        self.offset = 0
        self.on_read = on_read

    def readinto(self, buffer: Any) -> int:
        try:
            data = self.inner.read(len(buffer))
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise bad_input(self.name_, self.offset, f"compressed data is damaged or cut "
                            f"short ({type(exc).__name__})") from exc
        except OSError as exc:
            raise bad_input(self.name_, self.offset, f"read failed: {exc.strerror or exc}") \
                from exc
        buffer[:len(data)] = data
        self.offset += len(data)
        if self.on_read is not None:
            self.on_read(self.offset)
        return len(data)

    def seek(self, pos: int, whence: int = 0) -> int:
        self.offset = self.inner.seek(pos, whence)
        return self.offset

    def tell(self) -> int:
        return self.offset

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True


def parser_for(fmt: str, mapping: Mapping[str, str], report: SourceReport,
               progress: Callable[[int], None] | None) -> Parser:
    if fmt == "pcap":
        stats = pcap.PcapStats()
        report.stats = stats.__dict__  # live view: filled while the capture is read
        return lambda stream, name: pcap.parse_pcap(stream, name, progress, stats)
    if fmt == "csv":
        return lambda stream, name: inventory.parse_csv(stream, name, mapping)
    if fmt == "xlsx":
        return lambda stream, name: inventory.parse_xlsx(stream, name, mapping)
    simple: dict[str, Parser] = {
        "nmap-xml": nmapxml.parse_nmap_xml, "isc-leases": leases.parse_isc_leases,
        "dnsmasq-leases": leases.parse_dnsmasq_leases, "neighbours": neighbours.parse_neighbours}
    return simple[fmt]


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def read_source(path: Path, gatherer: Gatherer, *, fmt: str | None = None,
                mapping: Mapping[str, str] | None = None,
                progress: Callable[[int], None] | None = None) -> SourceReport:
    """Feed one file's records into `gatherer`; a failure is kept in the report, not raised."""
    report = SourceReport(path=str(path))
    name = str(path)
    try:
        report.size = path.stat().st_size
        report.sha256 = _sha256(path)
        with path.open("rb") as raw:
            if fmt is not None and fmt not in detect.FORMATS:
                raise UsageError(f"--format must be one of {', '.join(detect.FORMATS)}")
            try:
                detected, compressed = detect.detect(raw, name)
            except IngestError:
                if fmt is None:
                    raise
                detected, compressed = fmt, detect.is_gzip(raw.read(2))
                raw.seek(0)
            report.format = fmt or detected
            inner: BinaryIO = gzip.GzipFile(fileobj=raw) if compressed else raw  # type: ignore[assignment]
            stream = io.BufferedReader(
                _Guarded(inner, name, None if report.format == "pcap" else progress),
                buffer_size=1024 * 1024)
            parse = parser_for(report.format, mapping or {}, report, progress)
            for record in parse(stream, name):
                report.records += 1
                gatherer.add(record)
    except IngestError as exc:
        report.error = str(exc)
    except OSError as exc:
        report.error = f"{name}: cannot read ({exc.strerror or exc})"
    report.stats = dict(report.stats)
    return report


def ingest(paths: Sequence[str], store: Store, *, site: str | None = None,
           policies: Sequence[str] = ("all",), mapping: Mapping[str, str] | None = None,
           fmt: str | None = None, progress: Progress | None = None) -> IngestResult:
    """Read every file, conclude every host, store the result as one ``ingest`` scan."""
    from camaudit.assess import load_policies
    from camaudit.knowledge import kb_versions
    from camaudit.pipeline import conclude

    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
    policy_set = load_policies(list(policies))  # a bad policy fails before any reading
    total = sum(p.stat().st_size for p in files) or 1
    gatherer = Gatherer()
    sources: list[SourceReport] = []
    done = 0
    for path in files:
        size = path.stat().st_size

        def step(pos: int, base: int = done, size: int = size) -> None:
            if progress is not None:
                progress(base + min(pos, size), total)

        sources.append(read_source(path, gatherer, fmt=fmt, mapping=mapping, progress=step))
        done += size
        step(size)
    hosts, unbound = gatherer.finish()
    scan_id = store.create_scan(
        targets=[str(p) for p in files], excludes=[], resolved={}, ports=[],
        options={"files": [asdict(s) for s in sources], "map": dict(mapping or {}),
                 "format": fmt, "macs_without_address": len(unbound)},
        policies=list(policies), knowledge=kb_versions(), tool_version=__version__,
        kind="ingest", site=site)
    result = IngestResult(scan_id=scan_id, sources=sources, hosts=len(hosts),
                          unbound_macs=len(unbound))
    for host in hosts:
        device = conclude(host.address, host.observations, sorted(host.ports), policy_set,
                          site)
        if device.mac is None and host.macs:
            device.mac = host.macs[-1]
        if device.hostname is None:
            device.hostname = host.hostname
        device.findings += claims.inventory_findings(device, host.observations)
        store.save_host(scan_id, device, host.observations)
        result.devices += device.device_type not in (None, "other")
        result.findings += len(device.findings)
    store.finish_scan(scan_id, {"hosts": result.hosts, "devices": result.devices,
                                "findings": result.findings, "files": len(files),
                                "errors": len(result.errors),
                                "macs_without_address": len(unbound)})
    return result
