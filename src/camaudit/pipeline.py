"""One scan, end to end: scope -> sweep -> probes -> identify -> assess -> store.

Addresses stream from the scope in ascending order into a bounded set of
host tasks. Each host with an open port is probed, identified, assessed and
saved (finished hosts are written in small batches, each batch in one
transaction); the *cursor* (every address at or below it is finished and
saved) is saved every second. ``--resume`` rebuilds the same scope from the
stored targets and name resolutions, skips addresses at or below the cursor
and hosts already saved, and carries on.

One runner drives a whole scan, or one shard of it (``dist/run.py``): then it
walks only the shard's address range and hands its cursor to the shard.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from camaudit import __version__
from camaudit.assess import PolicySet, assess, load_policies
from camaudit.credentials import CredentialBook
from camaudit.identify import connected, identify
from camaudit.knowledge import kb_versions
from camaudit.model import Device, Observation
from camaudit.netio import Budget, Net, NetError, sweep_session
from camaudit.probes import registry
from camaudit.probes.base import Credentials
from camaudit.scope import Scope
from camaudit.store import Store
from camaudit.sweep import DEFAULT_PORTS, sweep_hosts


@dataclass
class ScanOptions:
    ports: list[int] = field(default_factory=lambda: list(DEFAULT_PORTS))
    connect_timeout: float = 1.0
    probe_timeout: float = 3.0
    host_timeout: float = 20.0
    rate: float = 0.0
    max_sockets: int = 1024
    thorough: bool = False
    probes: bool = True  # False: sweep only (open ports saved, no probe, no identification)
    policies: list[str] = field(default_factory=lambda: ["all"])
    site: str | None = None


@dataclass
class Stats:
    addresses: int = 0
    hosts_up: int = 0
    open_ports: int = 0
    devices: int = 0
    findings: int = 0
    probe_errors: int = 0
    emfile_events: int = 0
    elapsed: float = 0.0


ProgressFn = Callable[[Stats], None]

#: Finished hosts are written in one transaction once this many wait, or once the oldest
#: has waited SAVE_DELAY seconds (and at every checkpoint): fewer, shorter write locks
#: when several processes share one SQLite store, and a kill loses little.
SAVE_BATCH = 16
SAVE_DELAY = 0.25

#: Connection attempts per sweep task: a chunk holds SWEEP_CHUNK // len(ports) addresses
#: (at least one), swept as one batch.
SWEEP_CHUNK = 64


class Cursor:
    """Low-water mark over addresses handed out in ascending order."""

    def __init__(self) -> None:
        self._pending: deque[list[Any]] = deque()
        self.value: str | None = None

    def start(self, address: str) -> list[Any]:
        slot = [address, False]
        self._pending.append(slot)
        return slot

    def finish(self, slot: list[Any]) -> None:
        slot[1] = True
        while self._pending and self._pending[0][1]:
            self.value = self._pending.popleft()[0]


def conclude(address: str, observations: list[Observation], ports: list[int],
             policies: PolicySet, site: str | None = None) -> Device:
    """Identify and assess one host from its evidence (shared by scans and passive ingest)."""
    device = identify(address, observations)
    device.ports = sorted(set(ports) | set(device.ports))
    device.site = site
    device.analytics = connected.analytics_of(observations)
    device.findings = assess(device, policies)
    return device


def conclude_all(address: str, observations: list[Observation], ports: list[int],
                 policies: PolicySet, site: str | None = None
                 ) -> tuple[Device, list[tuple[Device, list[Observation]]]]:
    """The host, and each camera it reports as a recorder (identified and assessed alike)."""
    own, channels = connected.split(observations)
    device = conclude(address, own, ports, policies, site)
    children = []
    for number in sorted(channels):
        child = connected.connected_device(address, number, channels[number])
        child.site = site
        child.findings = assess(child, policies)
        children.append((child, channels[number]))
    return device, children


async def probe_host(net: Net, address: str, open_ports: list[int], *,
                     thorough: bool, stats: Stats,
                     timeout: float | None = None) -> list[Observation]:
    """Run every probe that fits the open ports; a failing probe costs only itself.

    At the host's deadline (`timeout`) the probes still running are cancelled and the
    evidence of those that finished is kept: on a slow or overloaded network a host
    then loses one late reply, not all it said.
    """
    jobs = registry.plan(open_ports, thorough=thorough)

    async def one(run: Any, port: int) -> list[Observation]:
        try:
            result: list[Observation] = await run(net, address, port)
            return result
        except NetError:
            stats.probe_errors += 1
            return []

    tasks = [asyncio.ensure_future(one(p.run, port)) for p, port in jobs]
    if not tasks:
        return []
    done, late = await asyncio.wait(tasks, timeout=timeout)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    return [obs for task in tasks if task in done for obs in task.result()]


class ScanRunner:
    """Drives one scan (new or resumed) against a store."""

    def __init__(self, store: Store, scan_id: int, scope: Scope, options: ScanOptions,
                 policies: PolicySet, progress: ProgressFn | None = None,
                 credentials: Credentials | None = None) -> None:
        self.store = store
        self.scan_id = scan_id
        self.scope = scope
        self.options = options
        self.policies = policies
        self.progress = progress
        self.stats = Stats()
        self.cursor = Cursor()
        self.credentials = credentials  # held in memory only: never stored or logged
        self.logins: CredentialBook | None = None  # per device/site logins (--credentials)
        self.on_device: Callable[[Device], None] | None = None
        #: Saves the cursor every second; returning False stops the run early (a shard
        #: whose scan was cancelled): no new address is started, hosts in flight finish.
        self.save_cursor: Callable[[str | None], bool | None] = (
            lambda cursor: store.set_cursor(scan_id, cursor))
        #: Called once every address has been handed to the sweep (its last hosts may
        #: still be probed for seconds): a shard's worker may start the next one then.
        self.on_swept: Callable[[], None] | None = None
        self.stopped = False
        self._unsaved: list[tuple[Device, list[Observation],
                                  list[tuple[Device, list[Observation]]]]] = []
        self._unsaved_since = 0.0

    async def _host(self, net: Net, address: str, open_ports: list[int]) -> None:
        """Probe, identify, assess and save one host that showed open ports."""
        opts = self.options
        self.stats.hosts_up += 1
        self.stats.open_ports += len(open_ports)
        observations: list[Observation] = []
        if not opts.probes:
            self._save(Device(address=address, ports=open_ports, site=opts.site), observations)
            return
        if self.logins is not None:  # this host's own login, else the --user one
            login = self.logins.for_host(address, opts.site) or self.credentials
            net = dataclasses.replace(net, credentials=login)
        observations = await probe_host(net, address, open_ports, thorough=opts.thorough,
                                        stats=self.stats, timeout=opts.host_timeout)
        device, children = conclude_all(address, observations, open_ports, self.policies,
                                        opts.site)
        self._save(device, [o for o in observations if o.probe != "channel"], children)

    def _save(self, device: Device, observations: list[Observation],
              children: list[tuple[Device, list[Observation]]] | None = None) -> None:
        if not self._unsaved:
            self._unsaved_since = time.monotonic()
        self._unsaved.append((device, observations, children or []))
        if (len(self._unsaved) >= SAVE_BATCH
                or time.monotonic() - self._unsaved_since >= SAVE_DELAY):
            self._flush()
        for one in [device, *(child for child, _ in children or ())]:
            if self.on_device is not None:
                self.on_device(one)
            self.stats.devices += 1 if one.device_type not in (None, "other") else 0
            self.stats.findings += len(one.findings)

    def _flush(self) -> None:
        batch, self._unsaved = self._unsaved, []
        self.store.save_hosts(self.scan_id, batch)

    async def run(self, after: str | None = None, skip: set[str] | None = None, *,
                  first: str | None = None, last: str | None = None,
                  budget: Budget | None = None) -> Stats:
        """Walk the scope (only ``first..last`` if given) after `after`, skipping `skip`.

        `budget`: the caller's (a local worker's share of the scan's budget); by
        default the runner's own, from the options.
        """
        opts = self.options
        if budget is None:
            budget = Budget(max_sockets=opts.max_sockets, rate=opts.rate)
        net = Net(scope=self.scope, budget=budget, connect_timeout=opts.connect_timeout,
                  read_timeout=opts.probe_timeout, credentials=self.credentials)
        self.cursor.value = after  # a checkpoint before any progress keeps the old cursor
        addresses = self.scope.addresses(after=after, first=first, last=last)
        # one epoll set and its reusable sockets for the scan; an open port's connection
        # kept for its first probe, when there are probes
        with sweep_session(budget, park=opts.probes):
            return await self._run(net, budget, addresses, skip or set())

    async def _run(self, net: Net, budget: Budget, addresses: Iterator[str],
                   skip: set[str]) -> Stats:
        opts = self.options
        in_flight: set[asyncio.Task[None]] = set()
        # Addresses are swept in chunks (one task and one epoll batch per SWEEP_CHUNK
        # connects, so an empty address costs no task of its own), each host with open
        # ports is then probed in a task of its own. Chunks being swept: enough to keep
        # every socket busy, few enough that they rarely queue. Hosts being probed mostly
        # wait for replies on a few sockets (each still takes a budget slot), so more of
        # them may be in flight: a slow probe must not hold back the sweep.
        ports = opts.ports
        chunk_size = max(1, SWEEP_CHUNK // max(1, len(ports)))
        sweep_limit = max(2, 2 * budget.max_sockets // max(1, len(ports)) // chunk_size)
        probe_limit = max(16, budget.max_sockets // 2)
        sweeping = 0
        probing = 0
        wakeup: list[asyncio.Future[None]] = []  # the dispatcher waits on this, O(1)
        started = time.monotonic()
        last_save = started
        failed: list[BaseException] = []
        loop = asyncio.get_running_loop()

        def wake() -> None:
            if wakeup and not wakeup[0].done():
                wakeup[0].set_result(None)

        def probe_done(task: asyncio.Task[None], slot: list[Any]) -> None:
            nonlocal probing
            probing -= 1
            in_flight.discard(task)
            wake()
            if task.cancelled():
                return
            exc = task.exception()
            if exc is not None:
                failed.append(exc)  # not finished: the cursor must not pass it
            else:
                self.cursor.finish(slot)

        async def sweep(chunk: list[tuple[str, list[Any]]]) -> None:
            nonlocal probing
            found = await sweep_hosts(net, [address for address, _ in chunk], ports,
                                      opts.connect_timeout)
            self.stats.addresses += len(chunk)
            for address, slot in chunk:
                open_ports = found[address]
                if not open_ports:
                    self.cursor.finish(slot)
                    continue
                probing += 1
                task = loop.create_task(self._host(net, address, open_ports))
                task.add_done_callback(lambda t, s=slot: probe_done(t, s))  # type: ignore[misc]
                in_flight.add(task)

        def sweep_done(task: asyncio.Task[None]) -> None:
            nonlocal sweeping
            sweeping -= 1
            in_flight.discard(task)
            wake()
            if not task.cancelled() and task.exception() is not None:
                failed.append(task.exception())  # type: ignore[arg-type]

        async def dispatch(chunk: list[tuple[str, list[Any]]]) -> None:
            nonlocal sweeping, last_save
            while sweeping >= sweep_limit or probing >= probe_limit:
                wakeup[:] = [loop.create_future()]
                await wakeup[0]
            if failed:
                raise failed[0]
            sweeping += 1
            task = loop.create_task(sweep(chunk))
            task.add_done_callback(sweep_done)
            in_flight.add(task)
            now = time.monotonic()
            if now - last_save >= 1.0:
                last_save = now
                self._checkpoint(budget, started)

        chunk: list[tuple[str, list[Any]]] = []
        for address in addresses:
            if self.stopped:
                break
            if address in skip:
                continue
            chunk.append((address, self.cursor.start(address)))
            if len(chunk) >= chunk_size:
                await dispatch(chunk)
                chunk = []
        if chunk:
            await dispatch(chunk)
        if self.on_swept is not None:
            self.on_swept()
        while in_flight:
            await asyncio.wait(set(in_flight), timeout=1.0)
            self._checkpoint(budget, started)
        if failed:
            raise failed[0]
        self._checkpoint(budget, started)
        return self.stats

    def _checkpoint(self, budget: Budget, started: float) -> None:
        self.stats.emfile_events = budget.emfile_events
        self.stats.elapsed = time.monotonic() - started
        self._flush()  # first the hosts, then the cursor that passes them
        if self.save_cursor(self.cursor.value) is False:
            self.stopped = True
        if self.scope.refused:
            self.store.add_refusals(self.scan_id, self.scope.refused)
            self.scope.refused.clear()
        if self.progress:
            self.progress(self.stats)


def new_scan(store: Store, targets: list[str], excludes: list[str],
             options: ScanOptions, scope: Scope | None = None) -> tuple[int, Scope]:
    """Record a new scan; `scope` is the one already built from `targets` (and shown), if any."""
    if scope is None:
        scope = Scope(targets, excludes)
    policies = load_policies(options.policies)  # fail on a bad policy before scanning
    del policies
    scan_id = store.create_scan(
        targets=targets, excludes=excludes, resolved=scope.resolved, ports=options.ports,
        options={k: v for k, v in asdict(options).items()
                 if k not in ("ports", "policies", "site")},
        policies=options.policies, knowledge=kb_versions(), tool_version=__version__,
        site=options.site)
    return scan_id, scope


def stored_plan(store: Store, scan_id: int) -> tuple[Scope, ScanOptions]:
    """The scope and options of a recorded scan, rebuilt as they were when it started."""
    scan = store.scan(scan_id)
    # loose: the targets were checked when the scan was created (perhaps with --loose)
    scope = Scope(scan["targets"], scan["excludes"], resolved=scan["resolved"], loose=True)
    options = ScanOptions(ports=list(scan["ports"]), policies=list(scan["policies"]),
                          site=scan["site"], **scan["options"])
    return scope, options


def resume_point(store: Store, scan_id: int) -> tuple[Scope, ScanOptions, str | None, set[str]]:
    scope, options = stored_plan(store, scan_id)
    return scope, options, store.scan(scan_id)["cursor"], store.done_addresses(scan_id)


async def execute(store: Store, scan_id: int, scope: Scope, options: ScanOptions,
                  progress: ProgressFn | None = None, after: str | None = None,
                  skip: set[str] | None = None,
                  credentials: Credentials | None = None,
                  on_device: Callable[[Device], None] | None = None,
                  logins: CredentialBook | None = None) -> Stats:
    runner = ScanRunner(store, scan_id, scope, options, load_policies(options.policies),
                        progress, credentials)
    runner.on_device = on_device
    runner.logins = logins
    stats = await runner.run(after=after, skip=skip)
    store.finish_scan(scan_id, asdict(stats))
    totals = store.scan(scan_id)["stats"] or {}
    for name in ("hosts_up", "devices", "findings", "elapsed"):
        setattr(stats, name, totals.get(name, getattr(stats, name)))
    return stats
