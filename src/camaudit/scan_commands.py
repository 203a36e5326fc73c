"""Commands of the scanning core: scope, scan, show, explain.

``scope`` and ``scan`` build the scope the same way (:func:`build_scope`) and
describe it with the same summary, so what ``scope`` prints is what ``scan``
walks.
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from camaudit.cliutil import (
    DEFAULT_DB,
    DbOption,
    ScanIdArg,
    Verbosity,
    err,
    info,
    is_tty,
    out,
    run_async,
    sanitize,
)
from camaudit.credentials import CredentialBook
from camaudit.credentials import load as load_logins
from camaudit.dist.local import WorkerSpec, default_workers, run_in_process, run_local
from camaudit.dist.shards import ONE_PROCESS_MAX, plan_shards, shard_size
from camaudit.errors import UsageError
from camaudit.model import Device, Finding
from camaudit.pipeline import ScanOptions, Stats, execute, new_scan, resume_point
from camaudit.probes.base import Credentials
from camaudit.scope import LARGE_SCOPE, Scope, ScopeSummary
from camaudit.store import Store
from camaudit.sweep import DEFAULT_PORTS, parse_ports

SEVERITY_ORDER = ("low", "medium", "high", "critical")


@contextmanager
def progress_reporter(total: int) -> Iterator[object]:
    """A rich progress bar on a terminal; a plain line every 5 s otherwise (CI, pipes)."""
    if Verbosity.quiet():
        yield lambda stats: None
        return
    if is_tty():
        bar = Progress(
            TextColumn("[bold]scan"), BarColumn(),
            TextColumn("{task.completed}/{task.total} addresses"),
            TextColumn("{task.fields[ports]} open ports · {task.fields[devices]} devices"),
            TextColumn("{task.fields[rate]:.0f}/s"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=err, transient=False)
        task = bar.add_task("scan", total=total, ports=0, devices=0, rate=0.0)
        with bar:
            def update(stats: Stats) -> None:
                rate = stats.addresses / stats.elapsed if stats.elapsed else 0.0
                bar.update(task, completed=stats.addresses, ports=stats.open_ports,
                           devices=stats.devices, rate=rate)
            yield update
        return
    last = [0.0]

    def plain(stats: Stats) -> None:
        now = time.monotonic()
        if now - last[0] >= 5.0:
            last[0] = now
            rate = stats.addresses / stats.elapsed if stats.elapsed else 0.0
            info(f"progress: {stats.addresses}/{total} addresses, {stats.open_ports} open "
                 f"ports, {stats.devices} devices, {rate:.0f} addresses/s")
    yield plain


def register(app: typer.Typer) -> None:
    app.command(epilog="Examples:\n\n  camaudit scope 10.20.0.0/16 --exclude 10.20.99.0/24\n\n"
                "  camaudit scope @sites.txt --json scope.json", name="scope")(scope_command)
    app.command(epilog="Examples:\n\n  camaudit scan 192.0.2.0/24 --json out.json\n\n"
                "  camaudit scan @sites.txt --exclude 192.0.2.1 --policy us-federal "
                "--fail-on high\n\n  camaudit scan 198.51.100.0/24 --workers 2 --shard-size 64\n\n"
                "  camaudit scan --resume last")(scan)
    app.command(epilog="Example:\n\n  camaudit show last")(show)
    app.command(epilog="Example:\n\n  camaudit explain 192.0.2.7 --scan last")(explain)
    app.command(name="scans", epilog="Example:\n\n  camaudit scans --db audit.db")(list_scans)


TargetsArg = Annotated[list[str] | None, typer.Argument(
    help="Addresses, CIDR blocks, ranges (a.b.c.d-e), host names or @file.")]
ExcludeOption = Annotated[list[str] | None, typer.Option(
    "--exclude", "-x", help="Never touch these (same forms as targets).")]
PortsOption = Annotated[str | None, typer.Option(
    help="TCP ports to sweep, e.g. 80,443,8000-8010 (default: camera ports).")]
LooseOption = Annotated[bool, typer.Option(
    "--loose", help="Take a network written with host bits set (192.0.2.7/24) as its network "
    "and a backwards range (192.0.2.9-3) as its reverse, instead of refusing them.")]


def build_scope(targets: list[str], exclude: list[str] | None, loose: bool) -> Scope:
    """The scope both `camaudit scope` and `camaudit scan` use (names resolved once, here)."""
    if not targets:
        raise UsageError("no targets: give addresses, networks, ranges, names or @file")
    return Scope(targets, exclude or [], loose=loose)


def scope_command(
    targets: TargetsArg = None,
    exclude: ExcludeOption = None,
    ports: PortsOption = None,
    loose: LooseOption = False,
    json_out: Annotated[str | None, typer.Option(
        "--json", help="Write the summary as JSON here ('-' for stdout).")] = None,
) -> None:
    """Show what a scan of these targets would touch, sending nothing to them.

    Lists the networks left after exclusions, the address count, the ports, the
    special-purpose addresses left out and why, and what host names resolved to
    (resolving them is the only traffic, to the system's resolver).
    """
    summary = build_scope(targets or [], exclude, loose).summary(
        parse_ports(ports) if ports else DEFAULT_PORTS)
    if json_out == "-":
        out.print(json.dumps(summary.as_dict(), indent=2), markup=False)
        return
    for line in scope_lines(summary, every_network=True):
        out.print(line, markup=False)
    if json_out:
        try:
            with open(json_out, "w", encoding="utf-8") as fh:
                json.dump(summary.as_dict(), fh, indent=2)
                fh.write("\n")
        except OSError as exc:
            raise UsageError(f"cannot write {json_out}: {exc.strerror or exc}") from exc


def scope_lines(summary: ScopeSummary, *, every_network: bool = False,
                limit: int = 6) -> list[str]:
    """The scope summary as plain lines.

    `every_network` (``camaudit scope``): one line per network, the ports, and
    loopback named on its own; otherwise (``camaudit scan``) only what is worth
    a look before the scan starts.
    """
    nets = summary.networks
    head = (f"scope: {summary.addresses:,} {_plural(summary.addresses, 'address')} in "
            f"{len(nets)} {_plural(len(nets), 'network')}")
    if not every_network and nets:
        more = f", … {len(nets) - limit} more" if len(nets) > limit else ""
        head += f" ({', '.join(nets[:limit])}{more})"
    if summary.ports:
        head += f" x {len(summary.ports)} {_plural(len(summary.ports), 'port')}"
    lines = [head]
    if every_network:
        lines += [f"  {net:<43} {_block_size(net):>15,}" for net in nets]
    if summary.excluded:
        lines.append(f"excluded by --exclude: {summary.excluded:,} "
                     f"{_plural(summary.excluded, 'address')}")
    if summary.left_out:
        total = sum(c.addresses for c in summary.left_out)
        lines.append(f"left out: {total:,} special-purpose {_plural(total, 'address')} "
                     "(name a block on its own to scan it)")
        lines += [f"  {c.block:<20} {c.addresses:>15,}  {c.name}, {c.rfc}: {c.why}"
                  for c in summary.left_out]
    lines += [f"kept, named on its own: {c.block} {c.name}, {c.rfc}: {c.addresses:,} "
              f"{_plural(c.addresses, 'address')}" for c in summary.named_special
              if every_network or not c.loopback]
    lines += [f"host name {sanitize(name)} -> {', '.join(addrs) or 'no address'}"
              for name, addrs in summary.resolved.items()]
    if summary.ports and every_network:
        lines.append(f"ports: {_port_ranges(summary.ports)}")
    return lines


def _plural(n: int, word: str) -> str:
    return word if n == 1 else (word + "es" if word.endswith("s") else word + "s")


def _block_size(net: str) -> int:
    return ipaddress.ip_network(net).num_addresses


def _port_ranges(ports: list[int]) -> str:
    """[21, 23, 80, 81, 88] -> '21,23,80-81,88'."""
    parts: list[str] = []
    start = prev = ports[0]
    for port in [*ports[1:], None]:
        if port is not None and port == prev + 1:
            prev = port
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if port is not None:
            start = prev = port
    return ",".join(parts)


def scan(
    targets: TargetsArg = None,
    exclude: ExcludeOption = None,
    ports: PortsOption = None,
    rate: Annotated[float, typer.Option(help="Max connection attempts per second (0 = no "
                                        "limit).", min=0)] = 0.0,
    max_sockets: Annotated[int, typer.Option(help="Max sockets in flight.", min=1)] = 1024,
    timeout: Annotated[float, typer.Option(help="Connect timeout per port, seconds.",
                                           min=0.05)] = 1.0,
    probe_timeout: Annotated[float, typer.Option(help="Read timeout per probe, seconds.",
                                                 min=0.1)] = 3.0,
    thorough: Annotated[bool, typer.Option(help="Run every probe on every open port.")] = False,
    probes: Annotated[bool, typer.Option(help="Probe open ports and identify devices; "
                                         "--no-probes only sweeps for open ports.")] = True,
    policy: Annotated[list[str] | None, typer.Option(
        help="Policy set name or YAML file; repeatable (default: all).")] = None,
    fail_on: Annotated[str | None, typer.Option(
        help="Exit 3 if an open finding is at least this severe: low|medium|high|critical.")]
        = None,
    json_out: Annotated[str | None, typer.Option("--json", help="Write the camaudit/1 "
                                                 "document here.")] = None,
    site: Annotated[str | None, typer.Option(help="Site name recorded with each device.")]
        = None,
    resume: Annotated[str | None, typer.Option(help="Resume an interrupted scan: SCAN_ID "
                                               "or 'last'.")] = None,
    user: Annotated[str | None, typer.Option(
        help="Log in as this user where a device asks (ISAPI, ONVIF, CGI); the password is "
             "read from the environment variable named by --password-env. Never stored.")]
        = None,
    password_env: Annotated[str, typer.Option(
        help="Environment variable holding the password for --user.")] = "CAMAUDIT_PASSWORD",
    credentials_file: Annotated[str | None, typer.Option(
        "--credentials", help="YAML file of logins per device/network, per site and a "
        "default (mode 0600 checked; see camaudit.credentials). Never stored.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=f"Allow scopes over {LARGE_SCOPE:,}"
                                      " addresses.")] = False,
    loose: LooseOption = False,
    workers: Annotated[int | None, typer.Option(
        help="Worker processes scanning shards of the scope (default: the number of cores; "
             "never more than shards; a one-shard scope runs in this process). Each gets "
             "an equal part of --rate and --max-sockets.", min=1)] = None,
    shard_addresses: Annotated[int | None, typer.Option(
        "--shard-size", help="Scope addresses per shard (default: about 8 shards per "
        "worker, 256 to 4,096 addresses each; a scope of 2,048 addresses or fewer is "
        "scanned in one process unless this is given).", min=1)] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Find, identify and assess the surveillance devices in the given scope."""
    if fail_on is not None and fail_on not in SEVERITY_ORDER:
        raise UsageError(f"--fail-on must be one of {', '.join(SEVERITY_ORDER)}")
    credentials = _credentials(user, password_env)
    logins = load_logins(credentials_file) if credentials_file else None
    wanted = workers or default_workers()
    sharded = False
    if resume:
        if targets:
            raise UsageError("give either targets or --resume, not both")
        store = Store(db)
        scan_id = store.resolve_scan_id(resume)
        scope, options, after, skip = resume_point(store, scan_id)
        if store.shards(scan_id):  # a sharded scan goes on shard by shard, at their cursors
            sharded = True
            left = store.reopen_shards(scan_id)
            info(f"resuming scan {scan_id}: {left} of {len(store.shards(scan_id))} shards "
                 f"left ({len(skip)} hosts already saved)")
        else:
            store.reopen_scan(scan_id)
            info(f"resuming scan {scan_id} after {after or 'the start'} "
                 f"({len(skip)} hosts already saved)")
    else:
        options = ScanOptions(
            ports=parse_ports(ports) if ports else list(DEFAULT_PORTS), rate=rate,
            max_sockets=max_sockets, connect_timeout=timeout, probe_timeout=probe_timeout,
            thorough=thorough, probes=probes, policies=policy or ["all"], site=site)
        planned = build_scope(targets or [], exclude, loose)
        lines = scope_lines(planned.summary(options.ports))
        if planned.size > LARGE_SCOPE and not yes:
            for line in lines:
                info(line)
            raise UsageError(f"the scope has {planned.size:,} addresses (over {LARGE_SCOPE:,}): "
                             "check what it covers (camaudit scope shows it), then add --yes "
                             "to go ahead")
        store = Store(db)
        shards = plan_shards(planned, shard_addresses or shard_size(planned.size, wanted))
        sharded = min(wanted, len(shards)) > 1 and (
            shard_addresses is not None or planned.size > ONE_PROCESS_MAX)
        scan_id, scope = new_scan(store, list(targets or []), list(exclude or []), options,
                                  scope=planned)
        if sharded:
            store.add_shards(scan_id, shards)
        after, skip = None, set()
        info(f"scan {scan_id} -> {store.url}")
        for line in lines:
            info(line)
    if sharded:
        stats = _run_sharded(store, scan_id, scope.size, wanted, credentials, logins)
    else:
        with progress_reporter(scope.size) as report:
            stats = run_async(execute(store, scan_id, scope, options,
                                      report,  # type: ignore[arg-type]
                                      after=after, skip=skip, credentials=credentials,
                                      logins=logins,
                                      on_device=_device_line if Verbosity.verbose() else None))
    info(f"scan {scan_id} done: {stats.hosts_up} hosts up, {stats.devices} surveillance "
         f"devices, {stats.findings} findings in {stats.elapsed:.1f}s")
    if not Verbosity.quiet():
        for line in digest(*store.tallies(scan_id)):
            info(line)
    if json_out:
        store.write_json(scan_id, json_out)
        info(f"wrote {json_out}")
    info(f"next: camaudit show {scan_id} · camaudit explain ADDRESS --scan {scan_id} · "
         f"camaudit report {scan_id} --html report.html")
    if fail_on is not None:
        from camaudit.assess import exceeds

        findings = [f for d in store.iter_devices(scan_id) for f in d.findings]
        if exceeds(findings, fail_on):
            err.print(f"camaudit: findings at or above {fail_on}: exit 3", markup=False)
            raise typer.Exit(3)


def _run_sharded(store: Store, scan_id: int, total: int, wanted: int,
                 credentials: Credentials | None, logins: CredentialBook | None) -> Stats:
    """The scan's open shards in worker processes (or here, for one), then its totals."""
    left = sum(1 for s in store.shards(scan_id) if s["state"] == "pending")
    count = max(1, min(wanted, left))
    spec = WorkerSpec(store.url, scan_id, rate_share=1.0 / count, credentials=credentials,
                      logins=logins)
    info(f"{left} shards, {count} worker {_plural(count, 'process')}")
    started = time.monotonic()
    saved = _SavedDevices(store, scan_id) if Verbosity.verbose() else None
    with progress_reporter(total) as report:
        def progress(state: dict[str, Any]) -> None:
            if saved is not None:
                saved.poll()
            report(Stats(addresses=state["addresses"], hosts_up=state["hosts"],  # type: ignore[operator]
                         open_ports=state["open_ports"], devices=state["devices"],
                         elapsed=time.monotonic() - started))
        if count == 1:
            run_in_process(store, spec, progress)
        else:
            run_local(store, spec, count, progress)
        if saved is not None:
            saved.finish()
    scan = store.scan(scan_id)
    if scan["status"] != "done":
        raise UsageError(f"scan {scan_id} is {scan['status']}, not finished: "
                         f"camaudit scan --resume {scan_id} continues it")
    known = {f.name for f in fields(Stats)}
    return Stats(**{k: v for k, v in (scan["stats"] or {}).items() if k in known})


def _device_line(device: Device) -> None:
    """-v: one line per host as it is finished."""
    line = device_line(device)
    if line is not None:
        info(line)


def device_line(device: Device) -> str | None:
    """What -v prints for a device (terminal-safe), or None for a host that is not one."""
    if device.device_type in (None, "other") and not device.manufacturer:
        return None
    names = " ".join(sanitize(v) for v in (device.manufacturer or "maker?", device.model or "")
                     if v)
    brand = (f" sold as {sanitize(device.brand)}"
             if device.brand and device.brand != device.manufacturer else "")
    worst = _worst(device.findings)
    return (f"  {device.address:<15} {device.device_type or '?':<8} {names}{brand}"
            f"{' fw ' + sanitize(device.firmware) if device.firmware else ''}"
            f"{' · ' + str(len(device.findings)) + ' findings, worst ' + worst if worst else ''}")


class _SavedDevices:
    """-v for a sharded scan: the devices worker processes found are in the store, not
    here, so each progress poll prints those saved since the last one (a bounded read).

    Every device is printed once: a host saved again (a re-run shard) is skipped by its
    key, as are the hosts a resumed scan had saved before; :meth:`finish` reads the scan
    from its first row once more, for a device PostgreSQL committed after a higher row
    id had been read.
    """

    BATCH = 500  # rows read per poll (about one a second)

    def __init__(self, store: Store, scan_id: int) -> None:
        self.store, self.scan_id = store, scan_id
        self.last = 0
        self.shown = store.done_addresses(scan_id)  # a host's address is its device's key

    def poll(self) -> bool:
        """Print the next devices saved; False when there were none."""
        devices, last = self.store.devices_after(self.scan_id, self.last, self.BATCH,
                                                 self.shown)
        for device in devices:
            self.shown.add(device.key)
            _device_line(device)
        moved, self.last = last != self.last, last
        return moved

    def finish(self) -> None:
        while self.poll():
            pass
        self.last = 0
        while self.poll():
            pass


def digest(makers: Counter[str], kinds: Counter[tuple[str, str]]) -> list[str]:
    """A few plain lines on what the scan found: makers, restricted, exploitable
    (from :meth:`Store.tallies`)."""
    if not makers:
        return []
    top = ", ".join(f"{sanitize(m)} {n}" for m, n in makers.most_common(6))

    def count(kind: str, status: str = "open") -> int:
        return kinds[(kind, status)]
    on = count("analytics", "enabled")
    return [f"  by maker: {top}",
            f"  restricted maker: {count('restriction')} · known-exploited firmware: "
            f"{count('vulnerability')} (+{count('vulnerability', 'possible')} possibly) · "
            f"ethnicity analytics: {count('analytics') + count('analytics', 'offered') + on}"
            f"{f' ({on} switched on)' if on else ''} · maker unknown: "
            f"{count('unknown-maker') + count('unknown-maker', 'possible')}"]


def _credentials(user: str | None, password_env: str) -> Credentials | None:
    if user is None:
        return None
    password = os.environ.get(password_env)
    if password is None:
        raise UsageError(f"--user given but the environment variable {password_env} is not set")
    return Credentials(user, password)


def show(scan_id: ScanIdArg = "last", db: DbOption = DEFAULT_DB) -> None:
    """Print a scan's inventory as a table."""
    store = Store(db)
    sid = store.resolve_scan_id(scan_id)
    meta = store.scan(sid)
    devices = store.devices(sid)
    table = Table(title=f"scan {sid} · {escape(', '.join(meta['targets']))} · "
                  f"{meta['status']}", show_lines=False)
    for col in ("address", "type", "brand", "maker", "model", "firmware", "conf", "findings"):
        table.add_column(col, overflow="fold")
    for d in devices:
        worst = _worst(d.findings)
        table.add_row(
            d.address, d.device_type or "?", _cell(d.brand), _cell(d.manufacturer),
            _cell(d.model), _cell(d.firmware), f"{d.confidence:.2f}",
            f"{len(d.findings)}{' · ' + worst if worst else ''}")
    out.print(table)


def explain(address: Annotated[str, typer.Argument(help="Device address.")],
            scan_id: Annotated[str, typer.Option("--scan", help="Scan id or 'last'.")] = "last",
            db: DbOption = DEFAULT_DB) -> None:
    """Explain why a device was identified as it was, field by field, with evidence."""
    from camaudit.identify import explain as explain_device

    store = Store(db)
    sid = store.resolve_scan_id(scan_id)
    devices = store.devices(sid, address)
    if not devices:
        raise UsageError(f"no device {address} in scan {sid}")
    observations = list(store.observations(sid, address))
    result = explain_device(devices[0], observations)
    if isinstance(result, list):
        for line in result:
            out.print(sanitize(line), markup=False)
    else:
        out.print(result)


def list_scans(db: DbOption = DEFAULT_DB) -> None:
    """List the scans in the store."""
    store = Store(db)
    table = Table(title=f"scans in {escape(store.url)}")
    for col in ("id", "kind", "status", "started", "targets", "devices"):
        table.add_column(col)
    for s in store.scans():
        stats = s.get("stats") or {}
        table.add_row(str(s["id"]), s["kind"], s["status"], str(s["started"])[:19],
                      escape(sanitize(", ".join(s["targets"])[:60])),
                      str(stats.get("devices", "")))
    out.print(table)


def _cell(value: str | None) -> str:
    return escape(sanitize(value)) if value else "—"


def _worst(findings: list[Finding]) -> str:
    order = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
    open_ = [f for f in findings if f.status in ("open", "possible")]  # not accepted, not leads
    if not open_:
        return ""
    worst: str = max(open_, key=lambda f: order.get(f.severity, 0)).severity
    return worst
