"""Commands of the scanning core: scan, show, explain."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Annotated

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
from camaudit.errors import UsageError
from camaudit.model import SURVEILLANCE_TYPES, Device, Finding
from camaudit.pipeline import ScanOptions, Stats, execute, new_scan, resume_point
from camaudit.probes.base import Credentials
from camaudit.scope import LARGE_SCOPE, Scope
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
    app.command(epilog="Examples:\n\n  camaudit scan 192.0.2.0/24 --json out.json\n\n"
                "  camaudit scan @sites.txt --exclude 192.0.2.1 --policy us-federal "
                "--fail-on high\n\n  camaudit scan --resume last")(scan)
    app.command(epilog="Example:\n\n  camaudit show last")(show)
    app.command(epilog="Example:\n\n  camaudit explain 192.0.2.7 --scan last")(explain)
    app.command(name="scans", epilog="Example:\n\n  camaudit scans --db audit.db")(list_scans)


def scan(
    targets: Annotated[list[str] | None, typer.Argument(
        help="Addresses, CIDR blocks, ranges (a.b.c.d-e), host names or @file.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", "-x", help="Never touch these (same forms as targets).")] = None,
    ports: Annotated[str | None, typer.Option(
        help="TCP ports to sweep, e.g. 80,443,8000-8010 (default: camera ports).")] = None,
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
    yes: Annotated[bool, typer.Option("--yes", "-y", help=f"Allow scopes over {LARGE_SCOPE:,}"
                                      " addresses.")] = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Find, identify and assess the surveillance devices in the given scope."""
    if fail_on is not None and fail_on not in SEVERITY_ORDER:
        raise UsageError(f"--fail-on must be one of {', '.join(SEVERITY_ORDER)}")
    credentials = _credentials(user, password_env)
    store = Store(db)
    if resume:
        if targets:
            raise UsageError("give either targets or --resume, not both")
        scan_id = store.resolve_scan_id(resume)
        scope, options, after, skip = resume_point(store, scan_id)
        store.reopen_scan(scan_id)
        info(f"resuming scan {scan_id} after {after or 'the start'} "
             f"({len(skip)} hosts already saved)")
    else:
        if not targets:
            raise UsageError("no targets: give addresses, networks, ranges, names or @file")
        options = ScanOptions(
            ports=parse_ports(ports) if ports else list(DEFAULT_PORTS), rate=rate,
            max_sockets=max_sockets, connect_timeout=timeout, probe_timeout=probe_timeout,
            thorough=thorough, probes=probes, policies=policy or ["all"], site=site)
        size = Scope(targets, exclude or []).size
        if size > LARGE_SCOPE and not yes:
            raise UsageError(f"the scope has {size:,} addresses (over {LARGE_SCOPE:,}); "
                             "check it and add --yes to go ahead")
        scan_id, scope = new_scan(store, list(targets), list(exclude or []), options)
        after, skip = None, set()
        info(f"scan {scan_id}: {scope.size:,} addresses x {len(options.ports)} ports "
             f"-> {store.url}")
    with progress_reporter(scope.size) as report:
        stats = run_async(execute(store, scan_id, scope, options, report,  # type: ignore[arg-type]
                                  after=after, skip=skip, credentials=credentials,
                                  on_device=_device_line if Verbosity.verbose() else None))
    info(f"scan {scan_id} done: {stats.hosts_up} hosts up, {stats.devices} surveillance "
         f"devices, {stats.findings} findings in {stats.elapsed:.1f}s")
    for line in digest(store.iter_devices(scan_id)):
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


def _device_line(device: Device) -> None:
    """-v: one line per host as it is finished (device strings made terminal-safe)."""
    if device.device_type in (None, "other") and not device.manufacturer:
        return
    names = " ".join(sanitize(v) for v in (device.manufacturer or "maker?", device.model or "")
                     if v)
    brand = (f" sold as {sanitize(device.brand)}"
             if device.brand and device.brand != device.manufacturer else "")
    worst = _worst(device.findings)
    info(f"  {device.address:<15} {device.device_type or '?':<8} {names}{brand}"
         f"{' fw ' + sanitize(device.firmware) if device.firmware else ''}"
         f"{' · ' + str(len(device.findings)) + ' findings, worst ' + worst if worst else ''}")


def digest(devices: Iterable[Device]) -> list[str]:
    """A few plain lines on what the scan found: makers, restricted, exploitable."""
    makers: Counter[str] = Counter()
    kinds: Counter[tuple[str, str]] = Counter()
    for d in devices:
        if d.device_type not in SURVEILLANCE_TYPES:
            continue
        makers[d.manufacturer or "unknown maker"] += 1
        kinds.update({(f.kind, f.status) for f in d.findings})
    if not makers:
        return []
    top = ", ".join(f"{sanitize(m)} {n}" for m, n in makers.most_common(6))

    def count(kind: str, status: str = "open") -> int:
        return kinds[(kind, status)]
    return [f"  by maker: {top}",
            f"  restricted maker: {count('restriction')} · known-exploited firmware: "
            f"{count('vulnerability')} (+{count('vulnerability', 'possible')} possibly) · "
            f"ethnicity analytics: {count('analytics')} · maker unknown: "
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
