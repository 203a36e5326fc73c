"""``scan --workers N``: the shards of one scan run in N worker processes on this machine.

Each worker is forked from a fresh fork server (multiprocessing "forkserver":
nothing of the parent's event loop, sockets or database connections is
inherited) that has imported camaudit and read its knowledge once
(``dist/preload.py``), and runs its own event loop. It pulls shards from the
store (:meth:`Store.claim_next_shard`) and runs them with
:func:`run_shard_async`, :data:`LANES` at a time, each lane starting its next
shard while the slow last hosts of the one before are still probed. Workers stop when
no shard is pending.

The budget is split evenly: each of N workers gets 1/N of ``--rate`` and of
``--max-sockets`` for the whole run, and divides it between its lanes, so the
scan as a whole keeps to both (a worker left alone at the end does not take
over the others' share).

The parent only supervises: it reports progress from the store, and when a
worker dies (a crash, the OOM killer, a SIGKILL) it puts that worker's running
shards back to pending and starts another worker, which re-runs them after
their cursors. Host writes are idempotent, so the inventory ends as a single
process would have written it. Workers die with the fork server, which ends
with the parent (PR_SET_PDEATHSIG), and ignore Ctrl-C, which the parent handles.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from camaudit.cliutil import run_async
from camaudit.credentials import CredentialBook
from camaudit.dist.run import ScanPlan, finish_if_complete, run_shard_async, shard_options
from camaudit.errors import CamauditError, ResourceError
from camaudit.netio import Budget, sweep_session
from camaudit.probes.base import Credentials
from camaudit.store import Store

#: Shards one worker runs at once (one event loop, one shared budget).
LANES = 2
#: Replacement workers started for dead ones, at most, per worker asked for.
RESTARTS_PER_WORKER = 3

ProgressFn = Callable[[dict[str, Any]], None]


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def worker_name(pid: int | None = None) -> str:
    """The name a local worker claims shards under: host and process id."""
    return f"local:{socket.gethostname()}:{pid or os.getpid()}"


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process is started with (pickled to it, never written anywhere)."""

    db: str
    scan_id: int
    rate_share: float = 1.0
    lanes: int = LANES
    credentials: Credentials | None = None
    logins: CredentialBook | None = None


async def work(store: Store, spec: WorkerSpec, worker: str,
               on_checkpoint: Callable[[], None] | None = None) -> int:
    """Claim and run pending shards until none is left; returns how many this worker ran.

    Each lane has its own part of the worker's budget, so the worker never has more
    sockets, or hosts in flight, than its share of the scan's. A lane claims its next
    shard as soon as the current one has handed out its last address, not when its
    last host is done: the slowest hosts of a shard take seconds (read timeouts), and
    lanes that waited for them ran in step, all idle at each shard's end.
    """
    plan = ScanPlan.load(store, spec.scan_id)
    lanes = max(1, spec.lanes)
    options = shard_options(plan.options, spec.rate_share / lanes)
    ran = 0

    async def lane(budget: Budget) -> None:
        nonlocal ran
        running: set[asyncio.Task[Any]] = set()
        with sweep_session(budget):
            while True:
                if len(running) >= MAX_TAILS:
                    await _first_done(running)
                index = store.claim_next_shard(spec.scan_id, worker)
                if index is None:
                    break
                swept = asyncio.Event()
                shard = asyncio.create_task(run_shard_async(
                    store, spec.scan_id, index, worker=worker, credentials=spec.credentials,
                    logins=spec.logins, plan=plan, budget=budget, on_checkpoint=on_checkpoint,
                    on_swept=swept.set))
                running.add(shard)
                ran += 1
                sweeping = asyncio.create_task(swept.wait())
                await asyncio.wait([shard, sweeping], return_when=asyncio.FIRST_COMPLETED)
                sweeping.cancel()
                _reap(running)
            while running:
                await _first_done(running)

    await asyncio.gather(*(lane(Budget(max_sockets=options.max_sockets, rate=options.rate))
                           for _ in range(lanes)))
    return ran


#: Shards of one lane still finishing their last hosts while the next one is swept.
MAX_TAILS = 3


async def _first_done(running: set[asyncio.Task[Any]]) -> None:
    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
    _reap(running)


