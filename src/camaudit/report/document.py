"""Reading a camaudit/1 document: the one input every report format takes.

Reports work on the JSON document of DESIGN.md (a plain dict), not on the
database, so that a report can be made from a ``scan --json`` file as well as
from the store. This module checks a document against the contract's schema
(``camaudit.output``) and holds the small rules every format shares: severity
order, how a device is labelled, which findings count, how they are grouped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from camaudit import output
from camaudit.errors import UsageError
from camaudit.model import SEVERITIES

Doc = dict[str, Any]
DeviceDoc = dict[str, Any]
FindingDoc = dict[str, Any]

#: Fields of a device that identify concluded, in the order a reader wants them.
CONCLUDED_FIELDS: tuple[str, ...] = (
    "device_type", "brand", "manufacturer", "model", "firmware", "serial", "mac", "hostname",
)

#: Order of finding kinds when severities tie: what a compliance officer acts on first.
KIND_ORDER: tuple[str, ...] = (
    "restriction", "analytics", "vulnerability", "unknown-maker", "inventory",
)


def check_document(doc: object, origin: str = "document") -> Doc:
    """Return `doc` if it is a camaudit/1 document; else say where it is wrong.

    A report built on a malformed document would silently drop devices, so we
    refuse it with the JSON path of the first problem.
    """
    import jsonschema  # slow to import (~1 s): only when a document is checked

    if not isinstance(doc, dict):
        raise UsageError(f"{origin}: not a camaudit/1 document (a JSON object is expected)")
    try:
        output.validate(doc)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise UsageError(f"{origin}: not a camaudit/1 document at {where}: {exc.message}") from exc
    return doc


def load_document(path: Path) -> Doc:
    """Read and check a camaudit/1 JSON file (``scan --json`` output)."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: not JSON: {exc}") from exc
    return check_document(data, str(path))


def scan_info(doc: Doc) -> dict[str, Any]:
    scan = doc.get("scan")
    return scan if isinstance(scan, dict) else {}


def scan_label(doc: Doc) -> str:
    """How a scan is named in headings: its id when the store gave one, else its start time."""
    scan = scan_info(doc)
    if scan.get("id") is not None:
        return f"scan {scan['id']}"
    return f"scan of {scan.get('started') or 'unknown date'}"


def severity_rank(severity: object) -> int:
    """0 for info … 4 for critical; an unknown value ranks as info."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


def kind_rank(kind: object) -> int:
    return KIND_ORDER.index(str(kind)) if kind in KIND_ORDER else len(KIND_ORDER)


def findings(device: DeviceDoc) -> list[FindingDoc]:
    found = device.get("findings") or []
    return [f for f in found if isinstance(f, dict)]


def active_findings(device: DeviceDoc) -> list[FindingDoc]:
    """Findings still to act on: open or possible; not accepted ones, and not leads."""
    return [f for f in findings(device) if f.get("status", "open") not in ("accepted", "lead")]


def is_lead(finding: FindingDoc) -> bool:
    """A lead rests on a record its source does not confirm: listed apart, never counted."""
    return finding.get("status") == "lead"


def worst_severity(items: list[FindingDoc]) -> str | None:
    if not items:
        return None
    return max((str(f.get("severity", "info")) for f in items), key=severity_rank)


def has_kind(device: DeviceDoc, kind: str) -> bool:
    return any(f.get("kind") == kind for f in active_findings(device))


def is_kev(finding: FindingDoc) -> bool:
    return str(finding.get("id", "")).startswith("kev:")


def cve_id(finding: FindingDoc) -> str | None:
    """``CVE-2021-36260`` for ``kev:CVE-2021-36260`` or ``cve:CVE-…``; None otherwise."""
    fid = str(finding.get("id", ""))
    prefix, _, rest = fid.partition(":")
    return rest if prefix in ("kev", "cve") and rest else None


def group_key(finding: FindingDoc) -> str:
    """Which regime a finding belongs to in the report (CONTRACTS.md finding ids)."""
    kind = finding.get("kind")
    if kind == "restriction":
        return str(finding.get("regime") or finding.get("id"))
    if kind == "vulnerability":
        return "kev" if is_kev(finding) else "cve"
    if kind == "analytics":
        return str(finding.get("regime") or "analytics")
    return str(finding.get("id") or kind)


def device_label(device: DeviceDoc) -> str:
    """A short human name: address plus the real maker and model when known."""
    parts = [str(device.get("address", "?"))]
    maker = device.get("manufacturer") or device.get("brand")
    what = " ".join(str(p) for p in (maker, device.get("model")) if p)
    if what:
        parts.append(f"({what})")
    return " ".join(parts)


def is_oem(device: DeviceDoc) -> bool:
    """True when the name on the box differs from the real maker: a white-label device."""
    brand, maker = device.get("brand"), device.get("manufacturer")
    return bool(brand and maker and str(brand).casefold() != str(maker).casefold())


def iter_findings(doc: Doc) -> Iterator[tuple[int, DeviceDoc, FindingDoc]]:
    """Every (device index, device, finding) of a document, in device order."""
    for index, device in enumerate(doc.get("devices") or []):
        for finding in findings(device):
            yield index, device, finding
