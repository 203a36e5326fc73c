"""Site workers end to end: a real redis-server, a real PostgreSQL, `camaudit worker`
processes (Celery, prefork) and the session zoo on loopback.

The zoo's network is split in sites: north (its first quarter, ~30 devices) has workers,
south (its second half) has none; east (south's networks again) only has a schedule.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from camaudit.cli import main
from camaudit.demo import covering_network
from camaudit.store import Store
from camaudit.zoo import ZooProcess

ENV = {**os.environ, "CI": "1"}
#: A worker that died holds its shard this long; shards here take a few seconds.
VISIBILITY = 5


def _camaudit(*args: str) -> list[str]:
    return [sys.executable, "-m", "camaudit", *args]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run a short command in this process (the workers are processes of their own);
    what it printed to stdout, once it exited 0."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    printed = capsys.readouterr()
    assert exited.value.code == 0, printed.err
    return printed.out


@dataclass
class Worker:
    """One `camaudit worker` process (and its pool) in a process group of its own."""

    proc: subprocess.Popen[bytes]
    log: Path
    site: str

    @property
    def node(self) -> str:
        """The start of the name this worker writes on the shards it claims."""
        return f"{self.site}.{self.proc.pid}@"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, as a lost machine would."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, *, wait: bool = True) -> None:
        """SIGTERM: a warm shutdown (the shard in hand is finished first), then SIGKILL."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        if not wait:
            return
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Estate:
    zoo: ZooProcess
    db: str
    broker: str
    sites: Path
    north: str
    south: str
    tmp: Path
    workers: list[Worker] = field(default_factory=list)
    stores: list[Store] = field(default_factory=list)

    def common(self) -> list[str]:
        return ["--sites", str(self.sites), "--db", self.db, "--broker", self.broker]

    def start_worker(self, site: str = "north", *, wait: bool = True) -> Worker:
        log = self.tmp / f"worker-{len(self.workers)}.log"
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                _camaudit("worker", "--site", site, *self.common(), "--concurrency", "1",
                          "--visibility-timeout", str(VISIBILITY)),
                stdout=fh, stderr=subprocess.STDOUT, env=ENV, start_new_session=True)
        worker = Worker(proc, log, site)
        self.workers.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    def audit(self, capsys: pytest.CaptureFixture[str], site: str) -> int:
        printed = cli(capsys, "audit", site, *self.common())
        assert printed.startswith("audit "), printed
        return int(printed.split()[1])

    def store(self) -> Store:
        """A store for the test (closed with the module's services)."""
        self.stores.append(Store(self.db))
        return self.stores[-1]


