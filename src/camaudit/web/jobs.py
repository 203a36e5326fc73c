"""Audits started from the browser or the API, run in a background thread each.

An audit is built exactly as ``camaudit scan`` builds it: the same ``build_scope`` (the
scope gate), the same large-scope rule (over ``LARGE_SCOPE`` addresses it needs an
explicit yes), ``new_scan`` and ``execute`` of the pipeline. Only ``@file`` targets are
refused here: a browser user must not make the server read its files. Progress lives in
memory (one process serves the console); the scan itself is in the store, so a restart
loses only the live counters (``camaudit scan --resume ID`` carries on).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from camaudit.cliutil import run_async
from camaudit.errors import CamauditError, UsageError
from camaudit.pipeline import ScanOptions, Stats, execute, new_scan
from camaudit.probes.base import Credentials
from camaudit.scope import LARGE_SCOPE, ScopeSummary
from camaudit.store import Store
from camaudit.sweep import DEFAULT_PORTS, parse_ports


@dataclass(frozen=True)
class AuditRequest:
    targets: list[str]
    excludes: list[str] = field(default_factory=list)
    ports: str = ""
    policy: str = "all"
    site: str | None = None
    credential: str | None = None  # the name of a stored device credential
    loose: bool = False
    yes: bool = False  # the operator confirmed a scope over LARGE_SCOPE addresses


class NeedsConfirmation(UsageError):
    """A scope over LARGE_SCOPE addresses, asked without an explicit yes."""

    def __init__(self, summary: ScopeSummary, lines: list[str]) -> None:
        super().__init__(f"the scope has {summary.addresses:,} addresses (over "
                         f"{LARGE_SCOPE:,}): check what it covers, then confirm")
        self.summary = summary
        self.lines = lines


@dataclass
class Job:
    scan_id: int
    total: int
    started_by: str
    lines: list[str]
    stats: Stats = field(default_factory=Stats)
    done: bool = False
    error: str | None = None
    started: float = field(default_factory=time.monotonic)

    def as_dict(self) -> dict[str, Any]:
        return {"scan_id": self.scan_id, "addresses_total": self.total,
                "done": self.done, "error": self.error, **asdict(self.stats)}


def split_lines(text: str) -> list[str]:
    """Form text (one target per line or comma) as a list."""
    return [p.strip() for line in text.splitlines() for p in line.split(",") if p.strip()]


class Jobs:
    """Running audits of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._jobs: dict[int, Job] = {}
        self._lock = threading.Lock()

    def plan(self, request: AuditRequest) -> tuple[Any, ScanOptions, list[str]]:
        """The scope and options of `request`, checked as the CLI checks them."""
        from camaudit.assess.policy import BUILTINS
        from camaudit.scan_commands import build_scope, scope_lines

        for target in [*request.targets, *request.excludes]:
            if target.startswith("@"):
                raise UsageError(f"{target!r}: @file targets are read by the CLI only; "
                                 "list the targets here instead")
        if request.policy not in (*BUILTINS, "all"):
            raise UsageError(f"policy must be one of all, {', '.join(BUILTINS)}")
        options = ScanOptions(ports=parse_ports(request.ports) if request.ports.strip()
                              else list(DEFAULT_PORTS), policies=[request.policy],
                              site=request.site or None)
        scope = build_scope(request.targets, request.excludes, request.loose)
        summary = scope.summary(options.ports)
        lines = scope_lines(summary)
        if scope.size > LARGE_SCOPE and not request.yes:
            raise NeedsConfirmation(summary, lines)
        return scope, options, lines

    def start(self, request: AuditRequest, who: str,
              credentials: Credentials | None = None) -> Job:
        scope, options, lines = self.plan(request)
        scan_id, scope = new_scan(self.store, list(request.targets), list(request.excludes),
                                  options, scope=scope)
        job = Job(scan_id, scope.size, who, lines)
        with self._lock:
            self._jobs[scan_id] = job
        thread = threading.Thread(target=self._run, args=(job, scope, options, credentials),
                                  name=f"camaudit-audit-{scan_id}", daemon=True)
        thread.start()
        return job

    def _run(self, job: Job, scope: Any, options: ScanOptions,
             credentials: Credentials | None) -> None:
        def progress(stats: Stats) -> None:
            job.stats = Stats(**asdict(stats))

        try:
            job.stats = run_async(execute(self.store, job.scan_id, scope, options, progress,
                                          credentials=credentials))
        except CamauditError as exc:
            job.error = str(exc)
        except Exception as exc:  # a crash must show on the progress page, not vanish
            job.error = f"internal error: {type(exc).__name__}: {exc}"
        finally:
            job.done = True

    def get(self, scan_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(scan_id)

    def wait(self, scan_id: int, timeout: float) -> bool:
        """For tests and shutdown: wait until the audit ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(scan_id)
            if job is None or job.done:
                return True
            time.sleep(0.05)
        return False
