"""Run one shard of a scan, wherever it runs: a local worker process, a Celery task, in-process.

Every runner of shards calls :func:`run_shard` (or :func:`run_shard_async`), so
they share one code path and the tests of one cover the others. A shard run is
idempotent: the scan's scope and options come from the store (ids in, not
objects), hosts are saved with keys that make a second save a replacement, and
the shard's cursor lets a re-run start where the last one stopped.

    start_sharded_scan   scan + shards recorded, nothing run yet
    run_shard            claim -> pipeline over the shard's range -> finish the shard
    finish_if_complete   the last shard done finishes the scan, exactly once
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

from camaudit.assess import PolicySet, load_policies
from camaudit.cliutil import run_async
from camaudit.credentials import CredentialBook
from camaudit.dist.shards import DEFAULT_SIZE, plan_shards
from camaudit.model import utcnow
from camaudit.netio import Budget
from camaudit.pipeline import ScanOptions, ScanRunner, Stats, new_scan, stored_plan
from camaudit.probes.base import Credentials
from camaudit.scope import Scope
from camaudit.store import Store


@dataclass
class ScanPlan:
    """What every shard of one scan shares: built once per worker process, not per shard."""

    scope: Scope
    options: ScanOptions
    policies: PolicySet

    @classmethod
    def load(cls, store: Store, scan_id: int) -> ScanPlan:
        scope, options = stored_plan(store, scan_id)
        return cls(scope, options, load_policies(options.policies))


def start_sharded_scan(store: Store, targets: list[str], excludes: list[str],
                       options: ScanOptions, size: int = DEFAULT_SIZE,
                       scope: Scope | None = None, queue: str | None = None) -> int:
    """Record a new scan and its shards (all pending); `scope`: already built from targets;
    `queue`: the Celery queue the shards are for (an audit's)."""
    scan_id, scope = new_scan(store, targets, excludes, options, scope=scope)
    store.add_shards(scan_id, plan_shards(scope, size), queue=queue)
    return scan_id


def shard_options(options: ScanOptions, rate_share: float) -> ScanOptions:
    """This worker's part of the scan's budget: `rate_share` of --rate and --max-sockets."""
    if rate_share >= 1.0:
        return options
    return dataclasses.replace(
        options, rate=options.rate * rate_share,
        max_sockets=max(1, int(options.max_sockets * rate_share)))


def run_shard(store: Store, scan_id: int, index: int, *, worker: str = "local",
              credentials: Credentials | None = None, logins: CredentialBook | None = None,
              rate_share: float = 1.0) -> Stats:
    """Claim shard `index` of the scan, scan its addresses, finish it (on its own loop)."""
    return run_async(run_shard_async(store, scan_id, index, worker=worker,
                                     credentials=credentials, logins=logins,
                                     rate_share=rate_share))


async def run_shard_async(store: Store, scan_id: int, index: int, *, worker: str = "local",
                          credentials: Credentials | None = None,
                          logins: CredentialBook | None = None, rate_share: float = 1.0,
                          plan: ScanPlan | None = None, budget: Budget | None = None,
                          on_checkpoint: Callable[[], None] | None = None,
                          on_swept: Callable[[], None] | None = None) -> Stats:
    """:func:`run_shard` inside a running loop; `plan` and `budget` shared across shards,
    `on_checkpoint` called every second (progress), `on_swept` once the shard's last
    address is handed out (:attr:`ScanRunner.on_swept`).

    Returns without scanning when the shard is done or cancelled; stops early (the
    shard left unfinished, its cursor saved) when the scan is cancelled meanwhile.
    """
    if not store.claim_shard(scan_id, index, worker):
        return Stats()
    shard = store.shard(scan_id, index)
    plan = plan or ScanPlan.load(store, scan_id)
    # Hosts saved by an earlier attempt (past its last cursor) are not probed again;
    # a shard that never ran before has none, and spares the query.
    skip = store.done_addresses(scan_id) if shard["attempts"] > 1 or shard["cursor"] else set()
    runner = ScanRunner(store, scan_id, plan.scope, shard_options(plan.options, rate_share),
                        plan.policies, credentials=credentials)
    runner.logins = logins
    runner.save_cursor = lambda cursor: store.set_shard_cursor(
        scan_id, index, cursor, {"addresses": runner.stats.addresses})
    if on_checkpoint is not None:
        runner.progress = lambda _stats: on_checkpoint()
    runner.on_swept = on_swept
    stats = await runner.run(after=shard["cursor"], skip=skip, first=shard["first"],
                             last=shard["last"], budget=budget)
    if runner.stopped:
        return stats
    store.finish_shard(scan_id, index, asdict(stats))
    finish_if_complete(store, scan_id)
    return stats


#: Stats summed over shards (the store counts hosts, devices and findings itself).
_SUMMED = [f.name for f in fields(Stats) if f.name != "elapsed"]


def finish_if_complete(store: Store, scan_id: int) -> bool:
    """When every shard is done, finish the scan with the summed stats; True if this call
    did (of two workers racing here, exactly one does). `elapsed` is the wall time
    from the scan's start."""
    shards = store.shards(scan_id)
    if not shards or any(s["state"] != "done" for s in shards):
        return False
    totals: dict[str, float] = {
        name: sum(int((s["stats"] or {}).get(name, 0)) for s in shards) for name in _SUMMED}
    totals["elapsed"] = (utcnow() - store.scan(scan_id)["started"]).total_seconds()
    return store.finish_scan(scan_id, totals, only_running=True)
