"""Celery for many sites: the app, all of its configuration, and the one task.

    camaudit audit SITE ─▶ start_audit: scan + shards in the store ─▶ scan_shard(scan_id, index)
    camaudit schedule   ─▶ (celery beat) start_audit when a site's schedule falls due     │
                                                                                 queue site.<name>
    camaudit worker --site NAME ◀──────────────────────────────────────────────────────────┘
        gate: the audit lies inside NAME's scope ─▶ run_shard ─▶ finish_if_complete

The task is thin and idempotent (STYLE.md rule 12): it takes ids, the shard code is the
same as ``scan --workers``'s (:mod:`camaudit.dist.run`), and host writes are keyed by
(scan, address), so running a shard twice duplicates nothing. ``acks_late`` and
``task_reject_on_worker_lost``: a shard's message is acknowledged only once the shard is
finished, so a worker process killed mid-shard leaves it to be delivered again. With the
Redis broker a message held by a worker that died whole (machine lost, ``kill -9`` of the
worker) comes back after the *visibility timeout*, which must therefore be longer than the
slowest shard (a shard that outlives it is delivered twice: wasted work, never a wrong
result). Prefetch 1: a worker holds only the shard it runs. No result backend: results
live in the store.

Starting an audit is two steps, recording it and sending its messages, and a start killed
between them (the scheduler or ``camaudit audit`` stopped) would leave shards pending that
no worker hears of. Each shard records its queue and when its message was sent, and the
scheduler, when it starts and every 30 s, queues the shards never sent
(:func:`requeue_interrupted`); a shard sent twice adds nothing (see :func:`enqueue`).

Broker errors become :class:`BrokerError` here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from celery import Celery, Task
from celery.beat import PersistentScheduler, ScheduleEntry
from celery.schedules import crontab, schedule
from kombu.exceptions import KombuError, OperationalError

from camaudit.credentials import CredentialBook
from camaudit.dist.run import finish_if_complete, run_shard, start_sharded_scan
from camaudit.dist.sites import Site, Sites, parse_schedule
from camaudit.errors import BrokerError, CamauditError, ScopeError, StoreError, UsageError
from camaudit.model import utcnow
from camaudit.scope import Scope
from camaudit.store import Store

#: Longer than the slowest shard: a dead worker's shard comes back after this long.
DEFAULT_VISIBILITY_TIMEOUT = 3600.0
#: Seconds between two looks of the scheduler for shards an interrupted start left unsent.
REQUEUE_EVERY = 30.0

log = logging.getLogger("camaudit.dist")

app = Celery("camaudit", set_as_current=False)


def configure(broker: str, visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT) -> Celery:
    """Point the app at `broker`; every Celery setting camaudit uses is here."""
    app.conf.update(
        broker_url=broker,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5.0,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            # look for a dead worker's messages often enough to honour the timeout
            "unacked_restore_interval": max(1, min(60, int(visibility_timeout / 10))),
            "unacked_restore_throttle": 1,
        },
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue="camaudit.unrouted",  # every shard names its site's queue
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
    )
    return app


def check_broker() -> None:
    """Fail with one line, before anything is written, when the broker cannot be reached."""
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0.2, timeout=5)
    except (OperationalError, KombuError, OSError) as exc:
        raise BrokerError(f"cannot reach the broker {_safe(app.conf.broker_url)}: "
                          f"{exc}") from exc


def _safe(url: str) -> str:
    """A broker URL without its password."""
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(url))


# -- starting an audit ---------------------------------------------------------

#: Messages sent between two records of which shards were queued.
QUEUE_BATCH = 100
#: A shard recorded this long ago whose message was never sent belongs to a start that
#: was interrupted (the scheduler or ``camaudit audit`` killed between recording the audit
#: and queueing it); longer than queueing the largest audit takes, so that a start still
#: at work is not doubled.
QUEUE_GRACE = dt.timedelta(minutes=2)


def create_audit(store: Store, site: Site) -> int:
    """Record the site's audit: a scan and its shards, pending, bound for the site's queue."""
    return start_sharded_scan(store, list(site.scopes), list(site.exclude),
                              site.scan_options(), size=site.shard_size, queue=site.queue)


def start_audit(store: Store, site: Site) -> int:
    """Create the site's audit (a scan and its shards) and queue every shard on the site."""
    scan_id = create_audit(store, site)
    enqueue(store, scan_id, site)
    return scan_id


