"""Saving hosts a batch at a time (as the pipeline does) on real SQLite and PostgreSQL:
a batch is written in a few statements, and must store exactly what host-by-host saves
store, replacing hosts saved before, connected cameras included."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from camaudit.model import Device, Evidence, Finding, Observation
from camaudit.store import Store
from camaudit.store.db import HostRecord

WHEN = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    url = (str(tmp_path / "save.db") if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    opened = Store(url)
    yield opened
    opened.close()


def _scan(store: Store) -> int:
    return store.create_scan(targets=["127.61.0.0/24"], excludes=[], resolved={},
                             ports=[80, 554], options={}, policies=["all"], knowledge={},
                             tool_version="test")


def _host(n: int, *, cameras: int = 0, findings: int = 1, tag: str = "") -> HostRecord:
    """A recorder at 127.61.0.<n> with observations, evidence, findings and cameras."""
    address = f"127.61.0.{n}"
    seen = [Observation(address, port, "http", {"n": n, "tag": tag, "port": port},
                        raw=f"{tag}{n}:{port}".encode(), time=WHEN) for port in (80, 554)]
    device = Device(
        address, ports=[554, 80], mac=f"00:11:22:33:44:{n:02x}", device_type="recorder",
        manufacturer="Hikvision", model=f"DS-{n}{tag}", confidence=0.8,
        evidence=[Evidence("r1", f"sha256:{seen[0].sha256}", "manufacturer=Hikvision", 0.7)],
        conflicts=["model"] if n % 2 else [],
        findings=[Finding(f"f{k}", "restriction", "high", "t", "https://x.invalid",
                          evidence=[f"r1 -> sha256:{seen[0].sha256}"], basis="b")
                  for k in range(findings)])
    children = [(Device(f"198.51.100.{c}", ports=[554], device_type="camera", parent=address,
                        channel=c, confidence=0.5,
                        findings=[Finding("u", "unknown-maker", "low", "t", "https://x")]),
                 [Observation(f"198.51.100.{c}", None, "channel", {"c": c}, time=WHEN)])
                for c in range(1, cameras + 1)]
    return device, seen, children


def _stored(store: Store, scan_id: int) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]],
                                                   set[str]]:
    """Everything saved: devices as exported, observations, host keys."""
    devices = [d.to_json() for d in store.devices(scan_id)]
    seen = sorted((o.address, o.port, o.probe, o.sha256, o.raw, o.time)
                  for o in store.observations(scan_id))
    return devices, seen, store.done_addresses(scan_id)


def test_a_batch_stores_what_host_by_host_saves_store(store: Store) -> None:
    hosts = [_host(n, cameras=n % 3, findings=n % 4) for n in (7, 1, 30, 2, 200, 9)]
    one_by_one, batched = _scan(store), _scan(store)
    for host in hosts:
        store.save_host(one_by_one, *host)
    store.save_hosts(batched, hosts)
    devices, seen, keys = _stored(store, batched)
    assert (devices, seen, keys) == _stored(store, one_by_one)
    cameras = 1 + 1 + 0 + 2 + 2 + 0  # n % 3 for each n
    assert len(devices) == 6 + cameras and len(seen) == 2 * 6 + cameras
    assert {"127.61.0.200#2", "127.61.0.7#1"} < keys and "127.61.0.30#1" not in keys
    assert sum(len(d["findings"]) for d in devices) == (3 + 1 + 2 + 2 + 0 + 1) + cameras


def test_a_batch_replaces_the_hosts_saved_before_and_adds_the_others(store: Store) -> None:
    scan_id = _scan(store)
    store.save_hosts(scan_id, [_host(1, cameras=3, findings=2), _host(2), _host(3)])
    # a shard re-run: host 1 now reports one camera, host 4 is new, host 2 given twice
    store.save_hosts(scan_id, [_host(4), _host(1, cameras=1, tag="again"),
                               _host(2, findings=0), _host(2, findings=3, tag="last")])
    devices, seen, keys = _stored(store, scan_id)
    assert [(d["address"], d.get("channel"), d["model"], len(d["findings"]))
            for d in devices] == [
        ("127.61.0.1", None, "DS-1again", 1), ("198.51.100.1", 1, None, 1),
        ("127.61.0.2", None, "DS-2last", 3), ("127.61.0.3", None, "DS-3", 1),
        ("127.61.0.4", None, "DS-4", 1)]
    assert keys == {"127.61.0.1", "127.61.0.1#1", "127.61.0.2", "127.61.0.3", "127.61.0.4"}
    assert sorted(raw for *_, raw, _ in seen if raw.startswith(b"again")) == [
        b"again1:554", b"again1:80"]
    assert len(seen) == 2 * 4 + 1  # old observations of hosts 1 and 2 gone


def test_saving_nothing_writes_nothing(store: Store) -> None:
    scan_id = _scan(store)
    store.save_hosts(scan_id, [])
    assert _stored(store, scan_id) == ([], [], set())
