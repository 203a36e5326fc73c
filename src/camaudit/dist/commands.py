"""Commands for many sites: worker, schedule, audit, audits, cancel.

A *site worker* (``camaudit worker --site depot``) runs inside the site and scans only the
shards queued for it; ``camaudit schedule`` starts each site's audit when its schedule
falls due; ``camaudit audit depot`` starts one now. All of them read the same sites file
(:mod:`camaudit.dist.sites`) and write to one store, so ``camaudit audits`` and ``camaudit
cancel`` work from anywhere that reaches the store.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import make_url

from camaudit.cliutil import DEFAULT_DB, DbOption, ScanIdArg, Verbosity, info, out, sanitize
from camaudit.credentials import load as load_logins
from camaudit.dist import sites as sites_file
from camaudit.dist.local import default_workers
from camaudit.errors import UsageError
from camaudit.store import Store

SitesOption = Annotated[str, typer.Option(
    "--sites", help="The sites file (YAML): each site's scopes, schedule, policies, login "
    "name (env CAMAUDIT_SITES).", show_default=True)]
BrokerOption = Annotated[str, typer.Option(
    "--broker", help="Celery broker URL, Redis (env CAMAUDIT_BROKER).", show_default=True)]
DEFAULT_SITES = os.environ.get("CAMAUDIT_SITES", "sites.yaml")
DEFAULT_BROKER = os.environ.get("CAMAUDIT_BROKER", "redis://127.0.0.1:6379/0")
STATES = ("pending", "running", "done", "cancelled")


def register(app: typer.Typer) -> None:
    app.command(name="worker", epilog="Example:\n\n  camaudit worker --site depot --sites "
                "sites.yaml --db postgresql+psycopg://audit@db/camaudit --broker "
                "redis://broker:6379/0 --credentials logins.yaml")(worker)
    app.command(name="schedule", epilog="Example:\n\n  camaudit schedule --sites sites.yaml "
                "--db postgresql+psycopg://audit@db/camaudit --broker redis://broker:6379/0"
                )(schedule)
    app.command(name="audit", epilog="Examples:\n\n  camaudit audit depot --sites sites.yaml "
                "--db postgresql+psycopg://audit@db/camaudit\n\n  camaudit audit depot "
                "--resume 12")(audit)
    app.command(name="audits", epilog="Example:\n\n  camaudit audits --db "
                "postgresql+psycopg://audit@db/camaudit --site depot")(list_audits)
    app.command(name="cancel", epilog="Example:\n\n  camaudit cancel 12 --db "
                "postgresql+psycopg://audit@db/camaudit")(cancel)


@contextlib.contextmanager
def _opened(db: str) -> Iterator[Store]:
    """The store for one command, closed after it (the commands also run inside tests)."""
    store = Store(db)
    try:
        yield store
    finally:
        store.close()


def _hidden(url: str) -> str:
    """A store URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def worker(
    site: Annotated[str, typer.Option("--site", help="The site this worker serves: it "
                                      "consumes only that site's queue.")],
    sites: SitesOption = DEFAULT_SITES,
    db: DbOption = DEFAULT_DB,
    broker: BrokerOption = DEFAULT_BROKER,
    concurrency: Annotated[int, typer.Option(
        help="Shards scanned at once, one process each (default: the number of cores); "
             "the site's rate is shared among them.", min=1)] = default_workers(),
    credentials_file: Annotated[str | None, typer.Option(
        "--credentials", help="YAML file of device logins (mode 0600 checked) holding the "
        "entry the site names under 'sites:'. Read here, never stored or sent.")] = None,
    visibility_timeout: Annotated[float, typer.Option(
        help="Seconds after which the shard of a worker that died is queued again; "
             "make it longer than the slowest shard.", min=1)] = 3600.0,
) -> None:
    """Run a site worker: scan the shards queued for one site, inside that site's scope.

    A shard of an audit whose scope is not inside the site's (or that belongs to another
    site) is refused and recorded, never scanned. Stop with Ctrl-C or SIGTERM: the shards
    in hand are finished first; a worker killed outright loses nothing, its shard is
    queued again after --visibility-timeout.
    """
    chosen = sites_file.load(sites)[site]
    logins = chosen.logins(load_logins(credentials_file) if credentials_file else None)
    from camaudit.dist.celery_app import SiteWorker, app, become, check_broker, configure

    store = Store(db)  # opened (and migrated) here once: a bad URL fails before Celery starts
    url = _hidden(store.url)
    store.close()
    configure(broker, visibility_timeout)
    check_broker()
    become(SiteWorker(chosen, db, logins, rate_share=1.0 / concurrency))
    info(f"worker of site {site}: queue {chosen.queue}, {concurrency} "
         f"process{'es' if concurrency > 1 else ''}, scope {', '.join(chosen.scopes)}, "
         f"store {url}")
    app.worker_main(["worker", "--queues", chosen.queue, "--concurrency", str(concurrency),
                     "--hostname", f"{site}.{os.getpid()}@%h", "--pool", "prefork",
                     "--loglevel", "WARNING" if Verbosity.quiet() else "INFO",
                     "--without-gossip", "--without-mingle", "--without-heartbeat"])