def enqueue(store: Store, scan_id: int, site: Site, indices: list[int] | None = None) -> int:
    """Queue shards of `scan_id` on the site's queue (by default every one not yet done)
    and record them as queued; returns how many.

    Safe to repeat: a message for a shard already done is a no-op, one for a shard that
    is running at worst scans it again (host writes replace). Shards are recorded as
    queued after their messages are sent, so a start killed in between queues a few
    twice, never none.
    """
    if indices is None:
        indices = [s["index"] for s in store.shards(scan_id)
                   if s["state"] in ("pending", "running")]
    try:
        with app.producer_or_acquire() as producer:
            for start in range(0, len(indices), QUEUE_BATCH):
                batch = indices[start:start + QUEUE_BATCH]
                for index in batch:
                    scan_shard.apply_async((scan_id, index), queue=site.queue,
                                           producer=producer, retry=True,
                                           retry_policy={"max_retries": 3})
                store.mark_queued(scan_id, batch)
    except (OperationalError, KombuError, OSError) as exc:
        raise BrokerError(f"cannot queue the shards of audit {scan_id} on "
                          f"{_safe(app.conf.broker_url)}: {exc}") from exc
    return len(indices)


def requeue_interrupted(store: Store, sites: Sites,
                        grace: dt.timedelta = QUEUE_GRACE) -> list[tuple[int, int]]:
    """Queue the shards that an interrupted start of an audit of one of `sites` recorded
    but never sent (pending, never queued, recorded over `grace` ago); returns (audit,
    shards queued) for each audit that had some."""
    by_queue = {site.queue: site for site in sites}
    return [(scan_id, enqueue(store, scan_id, by_queue[queue], indices))
            for scan_id, queue, indices in store.unqueued_shards(list(by_queue),
                                                                 utcnow() - grace)]


# -- the worker's side ---------------------------------------------------------


@dataclass
class SiteWorker:
    """What one site worker knows: its site, its store, its logins (memory only)."""

    site: Site
    db: str
    logins: CredentialBook | None = field(default=None, repr=False)
    rate_share: float = 1.0
    _stores: dict[int, Store] = field(default_factory=dict, repr=False)

    def store(self) -> Store:
        """One store per process: pool processes are forked and must not share a pool."""
        pid = os.getpid()
        if pid not in self._stores:
            self._stores[pid] = Store(self.db)
        return self._stores[pid]

    def refusal(self, store: Store, scan_id: int) -> str | None:
        """Why this worker must not scan a shard of the audit (None: it may): the site's
        scope is its gate."""
        scan = store.scan(scan_id)
        if scan["site"] != self.site.name:
            return f"the audit belongs to site {scan['site']!r}, this worker to {self.site.name!r}"
        try:
            scope = Scope(scan["targets"], scan["excludes"], resolved=scan["resolved"],
                          loose=True, resolver=_unresolved)
        except CamauditError as exc:
            return f"its scope cannot be read here: {exc}"
        # the whole audit, not only this shard: the scan's scope is the gate its probes
        # ask, so a redirect to another shard's address must be inside the site as well
        outside = self.site.outside(scope)
        if outside:
            more = f" and {len(outside) - 3} more" if len(outside) > 3 else ""
            return (f"its scope has {', '.join(outside[:3])}{more} outside site "
                    f"{self.site.name}'s scope")
        return None


def _unresolved(name: str) -> list[Any]:
    raise ScopeError(f"host name {name!r} was not resolved when the audit was created")


_worker: SiteWorker | None = None


def become(worker: SiteWorker) -> None:
    """Make this process (and the pool processes it forks) the worker of one site."""
    global _worker
    _worker = worker


@app.task(name="camaudit.scan_shard", bind=True, autoretry_for=(StoreError,),  # type: ignore[untyped-decorator]
          retry_backoff=5, retry_backoff_max=120, max_retries=10)
