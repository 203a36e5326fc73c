"""The lines `camaudit scan` prints after a scan, counted in SQL (Store.tallies) on real
SQLite: surveillance devices only, each device's finding kinds once, makers with equal
counts in the order their first device comes in the inventory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from camaudit.model import Device, Finding
from camaudit.scan_commands import digest
from camaudit.store import Store


def _finding(kind: Any, status: Any = "open") -> Finding:
    return Finding(f"{kind}:{status}", kind, "high", "t", "https://x.invalid",
                   status=status)


def test_the_digest_counts_what_the_inventory_holds(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "digest.db"))
    scan_id = store.create_scan(targets=["127.62.0.0/24"], excludes=[], resolved={},
                                ports=[80], options={}, policies=["all"], knowledge={},
                                tool_version="test")
    restricted, possible = _finding("restriction"), _finding("vulnerability", "possible")
    hosts: list[tuple[int, Any, str | None, list[Finding]]] = [  # out of address order
        (30, "camera", "Axis", [possible, _finding("vulnerability", "possible")]),
        (9, "recorder", "Dahua", [restricted, _finding("analytics", "enabled")]),
        (200, "camera", "Dahua", [restricted]),
        (20, "other", "Hikvision", [restricted]),  # not surveillance: not counted
        (1, "camera", None, [_finding("unknown-maker", "possible")]),
        (100, "vms", "Axis", [_finding("analytics", "offered")]),
        (5, "encoder", "Hikvision", [restricted, _finding("vulnerability")]),
        (4, "surveillance", "Bosch", []),
        (3, "camera", "Reolink", []),
    ]
    for n, kind, maker, found in hosts:
        store.save_host(scan_id, Device(f"127.62.0.{n}", [80], device_type=kind,
                                        manufacturer=maker, findings=found), [])
    store.save_host(scan_id, Device("127.62.0.50", [80], device_type="recorder",
                                    manufacturer="Uniview"), [],
                    [(Device("192.0.2.1", device_type="camera", manufacturer="Axis",
                             parent="127.62.0.50", channel=1), [])])
    assert digest(*store.tallies(scan_id)) == [
        "  by maker: Axis 3, Dahua 2, unknown maker 1, Reolink 1, Bosch 1, Hikvision 1",
        "  restricted maker: 3 · known-exploited firmware: 1 (+1 possibly) · "
        "ethnicity analytics: 2 (1 switched on) · maker unknown: 1"]


def test_no_surveillance_device_no_digest(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "empty.db"))
    scan_id = store.create_scan(targets=["127.62.0.0/24"], excludes=[], resolved={},
                                ports=[80], options={}, policies=["all"], knowledge={},
                                tool_version="test")
    store.save_host(scan_id, Device("127.62.0.1", [80], device_type="other"), [])
    assert digest(*store.tallies(scan_id)) == []
