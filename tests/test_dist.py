"""Scale out on one machine: shards, the store's shard records, `scan --workers N`.

Real zoo, real SQLite (and PostgreSQL once), real worker processes killed with SIGKILL:
whatever happens to a worker, the inventory must be the one a single process writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.cliutil import run_async
from camaudit.demo import covering_network
from camaudit.dist.local import WorkerSpec, run_in_process, worker_name
from camaudit.dist.run import finish_if_complete, run_shard, run_shard_async, start_sharded_scan
from camaudit.dist.shards import Shard, plan_shards
from camaudit.model import Device, Finding, Observation
from camaudit.pipeline import ScanOptions
from camaudit.scan_commands import device_line
from camaudit.scope import Scope
from camaudit.store import Store
from camaudit.zoo import ZooProcess

ENV = {**os.environ, "CI": "1"}
_SHA = re.compile(r"sha256:[0-9a-f]{64}")


# -- shards ---------------------------------------------------------------------------
def _walk(scope: Scope, shards: list[Shard]) -> list[str]:
    return [a for s in shards for a in scope.addresses(first=s.first, last=s.last)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 300)), min_size=1,
                max_size=5),
       st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 50)), max_size=3),
       st.integers(1, 700))
def test_shards_cover_the_scope_once_in_order(ranges: list[tuple[int, int]],
                                             holes: list[tuple[int, int]], size: int) -> None:
    base = int(ipaddress.ip_address("127.60.0.0"))

    def spec(start: int, length: int) -> str:
        return f"{ipaddress.ip_address(base + start)}-{ipaddress.ip_address(base + start + length)}"

    scope = Scope([spec(*r) for r in ranges], [spec(*h) for h in holes] or (), loose=True)
    shards = plan_shards(scope, size)
    assert [s.index for s in shards] == list(range(len(shards)))
    assert _walk(scope, shards) == list(scope.addresses())
    assert all(len(list(scope.addresses(first=s.first, last=s.last))) <= size
               for s in shards)
    assert all(len(list(scope.addresses(first=s.first, last=s.last))) == size
               for s in shards[:-1])


def test_a_slash_12_is_planned_from_its_ranges_not_address_by_address() -> None:
    scope = Scope(["127.176.0.0/12", "::1"], ["127.180.0.0/16"])
    started = time.perf_counter()
    shards = plan_shards(scope)
    assert time.perf_counter() - started < 0.5
    assert len(shards) == 241  # 983,040 IPv4 addresses in 4,096s, then ::1 on its own
    assert shards[0] == Shard(0, "127.176.0.0", "127.176.15.255")
    assert shards[63].last == "127.179.255.255" and shards[64].first == "127.181.0.0"
    assert shards[-1] == Shard(240, "::1", "::1")


# -- store records ------------------------------------------------------------------
def _store_with_shards(tmp_path: Path, count: int = 3) -> tuple[Store, int, Scope]:
    store = Store(str(tmp_path / "shards.db"))
    scope = Scope([f"127.60.9.0-127.60.9.{count * 4 - 1}"])
    scan_id = start_sharded_scan(store, scope.targets, [], ScanOptions(ports=[9]), size=4,
                                 scope=scope)
    return store, scan_id, scope


def test_shard_claims_cursors_and_the_scan_end_are_each_taken_once(tmp_path: Path) -> None:
    store, scan_id, _ = _store_with_shards(tmp_path)
    store.add_shards(scan_id, [Shard(0, "127.60.9.0", "127.60.9.3")])  # known: kept as is
    assert [s["state"] for s in store.shards(scan_id)] == ["pending"] * 3
    assert store.claim_next_shard(scan_id, "a") == 0
    assert store.claim_next_shard(scan_id, "b") == 1
    assert store.claim_shard(scan_id, 0, "a") is True  # again by its worker: same attempt
    assert store.claim_shard(scan_id, 1, "c") is True  # taken over: a new attempt
    assert [(s["worker"], s["attempts"]) for s in store.shards(scan_id)][:2] == [
        ("a", 1), ("c", 2)]
    assert store.set_shard_cursor(scan_id, 0, "127.60.9.1") is True
    assert store.set_shard_cursor(scan_id, 2, "127.60.9.9") is False  # not running
    assert store.finish_shard(scan_id, 0, {"addresses": 4}) is True
    assert store.finish_shard(scan_id, 0, {"addresses": 4}) is False
    assert store.claim_shard(scan_id, 0, "d") is False  # done stays done
    assert store.release_shards(scan_id, "c") == 1
    progress = store.scan_progress(scan_id)
    assert progress["shards"] == {"pending": 2, "running": 0, "done": 1, "cancelled": 0}
    assert progress["addresses"] == 4
    assert finish_if_complete(store, scan_id) is False
    for index in (1, 2):
        assert store.claim_shard(scan_id, index, "e")
        store.finish_shard(scan_id, index, {"addresses": 4, "open_ports": 1})
    assert finish_if_complete(store, scan_id) is True
    assert finish_if_complete(store, scan_id) is False  # a second worker racing here
    scan = store.scan(scan_id)
    assert scan["status"] == "done" and scan["stats"]["addresses"] == 12
    assert scan["stats"]["open_ports"] == 2


def test_cancelling_a_scan_stops_its_shards(tmp_path: Path) -> None:
    store, scan_id, _ = _store_with_shards(tmp_path)
    assert store.claim_next_shard(scan_id, "a") == 0
    assert store.cancel_scan(scan_id) == 3
    assert store.scan(scan_id)["status"] == "cancelled"
    assert store.claim_shard(scan_id, 1, "b") is False
    assert store.set_shard_cursor(scan_id, 0, "127.60.9.2") is False  # the runner stops
    assert run_shard(store, scan_id, 2).addresses == 0  # nothing scanned
    assert store.done_addresses(scan_id) == set()


def _host(address: str, findings: int, channels: int) -> tuple[Device, list[Observation],
                                                                   list[Any]]:
    device = Device(address, ports=[80], device_type="recorder", manufacturer="Hikvision",
                    confidence=0.9, findings=[Finding(f"f{n}", "restriction", "high", "t",
                                                      "https://x.invalid")
                                              for n in range(findings)])
    seen = [Observation(address, 80, "http", {"n": findings}, raw=b"x" * findings)]
    children = [(Device(address, ports=[], device_type="camera", parent=address, channel=c,
                        confidence=0.5), []) for c in range(1, channels + 1)]
    return device, seen, children


def test_saving_a_host_again_replaces_it_and_its_cameras(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "again.db"))
    scan_id = store.create_scan(targets=["127.60.9.0/30"], excludes=[], resolved={},
                                ports=[80], options={}, policies=["all"], knowledge={},
                                tool_version="test")
    store.save_hosts(scan_id, [_host("127.60.9.1", 2, 3), _host("127.60.9.10", 1, 0)])
    store.save_host(scan_id, *_host("127.60.9.1", 1, 2))  # a shard re-run saves it again
    devices = store.devices(scan_id)
    assert [(d.address, d.channel, len(d.findings)) for d in devices] == [
        ("127.60.9.1", None, 1), ("127.60.9.1", 1, 0), ("127.60.9.1", 2, 0),
        ("127.60.9.10", None, 1)]
    assert [o.raw for o in store.observations(scan_id, "127.60.9.1")] == [b"x"]
    assert store.done_addresses(scan_id) == {"127.60.9.1", "127.60.9.1#1", "127.60.9.1#2",
                                             "127.60.9.10"}


def test_devices_saved_since_a_row_are_read_in_bounded_steps(tmp_path: Path) -> None:
    """What `scan -v` polls: new rows a few at a time; keys already shown are skipped."""
    store = Store(str(tmp_path / "after.db"))
    scan_id = store.create_scan(targets=["127.60.9.0/28"], excludes=[], resolved={},
                                ports=[80], options={}, policies=["all"], knowledge={},
                                tool_version="test")
    store.save_hosts(scan_id, [_host("127.60.9.1", 0, 2), _host("127.60.9.2", 0, 0)])
    first, last = store.devices_after(scan_id, 0, 2)
    assert [d.key for d in first] == ["127.60.9.1", "127.60.9.1#1"]
    rest, end = store.devices_after(scan_id, last, 2)
    assert [d.key for d in rest] == ["127.60.9.1#2", "127.60.9.2"] and end > last
    assert store.devices_after(scan_id, end, 2) == ([], end)
    store.save_host(scan_id, *_host("127.60.9.1", 1, 0))  # saved again: a new row, same key
    store.save_host(scan_id, *_host("127.60.9.3", 0, 0))
    again, _ = store.devices_after(scan_id, end, 10, {d.key for d in first + rest})
    assert [d.key for d in again] == ["127.60.9.3"]
    store.close()


# -- whole scans on the zoo ------------------------------------------------------------
def _scope_args(zoo: ZooProcess) -> list[str]:
    """The zoo's network without its hostile personas (their replies depend on timing)."""
    network = covering_network([d["address"] for d in zoo.devices])
    args = [network]
    for device in zoo.devices:
        if device.get("hostile"):
            args += ["--exclude", device["address"]]
    return args


