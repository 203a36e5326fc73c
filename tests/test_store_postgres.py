"""The store on a real PostgreSQL server (conftest's `postgres_url`): only the URL differs
from SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from camaudit.model import Device, Evidence, Finding, Observation
from camaudit.store import Store
from listeners import Listeners

ENV = {**os.environ, "CI": "1"}


def test_round_trip_on_postgres(postgres_url: str) -> None:
    store = Store(postgres_url)
    scan_id = store.create_scan(targets=["127.66.0.0/24"], excludes=[], resolved={},
                                ports=[80], options={}, policies=["all"],
                                knowledge={"kev": "2025.08.25"}, tool_version="test")
    obs = Observation("127.66.0.1", 80, "http", {"server": "DNVRS-Webs", "status": 401},
                      raw=b"HTTP/1.1 401 Unauthorized\r\n\r\n\x00\xff")
    device = Device("127.66.0.1", ports=[80], device_type="camera", manufacturer="Hikvision",
                    confidence=0.9, evidence=[Evidence("r1", f"sha256:{obs.sha256}",
                                                       "manufacturer=Hikvision", 0.8)],
                    findings=[Finding("ndaa-889", "restriction", "high", "t", "https://x")])
    store.save_host(scan_id, device, [obs])
    store.finish_scan(scan_id, {"devices": 1})
    (back,) = store.devices(scan_id)
    assert (back.manufacturer, back.findings[0].id, back.evidence[0].rule) == (
        "Hikvision", "ndaa-889", "r1")
    (raw,) = store.observations(scan_id)
    assert raw.raw == obs.raw and raw.sha256 == obs.sha256
    assert store.resolve_scan_id("last") == scan_id
    store.close()


def test_cli_scan_into_postgres_matches_sqlite(postgres_url: str, tmp_path: Path) -> None:
    endpoints = [("127.66.11.1", 18086), ("127.66.11.5", 18087)]
    docs = []
    with Listeners(endpoints):
        for db in (postgres_url, str(tmp_path / "same.db")):
            out = tmp_path / f"{len(docs)}.json"
            subprocess.run([sys.executable, "-m", "camaudit", "-q", "scan", "127.66.11.0/29",
                            "--ports", "18086,18087", "--db", db, "--json", str(out)],
                           check=True, env=ENV, timeout=120)
            docs.append(json.loads(out.read_text()))
    assert docs[0]["devices"] == docs[1]["devices"]
    assert [d["address"] for d in docs[0]["devices"]] == ["127.66.11.1", "127.66.11.5"]


def test_console_records_and_inventory_queries_on_postgres(postgres_url: str) -> None:
    """The web console's tables (migration 0003) and the inventory filters on PostgreSQL."""
    import datetime as dt

    from camaudit.store import inventory
    from camaudit.store.console import Console

    store = Store(postgres_url)
    scan_id = store.create_scan(targets=["127.66.1.0/24"], excludes=[], resolved={},
                                ports=[80], options={}, policies=["all"], knowledge={},
                                tool_version="0.1.0", site="north")
    for n, maker in enumerate(["Hikvision", "Axis", None, "Hikvision"]):
        found = [Finding("ndaa-889", "restriction", "high", "named", "https://x.invalid",
                         regime="ndaa-889")] if maker == "Hikvision" else []
        store.save_host(scan_id, Device(f"127.66.1.{20 - n}", [80], manufacturer=maker,
                                        device_type="camera", site="north" if n else "south",
                                        findings=found), [])
    flt = inventory.DeviceFilter(manufacturer="hikvision")
    page = inventory.query_devices(store, scan_id, flt, sites=None)
    assert [d.address for d in page.devices] == ["127.66.1.17", "127.66.1.20"]
    assert inventory.query_devices(store, scan_id, flt, sites=("north",)).total == 1
    assert inventory.query_devices(store, scan_id, inventory.DeviceFilter(regime="ndaa-889"),
                                   sites=None, sort="severity", descending=True).total == 2
    assert inventory.facets(store, scan_id, sites=None)["manufacturer"] == [
        "(unknown)", "Axis", "Hikvision"]
    console = Console(store)
    user = console.add_user("pg-admin", "admin", "$argon2id$stub", ["north"])
    console.add_token("pg-admin", "a" * 64, "cam_abcdef")
    assert console.user_by_token("a" * 64) == user
    console.open_session(user, "b" * 64, "csrf", dt.timedelta(hours=1))
    assert console.session("b" * 64) is not None
    console.revoke("pg-admin")
    assert console.user_by_token("a" * 64) is None and console.session("b" * 64) is None
    console.mark_removal(device_key="k", scan_id=scan_id, address="127.66.1.20", site="south",
                         status="accepted", reason="ordered", expires=dt.date(2027, 1, 31),
                         who="pg-admin")
    assert console.removal_marks(["k"])["k"].expires == dt.date(2027, 1, 31)
    assert [e["action"] for e in console.audit_log()][:2] == ["removal.mark", "user.revoke"]
    store.close()
