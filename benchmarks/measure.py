"""Run one command as a child process: wall time, CPU time and peak RSS of that child alone.

Peak RSS is the kernel's high-water mark of the child's own address space
(``VmHWM`` in /proc/PID/status, read every 20 ms until it exits; the mark only
rises, so a late sample still holds the peak). Not ``ru_maxrss`` from
``wait4``: Linux carries the *parent's* high-water mark into a forked child
across exec, so a child of a large benchmark process would report at least
the parent's size.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Run:
    wall: float
    rss_mb: float
    user: float
    system: float
    returncode: int
    stderr: str

    def check(self, what: str) -> Run:
        if self.returncode != 0:
            raise RuntimeError(f"{what} exited {self.returncode}: {self.stderr.strip()[-800:]}")
        return self


def timed(cmd: Sequence[str], *, timeout: float = 900.0,
          env: dict[str, str] | None = None) -> Run:
    """Run `cmd` (stdout discarded), wait for it, return what it cost."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL, env=env)
        deadline = started + timeout
        peak_kb = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_kb = max(peak_kb, _hwm_kb(proc.pid))
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        err.seek(0)
        text = err.read().decode(errors="replace")
    return Run(wall=wall, rss_mb=peak_kb / 1024.0, user=usage.ru_utime,
               system=usage.ru_stime, returncode=proc.returncode, stderr=text)


def _hwm_kb(pid: int) -> int:
    """VmHWM of a running process in KiB (0 once it is a zombie or gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return float("nan")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def spread(values: Sequence[float]) -> str:
    """'min–max' of the repetitions, for the tables."""
    if not values:
        return "-"
    return f"{min(values):.2f}–{max(values):.2f}"