def _size(zoo: ZooProcess) -> int:
    args = _scope_args(zoo)
    return Scope(args[:1], args[2::2]).size


def _camaudit(*args: str) -> list[str]:
    return [sys.executable, "-m", "camaudit", "-q", "scan", *args, "--probe-timeout", "4"]


def inventory(doc: dict[str, Any]) -> list[str]:
    """Every device with every field; observation hashes masked (zoo replies carry times)."""
    return sorted(_SHA.sub("sha256:-", json.dumps(d, sort_keys=True)) for d in doc["devices"])


@pytest.fixture(scope="module")
def clean(zoo: ZooProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The zoo scanned by one process, as before issue 16."""
    out = tmp_path_factory.mktemp("clean") / "clean.json"
    db = out.with_suffix(".db")
    subprocess.run(_camaudit(*_scope_args(zoo), "--workers", "1", "--db", str(db),
                             "--json", str(out)), check=True, env=ENV, timeout=180)
    store = Store(str(db))
    assert store.shards(store.resolve_scan_id("last")) == []  # one shard's worth: no shards
    store.close()
    doc: dict[str, Any] = json.loads(out.read_text())
    assert len(doc["devices"]) >= 40
    return doc


def test_shards_run_one_by_one_give_the_single_process_inventory(
        zoo: ZooProcess, clean: dict[str, Any], tmp_path: Path) -> None:
    args = _scope_args(zoo)
    excludes = args[2::2]
    store = Store(str(tmp_path / "sharded.db"))
    options = ScanOptions(probe_timeout=4.0)
    scan_id = start_sharded_scan(store, args[:1], excludes, options, size=16)
    shards = store.shards(scan_id)
    assert len(shards) == -(-_size(zoo) // 16) > 2
    for shard in reversed(shards):  # any order: each shard is its own range
        run_shard(store, scan_id, shard["index"], worker="test")
    assert store.scan(scan_id)["status"] == "done"
    assert store.scan(scan_id)["stats"]["addresses"] == _size(zoo)
    assert inventory(store.document(scan_id)) == inventory(clean)


def test_one_worker_runs_the_shards_in_its_own_process(
        zoo: ZooProcess, clean: dict[str, Any], tmp_path: Path) -> None:
    """`--workers 1` on a sharded scan (its --resume): the worker loop, lanes and all, here."""
    args = _scope_args(zoo)
    store = Store(str(tmp_path / "inproc.db"))
    scan_id = start_sharded_scan(store, args[:1], args[2::2], ScanOptions(probe_timeout=4.0),
                                 size=24)
    seen: list[dict[str, Any]] = []
    run_in_process(store, WorkerSpec(store.url, scan_id), seen.append)
    shards = store.shards(scan_id)
    assert {s["worker"] for s in shards} == {worker_name()}
    assert all(s["state"] == "done" and s["attempts"] == 1 for s in shards)
    assert store.scan(scan_id)["status"] == "done"
    assert any(p["hosts"] for p in seen)  # progress was reported on the way
    assert inventory(store.document(scan_id)) == inventory(clean)


def test_a_cancelled_scan_stops_its_shard_at_the_next_checkpoint(
        zoo: ZooProcess, tmp_path: Path) -> None:
    args = _scope_args(zoo)
    store = Store(str(tmp_path / "cancel.db"))
    # the zoo and 16,384 empty addresses after it: far more than a second's work
    scan_id = start_sharded_scan(store, [args[0], "127.60.64.0/18"], args[2::2],
                                 ScanOptions(probe_timeout=4.0), size=20_000)
    stats = run_async(run_shard_async(store, scan_id, 0, worker="test",
                                      on_checkpoint=lambda: store.cancel_scan(scan_id)))
    (shard,) = store.shards(scan_id)
    assert shard["state"] == "cancelled" and shard["cursor"] is not None
    assert stats.addresses < 16_384  # stopped well before the end of its range
    assert store.scan(scan_id)["status"] == "cancelled"
    assert finish_if_complete(store, scan_id) is False


def _shards(db: Path) -> list[dict[str, Any]]:
    """The last scan's shards, read with sqlite3 directly (cheap enough to poll)."""
    try:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            rows = conn.execute(
                'select "index", state, worker, attempts from shards where scan_id = '
                "(select max(id) from scans) order by \"index\"").fetchall()
    except sqlite3.Error:  # not created yet
        return []
    return [dict(zip(("index", "state", "worker", "attempts"), r, strict=True))
            for r in rows]


def _pid(worker: str) -> int:
    return int(worker.rsplit(":", 1)[1])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_worker_killed_mid_shard_loses_and_duplicates_nothing(
        zoo: ZooProcess, clean: dict[str, Any], tmp_path: Path) -> None:
    db, out = tmp_path / "chaos.db", tmp_path / "chaos.json"
    proc = subprocess.Popen(_camaudit(*_scope_args(zoo), "--workers", "2", "--shard-size",
                                      "8", "--db", str(db), "--json", str(out)), env=ENV)
    killed = None
    deadline = time.monotonic() + 90
    while killed is None and proc.poll() is None and time.monotonic() < deadline:
        shards = _shards(db)
        running = [s for s in shards if s["state"] == "running"]
        if running and any(s["state"] == "done" for s in shards):
            killed = running[0]
            os.kill(_pid(killed["worker"]), signal.SIGKILL)
        time.sleep(0.02)
    assert killed is not None, "the scan ended before a worker could be killed"
    assert proc.wait(timeout=180) == 0
    shards = _shards(db)
    assert all(s["state"] == "done" for s in shards)
    again = shards[killed["index"]]
    assert again["attempts"] == 2 and again["worker"] != killed["worker"]
    assert inventory(json.loads(out.read_text())) == inventory(clean)
    store = Store(str(db))
    assert store.scan(store.resolve_scan_id("last"))["status"] == "done"
    store.close()


def test_a_killed_sharded_scan_resumes_at_its_shards_cursors(
        zoo: ZooProcess, clean: dict[str, Any], tmp_path: Path) -> None:
    db, out = tmp_path / "resume.db", tmp_path / "resume.json"
    proc = subprocess.Popen(_camaudit(*_scope_args(zoo), "--workers", "2", "--shard-size",
                                      "8", "--db", str(db)), env=ENV)
    deadline = time.monotonic() + 90
    while proc.poll() is None and time.monotonic() < deadline:
        if sum(s["state"] == "done" for s in _shards(db)) >= 2:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _shards(db)
    workers = {_pid(s["worker"]) for s in before if s["worker"]}
    end = time.monotonic() + 15
    while any(_alive(pid) for pid in workers) and time.monotonic() < end:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), "workers outlived their scan"
    done_before = {s["index"] for s in before if s["state"] == "done"}
    assert 2 <= len(done_before) < len(before), "the kill landed too late to prove resume"
    subprocess.run(_camaudit("--resume", "last", "--workers", "2", "--db", str(db),
                             "--json", str(out)), check=True, env=ENV, timeout=180)
    after = _shards(db)
    assert all(s["state"] == "done" for s in after)
    assert all(after[i]["attempts"] == 1 for i in done_before)  # not run again
    assert inventory(json.loads(out.read_text())) == inventory(clean)