@pytest.fixture(scope="module")
def estate(zoo: ZooProcess, postgres_url: str, redis_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    network = ipaddress.ip_network(covering_network([d["address"] for d in zoo.devices]))
    first_half, second_half = network.subnets()
    north = str(next(first_half.subnets()))  # a quarter: ~30 devices, 4 shards of 8
    south = str(second_half)
    tmp = tmp_path_factory.mktemp("sites")
    options = "{connect_timeout: 1.0, probe_timeout: 2.0}"
    sites = tmp / "sites.yaml"
    sites.write_text(f"""\
sites:
  north: {{scopes: [{north}], options: {options}, shard_size: 8}}
  south: {{scopes: [{south}], options: {options}, shard_size: 16}}
  east: {{scopes: [{south}], options: {options}, schedule: every 2s}}
""")
    Store(postgres_url).close()  # created and migrated before the workers open it
    estate = Estate(zoo, postgres_url, redis_url, sites, north, south, tmp)
    try:
        yield estate
    finally:
        for worker in estate.workers:
            worker.stop(wait=False)
        for worker in estate.workers:
            worker.stop()
        for store in estate.stores:
            store.close()


def _wait(what: str, check: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _inside(address: str, shard: dict[str, Any]) -> bool:
    key = int(ipaddress.ip_address(address.split("#")[0]))
    return int(ipaddress.ip_address(shard["first"])) <= key <= int(
        ipaddress.ip_address(shard["last"]))


def _inventory(devices: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The fields an operator acts on, per device (evidence hashes cover nonces and dates)."""
    return sorted((d["address"], d["device_type"], d["brand"], d["manufacturer"], d["model"],
                   d["firmware"], d.get("serial"), d["mac"], tuple(d["ports"]),
                   d.get("parent"), d.get("channel"), d.get("site"),
                   tuple(sorted((f["id"], f["status"]) for f in d["findings"])),
                   tuple(sorted(e["rule"] for e in d["evidence"])))
                  for d in devices)


def test_a_worker_killed_mid_shard_loses_and_duplicates_nothing(
        estate: Estate, capsys: pytest.CaptureFixture[str]) -> None:
    clean_json = estate.tmp / "clean.json"
    clean_scan = subprocess.Popen(_camaudit(
        "-q", "scan", estate.north, "--workers", "1", "--timeout", "1", "--probe-timeout", "2",
        "--site", "north",
        "--db", str(estate.tmp / "clean.db"), "--json", str(clean_json)), env=ENV)
    first, other = estate.start_worker(wait=False), estate.start_worker(wait=False)
    first.wait_ready()
    other.wait_ready()
    assert clean_scan.wait(120) == 0
    scan_id = estate.audit(capsys, "north")
    store = estate.store()

    def first_holds_a_shard_with_hosts() -> dict[str, Any] | None:
        saved = store.done_addresses(scan_id)
        for shard in store.shards(scan_id):
            if (shard["state"] == "running" and str(shard["worker"]).startswith(first.node)
                    and any(_inside(a, shard) for a in saved)):
                return shard
        return None

    held = _wait("the first worker to save hosts of a shard", first_holds_a_shard_with_hosts)
    first.kill()
    restarted = estate.start_worker(wait=False)
    _wait("the audit to finish", lambda: store.scan(scan_id)["status"] == "done")

    shard = next(s for s in store.shards(scan_id) if s["index"] == held["index"])
    assert shard["state"] == "done" and shard["attempts"] >= 2
    assert not str(shard["worker"]).startswith(first.node)
    assert str(shard["worker"]).startswith((other.node, restarted.node))
    assert {s["state"] for s in store.shards(scan_id)} == {"done"}
    clean = json.loads(clean_json.read_text())["devices"]
    audited = store.document(scan_id)["devices"]
    keys = [(d["address"], d.get("channel")) for d in audited]
    assert len(keys) == len(set(keys)), "a host was saved twice"
    assert _inventory(audited) == _inventory(clean)
    assert len(clean) > 20


def _south_connections(estate: Estate) -> int:
    south = ipaddress.ip_network(estate.south)
    return sum(count for key, count in estate.zoo.stats()["tcp_accepted"].items()
               if ipaddress.ip_address(key.rsplit(":", 1)[0]) in south)


def test_a_site_worker_never_scans_another_sites_scope(
        estate: Estate, capsys: pytest.CaptureFixture[str]) -> None:
    from camaudit.dist import celery_app
    from camaudit.dist.run import start_sharded_scan
    from camaudit.pipeline import ScanOptions

    if not any(w.proc.poll() is None for w in estate.workers):
        estate.start_worker()
    before = _south_connections(estate)
    south_audit = estate.audit(capsys, "south")  # queued on site.south, which no worker consumes
    store = estate.store()
    # north's queue is handed a shard of south's audit, and a "north" audit of south's
    # networks (as a stale or foreign sites file would make): both are refused
    stray = start_sharded_scan(store, [estate.south], [], ScanOptions(site="north"), size=64)
    celery_app.configure(estate.broker)
    celery_app.scan_shard.apply_async((south_audit, 0), queue="site.north")
    celery_app.scan_shard.apply_async((stray, 0), queue="site.north")
    refused = _wait("both refusals", lambda: (store.refusals(south_audit),
                                             store.refusals(stray))
                    if store.refusals(south_audit) and store.refusals(stray) else None, 60)
    assert "belongs to site 'south'" in refused[0][0][1]
    assert f"its scope has {estate.south} outside site north's scope" in refused[1][0][1]
    for scan_id in (south_audit, stray):
        assert {s["state"] for s in store.shards(scan_id)} == {"pending"}
        assert store.done_addresses(scan_id) == set()
    time.sleep(1.0)
    assert _south_connections(estate) == before


def test_cancel_stops_an_audit_and_audits_shows_progress(
        estate: Estate, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
        ) -> None:
    if not any(w.proc.poll() is None for w in estate.workers):
        estate.start_worker()
    scan_id = estate.audit(capsys, "north")
    store = estate.store()
    _wait("a shard to save hosts", lambda: store.done_addresses(scan_id), 60)
    done_before = {s["index"] for s in store.shards(scan_id) if s["state"] == "done"}
    assert cli(capsys, "cancel", str(scan_id), "--db", estate.db).startswith(
        f"audit {scan_id} cancelled: ")
    assert store.scan(scan_id)["status"] == "cancelled"
    states = {s["index"]: s["state"] for s in store.shards(scan_id)}
    assert {i for i, state in states.items() if state != "cancelled"} == done_before
    saved = [-1]

    def nothing_saved_for_a_while() -> bool:  # the running shards stopped at a checkpoint
        time.sleep(1.5)
        saved[:] = [len(store.done_addresses(scan_id)), *saved]
        return saved[0] == saved[1]

    _wait("the running shards to stop", nothing_saved_for_a_while, 30)
    north = ipaddress.ip_network(estate.north)
    assert saved[0] < sum(ipaddress.ip_address(d["address"]) in north
                          for d in estate.zoo.devices), "the audit ran to its end"
    assert {s["index"]: s["state"] for s in store.shards(scan_id)} == states
    assert "no shard left to cancel" in cli(capsys, "cancel", str(scan_id), "--db", estate.db)
    states_list = list(states.values())

    monkeypatch.setenv("COLUMNS", "200")
    listing = cli(capsys, "audits", "--db", estate.db)
    cells = [[cell.strip() for cell in line.replace("┃", "│").split("│")[1:-1]]
             for line in listing.splitlines() if line.startswith(("│", "┃"))]
    header, rows = cells[0], {int(row[0]): dict(zip(cells[0], row, strict=True))
                              for row in cells[1:]}
    assert header == ["id", "site", "status", "started", "pending", "running", "done",
                      "cancelled", "hosts", "devices"]
    row = rows[scan_id]
    assert (row["site"], row["status"], row["pending"], row["running"], row["done"],
            row["cancelled"]) == ("north", "cancelled", "0", "0",
                                  str(states_list.count("done")),
                                  str(states_list.count("cancelled")))
    assert int(row["hosts"]) == len(store.done_addresses(scan_id))
    assert any(r["site"] == "south" and r["pending"] != "0" for r in rows.values())


def test_the_scheduler_starts_each_sites_audit_when_due(
        estate: Estate, capsys: pytest.CaptureFixture[str]) -> None:
    import redis

    log = estate.tmp / "schedule.log"
    with log.open("wb") as fh:
        beat = subprocess.Popen(_camaudit("schedule", *estate.common(), "--state",
                                          str(estate.tmp / "beat-state")),
                                stdout=fh, stderr=subprocess.STDOUT, env=ENV)
    try:
        line = _wait("the scheduler to start east's audit", lambda: re.search(
            r"started audit (\d+) of site east", log.read_text()), 60)
    finally:
        beat.send_signal(signal.SIGTERM)
        beat.wait(15)
    store = estate.store()
    audit = store.scan(int(line[1]))
    assert (audit["site"], audit["targets"]) == ("east", [estate.south])
    shards = store.shards(int(line[1]))
    assert [s["state"] for s in shards] == ["pending"] * len(shards)
    with redis.Redis.from_url(estate.broker) as broker:
        queued = broker.llen("site.east")
        assert isinstance(queued, int) and queued >= len(shards)
        # a broker that lost its queue: the audit's open shards are queued again
        again = cli(capsys, "audit", "east", *estate.common(), "--resume", line[1])
        assert again.startswith(f"audit {line[1]} of site east: {len(shards)} shard")
        assert broker.llen("site.east") == queued + len(shards)


def test_only_shards_an_interrupted_start_left_unsent_are_found(tmp_path: Path) -> None:
    """What the scheduler queues again: pending shards of a running audit, bound for a
    site's queue, never sent, recorded long enough ago that no start is still at work."""
    import datetime as dt

    from camaudit.dist.run import start_sharded_scan
    from camaudit.model import utcnow
    from camaudit.pipeline import ScanOptions

    store = Store(str(tmp_path / "queued.db"))

    def record(queue: str | None) -> int:
        return start_sharded_scan(store, ["127.60.9.0-127.60.9.11"], [],
                                  ScanOptions(ports=[9]), size=4, queue=queue)

    north, local, south = record("site.north"), record(None), record("site.south")
    queues = ["site.north", "site.south"]
    assert store.unqueued_shards(queues, utcnow() - dt.timedelta(minutes=1)) == []
    later = utcnow() + dt.timedelta(minutes=5)  # as seen five minutes from now
    assert store.unqueued_shards(queues, later) == [(north, "site.north", [0, 1, 2]),
                                                    (south, "site.south", [0, 1, 2])]
    store.mark_queued(north, [0])
    assert store.claim_shard(north, 1, "a worker")  # running: it was sent after all
    store.cancel_scan(south)
    assert store.unqueued_shards(queues, later) == [(north, "site.north", [2])]
    assert store.unqueued_shards(["site.east"], later) == []
    assert [s["queue"] for s in store.shards(local)] == [None] * 3  # scan --workers: never
    store.close()


def test_an_audit_whose_start_was_interrupted_gets_its_shards_queued(
        estate: Estate) -> None:
    """A scheduler killed while starting an audit (recorded, one message of four sent):
    the next scheduler queues all four, and the shard queued twice runs once."""
    import datetime as dt

    import redis
    import sqlalchemy as sa

    from camaudit.dist import celery_app
    from camaudit.dist import sites as sites_file
    from camaudit.model import utcnow
    from camaudit.store import schema

    for worker in estate.workers:  # nobody takes north's shards until they are all queued
        if worker.site == "north":
            worker.stop()
    store = estate.store()
    north = sites_file.load(estate.sites)["north"]
    scan_id = celery_app.create_audit(store, north)
    celery_app.configure(estate.broker)
    celery_app.scan_shard.apply_async((scan_id, 0), queue=north.queue)
    with store.engine.begin() as conn:  # ... and the scheduler was killed three minutes ago
        conn.execute(sa.update(schema.shards).where(schema.shards.c.scan_id == scan_id)
                     .values(updated=utcnow() - dt.timedelta(minutes=3)))
    assert [s["queued"] for s in store.shards(scan_id)] == [None] * 4

    log = estate.tmp / "schedule-again.log"
    with redis.Redis.from_url(estate.broker) as broker:
        before = broker.llen(north.queue)
        assert isinstance(before, int)
        with log.open("wb") as fh:
            beat = subprocess.Popen(_camaudit("schedule", *estate.common(), "--state",
                                              str(estate.tmp / "beat-state-again")),
                                    stdout=fh, stderr=subprocess.STDOUT, env=ENV)
        try:
            _wait("the scheduler to queue the audit's shards",
                  lambda: f"audit {scan_id}: queued 4 shards" in log.read_text(), 60)
        finally:
            beat.send_signal(signal.SIGTERM)
            beat.wait(15)
        assert broker.llen(north.queue) == before + 4
    assert all(s["queued"] is not None for s in store.shards(scan_id))

    worker = estate.start_worker("north")

    def runs() -> list[str]:
        return [line for line in worker.log.read_text().splitlines()
                if "camaudit.scan_shard[" in line and " succeeded in " in line]

    _wait("the five messages to be taken", lambda: len(runs()) == 5, 120)
    assert sum("{'addresses': 0," in line for line in runs()) == 1  # one found shard 0 done
    assert store.scan(scan_id)["status"] == "done"
    shards = store.shards(scan_id)
    assert [s["state"] for s in shards] == ["done"] * 4
    assert [s["attempts"] for s in shards] == [1] * 4  # shard 0's second message: a no-op
    north_net = ipaddress.ip_network(estate.north)
    assert {a.split("#")[0] for a in store.done_addresses(scan_id)} == {
        d["address"] for d in estate.zoo.devices
        if ipaddress.ip_address(d["address"]) in north_net}
    assert store.scan(scan_id)["stats"]["addresses"] == north_net.num_addresses