def scan_shard(self: Task[Any, Any], scan_id: int, index: int) -> dict[str, Any]:
    """Scan one shard of an audit, if it lies inside this worker's site; then finish the
    audit if that was its last shard. Running it again is a no-op or a resume."""
    if _worker is None:
        raise RuntimeError("scan_shard runs only in a site worker (camaudit worker)")
    store = _worker.store()
    try:
        shard = store.shard(scan_id, index)
    except UsageError as exc:  # the audit was deleted, or the message is not ours
        log.error("shard %s of audit %s ignored: %s", index, scan_id, exc)
        return {"ignored": str(exc)}
    refused = _worker.refusal(store, scan_id)
    if refused is not None:
        reason = f"shard {index} refused by a worker of site {_worker.site.name}: {refused}"
        store.add_refusals(scan_id, [(f"{shard['first']}-{shard['last']}", reason)])
        log.error("audit %s: %s", scan_id, reason)
        return {"refused": reason}
    name = f"{self.request.hostname or socket.gethostname()}:{os.getpid()}"
    stats = run_shard(store, scan_id, index, worker=name, logins=_worker.logins,
                      rate_share=_worker.rate_share)
    # run_shard finishes the audit after its last shard; asked again for a message
    # delivered twice whose first run died between the two
    finish_if_complete(store, scan_id)
    return dataclasses.asdict(stats)


# -- the scheduler -------------------------------------------------------------


def beat_schedule(sites: Sites) -> dict[str, dict[str, Any]]:
    """One beat entry per site with a schedule; the entry's argument is the site's name."""
    entries: dict[str, dict[str, Any]] = {}
    for site in sites:
        if site.schedule is None:
            continue
        when = parse_schedule(site.schedule)
        entries[f"audit {site.name}"] = {
            "task": "camaudit.start_audit",  # never sent: AuditScheduler starts it itself
            "args": (site.name,),
            "schedule": schedule(when) if isinstance(when, dt.timedelta) else crontab(**when)}
    return entries


def schedule_audits(sites: Sites, db: str) -> None:
    """Give celery beat the sites' schedules and the store its due entries start audits in."""
    app.conf.beat_schedule = beat_schedule(sites)
    app.conf.camaudit_sites = sites
    app.conf.camaudit_db = db


class AuditScheduler(PersistentScheduler):  # type: ignore[misc]
    """celery beat whose due entries start their site's audit from here, in the store.

    The audit (scan and pending shards) exists as soon as it falls due, so ``camaudit
    audits`` shows a site whose worker is down as shards waiting, not as nothing. When it
    starts and every :data:`REQUEUE_EVERY` after, it queues the shards of any audit of its
    sites whose start was interrupted before they were sent (:func:`requeue_interrupted`).
    """

    camaudit_store: Store | None = None  # (celery's own `_store` is its state file)
    camaudit_requeue_at = 0.0  # time.monotonic() of the next look for unqueued shards

    def camaudit(self) -> Store:
        if self.camaudit_store is None:
            self.camaudit_store = Store(self.app.conf.camaudit_db)
        return self.camaudit_store

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if time.monotonic() >= self.camaudit_requeue_at:
            self.camaudit_requeue_at = time.monotonic() + REQUEUE_EVERY
            self.requeue()
        return float(super().tick(*args, **kwargs))

    def requeue(self) -> None:
        try:
            requeued = requeue_interrupted(self.camaudit(), self.app.conf.camaudit_sites)
        except CamauditError as exc:  # tried again at the next look
            log.error("could not queue the shards of interrupted audits: %s", exc)
            return
        for scan_id, count in requeued:
            log.warning("audit %s: queued %s shard%s its interrupted start had not", scan_id,
                        count, "s" if count != 1 else "")

    def apply_entry(self, entry: ScheduleEntry, producer: Any = None) -> None:
        sites: Sites = self.app.conf.camaudit_sites
        name = str(entry.args[0])
        try:
            scan_id = start_audit(self.camaudit(), sites[name])
        except CamauditError as exc:  # one failed start must not stop the other sites'
            log.error("could not start the audit of site %s: %s", name, exc)
        else:
            log.info("started audit %s of site %s", scan_id, name)
