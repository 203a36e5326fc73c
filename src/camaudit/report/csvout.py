"""CSV: one file with a row per device, one beside it with a row per finding.

Two files because a spreadsheet wants one shape per sheet; both carry the
device address so they join. Both are written device by device
(:class:`CsvWriter`), so their size is not held in memory. Text is UTF-8
with a byte-order mark, which Excel needs to read UTF-8. Device strings are
untrusted, and a cell starting with ``=``, ``+``, ``-``, ``@`` or a tab is a
formula to a spreadsheet ("CSV injection", OWASP), so such cells get a leading
apostrophe; a cell that already starts with one gets another, which keeps
:func:`read_csv` exact.

``device_type`` takes the camaudit/1 values; ``surveillance`` is video-surveillance
equipment whose role (camera, recorder, encoder) the evidence does not settle.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

from camaudit.errors import UsageError
from camaudit.report.document import DeviceDoc, Doc, active_findings, findings, worst_severity

DEVICE_COLUMNS: tuple[str, ...] = (
    "address", "site", "device_type", "brand", "manufacturer", "model", "firmware", "serial",
    "mac", "hostname", "ports", "confidence", "worst_severity", "findings", "parent", "channel",
)
FINDING_COLUMNS: tuple[str, ...] = (
    "address", "site", "manufacturer", "model", "finding", "kind", "severity", "status",
    "regime", "title", "source", "detail", "accepted_reason", "evidence",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def neutralise(value: object) -> str:
    """A cell value a spreadsheet will show as text; None (unknown) becomes empty."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def restore(cell: str) -> str:
    """Undo :func:`neutralise` (empty stays empty; the reader knows which columns are nullable)."""
    return cell[1:] if cell.startswith("'") else cell


def device_row(device: DeviceDoc) -> dict[str, str]:
    row: dict[str, Any] = {name: device.get(name) for name in DEVICE_COLUMNS}
    row["ports"] = " ".join(str(p) for p in device.get("ports") or [])
    row["confidence"] = device.get("confidence")
    row["worst_severity"] = worst_severity(active_findings(device))
    row["findings"] = " ".join(str(f.get("id")) for f in findings(device))
    return {k: neutralise(v) for k, v in row.items()}


def finding_rows_of(device: DeviceDoc) -> list[dict[str, str]]:
    rows = []
    for finding in findings(device):
        row: dict[str, Any] = {
            "address": device.get("address"),
            "site": device.get("site"),
            "manufacturer": device.get("manufacturer"),
            "model": device.get("model"),
            "finding": finding.get("id"),
            "evidence": "\n".join(str(e) for e in finding.get("evidence") or []),
        }
        for name in FINDING_COLUMNS:
            row.setdefault(name, finding.get(name))
        row["status"] = finding.get("status", "open")
        rows.append({k: neutralise(v) for k, v in row.items()})
    return rows


def device_rows(doc: Doc) -> list[dict[str, str]]:
    return [device_row(d) for d in doc.get("devices") or []]


def finding_rows(doc: Doc) -> list[dict[str, str]]:
    return [row for d in doc.get("devices") or [] for row in finding_rows_of(d)]


def findings_path(devices_path: Path) -> Path:
    """``audit.csv`` → ``audit-findings.csv``."""
    return devices_path.with_name(f"{devices_path.stem}-findings{devices_path.suffix or '.csv'}")


class CsvWriter:
    """Both CSV files, written a device at a time (the report's one pass over the devices)."""

    def __init__(self, path: Path) -> None:
        self.paths = (path, findings_path(path))
        self._handles: list[IO[str]] = []
        try:
            for target, columns in zip(self.paths, (DEVICE_COLUMNS, FINDING_COLUMNS),
                                       strict=True):
                handle = target.open("w", encoding="utf-8-sig", newline="")
                self._handles.append(handle)
                csv.DictWriter(handle, fieldnames=columns).writeheader()
        except OSError as exc:
            self.close()
            raise UsageError(f"{exc.filename}: cannot write: {exc.strerror or exc}") from exc
        self._devices = csv.DictWriter(self._handles[0], fieldnames=DEVICE_COLUMNS)
        self._findings = csv.DictWriter(self._handles[1], fieldnames=FINDING_COLUMNS)

    def add(self, device: DeviceDoc) -> None:
        try:
            self._devices.writerow(device_row(device))
            self._findings.writerows(finding_rows_of(device))
        except OSError as exc:
            raise UsageError(f"{self.paths[0]}: cannot write: {exc.strerror or exc}") from exc

    def close(self) -> None:
        for handle in self._handles:
            handle.close()


def write_csv(doc: Doc, path: Path) -> tuple[Path, Path]:
    """Write the device CSV to `path` and the finding CSV beside it; return both paths."""
    writer = CsvWriter(path)
    try:
        for device in doc.get("devices") or []:
            writer.add(device)
    finally:
        writer.close()
    return writer.paths


def read_csv(path: Path) -> list[dict[str, str]]:
    """Read a CSV written here back to its cell values (for checks and round trips)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [{k: restore(v) for k, v in row.items()} for row in csv.DictReader(handle)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: cannot read as CSV: {exc}") from exc