def test_two_workers_into_postgres_give_the_single_process_inventory(
        zoo: ZooProcess, clean: dict[str, Any], postgres_url: str,
        tmp_path: Path) -> None:
    out = tmp_path / "pg.json"
    subprocess.run(_camaudit(*_scope_args(zoo), "--workers", "2", "--shard-size", "8",
                             "--db", postgres_url, "--json", str(out)),
                   check=True, env=ENV, timeout=180)
    assert inventory(json.loads(out.read_text())) == inventory(clean)
    store = Store(postgres_url)
    try:
        shards = store.shards(store.resolve_scan_id("last"))
    finally:
        store.close()
    addresses = _size(zoo)
    assert len(shards) == -(-addresses // 8) and all(s["state"] == "done" for s in shards)
    assert len({s["worker"] for s in shards}) == 2


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def test_verbose_prints_each_device_once_when_workers_find_them(
        zoo: ZooProcess, tmp_path: Path) -> None:
    """`scan -v --workers 2`: the parent prints the line of every device its workers saved,
    as one process prints those it finds."""
    db = tmp_path / "verbose.db"
    command = _camaudit(*_scope_args(zoo), "--workers", "2", "--shard-size", "8", "--db",
                        str(db))
    command[command.index("-q")] = "-v"
    result = subprocess.run(command, env=ENV, timeout=180, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    printed = [line for line in result.stderr.splitlines()
               if line.startswith("  ") and _is_address(line.split()[0])]
    store = Store(str(db))
    try:
        scan_id = store.resolve_scan_id("last")
        assert len({s["worker"] for s in store.shards(scan_id)}) == 2  # found by workers
        expected = [line for d in store.devices(scan_id) if (line := device_line(d))]
    finally:
        store.close()
    assert len(expected) >= 40
    assert sorted(printed) == sorted(expected)  # each device's line, each once


def test_one_shard_scans_in_process_as_before(zoo: ZooProcess, tmp_path: Path) -> None:
    """A scope of one shard never starts a worker process (and records no shard)."""
    db = tmp_path / "one.db"
    result = subprocess.run(_camaudit("127.60.0.1-127.60.0.3", "--workers", "4", "--db",
                                      str(db)), env=ENV, timeout=120, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    store = Store(str(db))
    scan_id = store.resolve_scan_id("last")
    assert store.shards(scan_id) == [] and store.scan(scan_id)["status"] == "done"
    assert [d.address for d in store.devices(scan_id)] == [
        d["address"] for d in zoo.devices if d["address"] in
        ("127.60.0.1", "127.60.0.2", "127.60.0.3")]


def test_default_shards_give_every_lane_work() -> None:
    """A 5,000-address scope on 2 workers of 2 lanes: many even shards, not 3 uneven ones
    (of which one worker took two and did four fifths of the scan)."""
    from camaudit.dist.local import LANES
    from camaudit.dist.shards import ONE_PROCESS_MAX, shard_size

    scope = Scope(["127.71.0.0-127.71.19.135"])  # 5,000 addresses
    shards = plan_shards(scope, shard_size(scope.size, 2))
    assert len(shards) >= 2 * LANES * 2
    sizes = [int(ipaddress.ip_address(s.last)) - int(ipaddress.ip_address(s.first)) + 1
             for s in shards]
    assert max(sizes[:-1]) == min(sizes[:-1]) and sum(sizes) == scope.size
    assert scope.size > ONE_PROCESS_MAX


def test_a_lane_starts_its_next_shard_while_the_last_host_of_one_is_slow(
        tmp_path: Path) -> None:
    """Shard 0 holds one host whose port 554 accepts and never answers; shard 1 a host
    that answers at once. One lane: shard 1's host is done long before shard 0's."""
    from camaudit.dist.local import work

    slow, quick = "127.88.8.1", "127.88.8.2"  # used by no other test

    async def tarpit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    store = Store(str(tmp_path / "lane.db"))
    scan_id = start_sharded_scan(store, [f"{slow}-{quick}"], [],
                                 ScanOptions(ports=[554], probe_timeout=3.0), size=1)

    async def scenario() -> None:
        servers = [await asyncio.start_server(tarpit, slow, 554),
                   await asyncio.start_server(answer, quick, 554)]
        try:
            await work(store, WorkerSpec(store.url, scan_id, lanes=1), "test")
        finally:
            for server in servers:
                server.close()

    run_async(scenario())
    done = {d.address: d for d in store.devices(scan_id)}
    assert set(done) == {slow, quick}
    with sqlite3.connect(tmp_path / "lane.db") as conn:
        at = dict(conn.execute("select address, done_at from hosts").fetchall())
    assert at[quick] < at[slow]
    assert all(s["state"] == "done" for s in store.shards(scan_id))
