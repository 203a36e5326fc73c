"""Facts about the machine and the code under test, for each RESULTS.md entry."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _out(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20,
                              cwd=ROOT).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def commit() -> str:
    sha = _out(["git", "rev-parse", "--short=12", "HEAD"]) or "unknown"
    dirty = _out(["git", "status", "--porcelain", "--untracked-files=no"])
    return sha + ("+dirty" if dirty else "")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def nmap_version() -> str:
    first = _out(["nmap", "--version"]).splitlines()
    return first[0].replace("Nmap version ", "").split(" (")[0] if first else "missing"


def ensure_nmap() -> None:
    """nmap from the Debian packages if it is missing (root only), else a clear error."""
    if shutil.which("nmap"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nmap"], check=True, env=env)
    if not shutil.which("nmap"):
        sys.exit("benchmarks need nmap: apt-get install nmap (or run make sysdeps as root)")


def facts() -> dict[str, str]:
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "time": dt.datetime.now(dt.UTC).strftime("%H:%M UTC"),
        "commit": commit(),
        "cpus": f"{os.cpu_count()} x {cpu_model()}",
        "memory": f"{memory_gb():.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "nmap": nmap_version(),
        "fd_limit": _out(["sh", "-c", "ulimit -n"]),
    }
