"""Commands of the ingest area, registered on the main app by ``cli.py``: ``camaudit ingest``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from camaudit.cliutil import DEFAULT_DB, DbOption, Verbosity, err, info, is_tty, sanitize
from camaudit.errors import IngestError
from camaudit.ingest.detect import FORMATS
from camaudit.ingest.inventory import parse_map
from camaudit.output import write_json
from camaudit.store import Store

EPILOG = ("Examples:\n\n  camaudit ingest last-quarter.xml span.pcapng dhcpd.leases "
          "cameras.csv --site HQ --json out.json\n\n"
          "  camaudit ingest facilities.xlsx --map make=Hersteller --map ip=Adresse")


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None]]:
    """A byte progress bar on a terminal; a plain line every 5 s otherwise."""
    if Verbosity.quiet():
        yield lambda done, total: None
        return
    if is_tty():
        bar = Progress("[bold]ingest", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                       TimeElapsedColumn(), console=err, transient=False)
        task = bar.add_task("ingest", total=None)
        with bar:
            yield lambda done, total: bar.update(task, completed=done, total=total)
        return
    last = [time.monotonic()]

    def plain(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 5.0:
            last[0] = now
            info(f"progress: {done / 2**20:.0f} of {total / 2**20:.0f} MiB read")
    yield plain


def ingest(
    files: Annotated[list[str], typer.Argument(
        help="nmap XML, pcap/pcapng, ARP/neighbour tables, ISC/dnsmasq leases, CSV/XLSX "
             "inventories (format detected; gzip accepted).")],
    site: Annotated[str | None, typer.Option(help="Site name recorded with each device.")]
        = None,
    json_out: Annotated[str | None, typer.Option("--json", help="Write the camaudit/1 "
                                                 "document here.")] = None,
    policy: Annotated[list[str] | None, typer.Option(
        help="Policy set name or YAML file; repeatable (default: all).")] = None,
    map_: Annotated[list[str] | None, typer.Option(
        "--map", help="Inventory column for a field, FIELD=Header (fields: address, mac, "
                      "make, model, firmware, serial, location, label); repeatable.")] = None,
    format_: Annotated[str | None, typer.Option(
        "--format", help=f"Treat every file as this format: {', '.join(FORMATS)}.")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Audit from what you already have: nmap runs, captures, ARP/DHCP tables, inventories.

    All evidence of one address, from every file, becomes one device through the same
    identify and assess steps as a scan; the result is stored as a scan of kind 'ingest'.
    A file that is truncated or corrupt keeps what was readable; its error is reported
    (file and offset) and the command exits with status 2 after saving the rest.
    """
    from camaudit.ingest.run import ingest as run_ingest

    mapping = parse_map(map_ or [])
    store = Store(db)
    with _progress() as progress:
        result = run_ingest(files, store, site=site, policies=policy or ["all"],
                            mapping=mapping, fmt=format_, progress=progress)
    for source in result.sources:
        if not source.error:
            info(f"{sanitize(source.path)}: {source.format}, {source.records} records")
    info(f"ingest {result.scan_id}: {result.hosts} hosts, {result.devices} surveillance "
         f"devices, {result.findings} findings -> {store.url}")
    if result.unbound_macs:
        info(f"{result.unbound_macs} MAC addresses were seen without any address to attach "
             "them to")
    if json_out:
        write_json(store.document(result.scan_id), json_out)
        info(f"wrote {json_out}")
    if result.errors:
        kept = "; ".join(sanitize(e) for e in result.errors)
        raise IngestError(f"{kept} — everything read before the error was kept "
                          f"(ingest {result.scan_id})")


def register(app: typer.Typer) -> None:
    """Add ``camaudit ingest`` to `app`."""
    app.command(epilog=EPILOG)(ingest)
