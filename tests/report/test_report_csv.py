"""CSV: a row per device and per finding, a round trip back to the document, no formulas."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from camaudit.errors import UsageError
from camaudit.report.csvout import read_csv, write_csv


def test_round_trip(tmp_path: Path, doc: dict[str, Any]) -> None:
    devices_csv, findings_csv = write_csv(doc, tmp_path / "audit.csv")
    assert findings_csv.name == "audit-findings.csv"
    rows = read_csv(devices_csv)
    assert len(rows) == len(doc["devices"])
    for row, device in zip(rows, doc["devices"], strict=True):
        for name in ("address", "site", "device_type", "brand", "manufacturer", "model",
                     "firmware", "serial", "mac", "hostname"):
            assert (row[name] or None) == device[name], name
        assert [int(p) for p in row["ports"].split()] == device["ports"]
        assert float(row["confidence"]) == device["confidence"]
        assert row["findings"].split() == [f["id"] for f in device["findings"]]
    found = read_csv(findings_csv)
    expected = [(d["address"], f) for d in doc["devices"] for f in d["findings"]]
    assert len(found) == len(expected) == 8
    for row, (address, finding) in zip(found, expected, strict=True):
        assert row["address"] == address
        for name in ("kind", "severity", "status", "title", "source", "detail"):
            assert row[name] == finding[name], name
        assert row["finding"] == finding["id"]
        assert row["evidence"].splitlines() == finding["evidence"]


def test_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path: Path, samples: Any) -> None:
    device = samples.devices()[0]
    device.brand, device.model, device.firmware = "=HYPERLINK(\"x\")", "+1+1", "'quoted"
    path, _ = write_csv(samples.document([device]), tmp_path / "d.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        raw = next(csv.DictReader(handle))
    assert raw["brand"] == "'=HYPERLINK(\"x\")" and raw["model"] == "'+1+1"
    assert raw["firmware"] == "''quoted"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    back = read_csv(path)[0]
    assert (back["brand"], back["model"], back["firmware"]) == (
        device.brand, device.model, device.firmware)


def test_unwritable_path_is_a_usage_error(tmp_path: Path, doc: dict[str, Any]) -> None:
    with pytest.raises(UsageError, match="cannot write"):
        write_csv(doc, tmp_path / "missing-dir" / "a.csv")