def schedule(
    sites: SitesOption = DEFAULT_SITES,
    db: DbOption = DEFAULT_DB,
    broker: BrokerOption = DEFAULT_BROKER,
    state: Annotated[str, typer.Option(
        help="File where the scheduler remembers when each site last ran.")]
        = "camaudit-schedule",
) -> None:
    """Start each site's audit when its schedule falls due (celery beat).

    The audit is created in the store at once (its shards show as pending in ``camaudit
    audits`` until the site's worker takes them) and its shards are queued on the site.
    Shards of an audit whose start was interrupted before they were queued (a scheduler
    or ``camaudit audit`` stopped) are queued when this starts and every 30 s after.
    """
    loaded = sites_file.load(sites)
    timed = [site for site in loaded if site.schedule]
    if not timed:
        raise UsageError(f"no site in {sites} has a schedule")
    from camaudit.dist.celery_app import (
        AuditScheduler,
        app,
        check_broker,
        configure,
        schedule_audits,
    )

    Store(db).close()
    configure(broker)
    check_broker()
    schedule_audits(loaded, db)
    for site in timed:
        info(f"site {site.name}: {site.schedule}")
    app.Beat(scheduler=AuditScheduler, schedule=state, max_interval=5,
             loglevel="WARNING" if Verbosity.quiet() else "INFO").run()


def audit(
    site: Annotated[str, typer.Argument(help="The site to audit now (a name in the sites "
                                        "file).")],
    sites: SitesOption = DEFAULT_SITES,
    db: DbOption = DEFAULT_DB,
    broker: BrokerOption = DEFAULT_BROKER,
    resume: Annotated[int | None, typer.Option(
        help="Queue again the shards not yet done of this audit of SITE (after the broker "
             "lost its queue); nothing new is created.")] = None,
) -> None:
    """Start one site's audit now: its shards are queued for the site's workers."""
    chosen = sites_file.load(sites)[site]
    from camaudit.dist.celery_app import check_broker, configure, enqueue, start_audit

    configure(broker)
    check_broker()  # before anything is written: an audit nobody can receive is no audit
    with _opened(db) as store:
        if resume is None:
            scan_id = start_audit(store, chosen)
            queued = len(store.shards(scan_id))
        else:
            scan_id = store.resolve_scan_id(resume)
            if store.scan(scan_id)["site"] != site or not store.shards(scan_id):
                raise UsageError(f"scan {scan_id} is not an audit of site {site}")
            queued = enqueue(store, scan_id, chosen)
    out.print(f"audit {scan_id} of site {site}: {queued} shard{'s' if queued != 1 else ''} "
              f"queued on {chosen.queue}", markup=False)
    info(f"next: camaudit audits · camaudit cancel {scan_id} · camaudit report {scan_id} "
         "--html report.html (each with the same --db)")


def list_audits(
    db: DbOption = DEFAULT_DB,
    site: Annotated[str | None, typer.Option(help="Only this site's audits.")] = None,
) -> None:
    """List audits with their progress: shards per state, hosts and devices found."""
    with _opened(db) as store:
        table = Table(title=f"audits in {escape(_hidden(store.url))}")
        for col in ("id", "site", "status", "started", *STATES, "hosts", "devices"):
            table.add_column(col, justify="right" if col in (*STATES, "hosts", "devices")
                             else "left")
        for scan in store.scans():
            if site is not None and scan["site"] != site:
                continue
            progress = store.scan_progress(scan["id"])
            shards: dict[str, Any] = progress.get("shards") or {}
            if not any(shards.values()):
                continue  # a plain scan, not an audit of shards
            table.add_row(str(scan["id"]), escape(sanitize(scan["site"] or "")),
                          scan["status"], str(scan["started"])[:19],
                          *(str(shards.get(s, 0)) for s in STATES),
                          str(progress.get("hosts", 0)), str(progress.get("devices", 0)))
    out.print(table)


def cancel(scan_id: ScanIdArg, db: DbOption = DEFAULT_DB) -> None:
    """Cancel an audit: its queued shards never run, running ones stop at a checkpoint.

    What was found so far stays in the store.
    """
    with _opened(db) as store:
        sid = store.resolve_scan_id(scan_id)
        shards = store.shards(sid)
        if not shards:
            raise UsageError(f"scan {sid} is not an audit of shards: nothing to cancel")
        cancelled = store.cancel_scan(sid)
    if not cancelled:
        out.print(f"audit {sid}: no shard left to cancel (all {len(shards)} are done)",
                  markup=False)
        return
    out.print(f"audit {sid} cancelled: {cancelled} of {len(shards)} shards will not run or "
              "stop at their next checkpoint", markup=False)