def _reap(running: set[asyncio.Task[Any]]) -> None:
    """Forget the lane's finished shards; a shard's error is raised here."""
    for task in [t for t in running if t.done()]:
        running.discard(task)
        task.result()


def run_in_process(store: Store, spec: WorkerSpec,
                   progress: ProgressFn | None = None) -> None:
    """Run the scan's pending shards here, without a child process (one worker)."""
    last = [0.0]

    def report() -> None:
        now = time.monotonic()
        if progress is not None and now - last[0] >= 1.0:
            last[0] = now
            progress(store.scan_progress(spec.scan_id))

    run_async(work(store, spec, worker_name(), report))
    finish_if_complete(store, spec.scan_id)


def run_local(store: Store, spec: WorkerSpec, workers: int,
              progress: ProgressFn | None = None) -> None:
    """Run the scan's pending shards in `workers` processes; return when none is open.

    Raises the error a worker reported (a camaudit error: bad store, bad policy),
    or ResourceError when workers keep dying.
    """
    pool = _Pool(spec, workers)
    try:
        pool.start(workers)
        while True:
            pool.wait(1.0)
            error = pool.reap(store)
            if error is not None:
                raise error
            if pool.restarts_left < 0:
                raise ResourceError("local workers keep dying; the scan stops here "
                                    "(camaudit scan --resume continues it)")
            state = store.scan_progress(spec.scan_id)
            if progress is not None:
                progress(state)
            pending, running = state["shards"]["pending"], state["shards"]["running"]
            if not pending and not running:
                break
            if not pool.alive and running:
                store.release_shards(spec.scan_id)  # their workers are gone
                pending += running
            if pending:
                pool.start(min(workers, pending) - len(pool.alive))
    finally:
        pool.stop()
    finish_if_complete(store, spec.scan_id)


class _Pool:
    """The worker processes of one scan, and what became of them."""

    def __init__(self, spec: WorkerSpec, workers: int) -> None:
        self.ctx = multiprocessing.get_context("forkserver")
        self.ctx.set_forkserver_preload(["camaudit.dist.preload"])
        self.spec = spec
        self.procs: dict[BaseProcess, Connection] = {}
        self.restarts_left = RESTARTS_PER_WORKER * workers

    @property
    def alive(self) -> list[BaseProcess]:
        return [p for p in self.procs if p.exitcode is None]

    def start(self, count: int) -> None:
        for _ in range(count):
            receive, send = self.ctx.Pipe(duplex=False)
            proc = self.ctx.Process(target=_child, args=(self.spec, send),
                                    name="camaudit-worker")
            proc.start()
            send.close()
            self.procs[proc] = receive

    def wait(self, timeout: float) -> None:
        alive = self.alive
        if alive:
            wait([p.sentinel for p in alive], timeout)
        else:
            time.sleep(timeout)

    def reap(self, store: Store) -> CamauditError | None:
        """Forget finished workers; put a dead worker's shards back; the first error."""
        error: CamauditError | None = None
        for proc in [p for p in self.procs if p.exitcode is not None]:
            receive = self.procs.pop(proc)
            message = _message(receive)
            if proc.exitcode == 0:
                continue
            assert proc.pid is not None
            store.release_shards(self.spec.scan_id, worker_name(proc.pid))
            if message is not None:
                error = error or CamauditError(f"worker {proc.pid}: {message}")
            else:
                self.restarts_left -= 1
        return error

    def stop(self) -> None:
        for proc in self.alive:
            proc.terminate()
        for proc in list(self.procs):
            proc.join(10)
            if proc.exitcode is None:  # pragma: no cover - a worker ignoring SIGTERM
                proc.kill()
                proc.join()
            self.procs.pop(proc).close()


def _message(receive: Connection) -> str | None:
    """The error a finished worker sent, if any (a worker that just exited sends EOF)."""
    try:
        return str(receive.recv()) if receive.poll() else None
    except (EOFError, OSError):
        return None
    finally:
        receive.close()


def _child(spec: WorkerSpec, errors: Connection) -> None:
    """A worker process: run shards until none is pending; report a camaudit error."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us on Ctrl-C
    try:
        store = Store(spec.db)
        try:
            run_async(work(store, spec, worker_name()))
        finally:
            store.close()
    except CamauditError as exc:
        errors.send(str(exc))
        errors.close()
        sys.exit(2)


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent (the fork server) dies."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the request took
        os._exit(1)
