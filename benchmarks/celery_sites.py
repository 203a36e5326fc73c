"""Issue 16's Celery measure: a full audit of the 5,000-device zoo by 2 site workers.

Real services on this machine, as the tests start them (tests/services.py): a
redis-server broker and a PostgreSQL store. Two `camaudit worker --site bench
--concurrency 1` processes scan the audit's shards; the time runs from `camaudit audit`
until the store marks the audit done. Peak RSS is the kernel's high-water mark (VmHWM) of
each worker's processes: the Celery main process and the pool process that scans. The
same scope is then scanned by one `camaudit scan` process for comparison, and both
inventories are compared field by field. Loopback only (127.230.0.0/16).

    .venv/bin/python benchmarks/celery_sites.py [--devices 5000] [--shard-size 512]
        [--timeout 1] [--probe-timeout 2] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import machine
import results
from measure import timed

from camaudit.demo import covering_network
from camaudit.store import Store
from camaudit.zoo import run_in_subprocess
from services import new_database, postgres_server, redis_server

BASE = "127.230.0.0/16"
ENV = {**os.environ, "CI": "1"}


def _camaudit(*args: str) -> list[str]:
    return [sys.executable, "-m", "camaudit", *args]


def _tree(pid: int) -> list[int]:
    """The process and its children (a worker's pool processes)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [pid, *(int(c) for c in children)]


def _status(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def celery_audit(db: str, broker: str, sites: Path, work: Path) -> dict[str, Any]:
    common = ["--sites", str(sites), "--db", db, "--broker", broker]
    workers = []
    for n in range(2):
        log = (work / f"worker-{n}.log").open("wb")
        workers.append(subprocess.Popen(
            _camaudit("worker", "--site", "bench", *common, "--concurrency", "1"),
            stdout=log, stderr=subprocess.STDOUT, env=ENV, start_new_session=True))
    try:
        deadline = time.monotonic() + 120
        while not all(b" ready." in (work / f"worker-{n}.log").read_bytes() for n in range(2)):
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not start")
            time.sleep(0.2)
        cpu_before = {pid: _cpu_seconds(pid) for w in workers for pid in _tree(w.pid)}
        started = time.perf_counter()
        out = subprocess.run(_camaudit("audit", "bench", *common), capture_output=True,
                             text=True, env=ENV, check=True, timeout=120).stdout
        scan_id = int(out.split()[1])
        store = Store(db)
        peak: dict[int, dict[int, int]] = {w.pid: {} for w in workers}
        cpu: dict[int, float] = {}
        while store.scan(scan_id)["status"] != "done":
            for w in workers:
                for pid in _tree(w.pid):
                    peak[w.pid][pid] = max(peak[w.pid].get(pid, 0), _status(pid, "VmHWM"))
                    cpu[pid] = _cpu_seconds(pid)
            if time.perf_counter() - started > 1800:
                raise RuntimeError("the audit did not finish in 30 minutes")
            time.sleep(0.2)
        wall = time.perf_counter() - started
        document = store.document(scan_id)
        shards = store.shards(scan_id)
        store.close()
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, signal.SIGKILL)
                w.wait()
    by_worker = [{"main_mb": peak[w.pid].get(w.pid, 0) / 1024,
                  "pool_mb": max((kb for pid, kb in peak[w.pid].items() if pid != w.pid),
                                 default=0) / 1024,
                  "cpu": sum(cpu.get(pid, 0.0) - cpu_before.get(pid, 0.0)
                             for pid in peak[w.pid])} for w in workers]
    workers_of = {str(s["worker"]).split("@")[0] for s in shards}
    return {"wall": wall, "document": document, "shards": len(shards),
            "workers_used": len(workers_of), "by_worker": by_worker}


def key(device: dict[str, Any]) -> tuple[Any, ...]:
    return (device["address"], device["device_type"], device["manufacturer"], device["model"],
            device["firmware"], tuple(device["ports"]),
            tuple(sorted(f["id"] for f in device["findings"])))


def measure(devices: int, shard_size: int, timeout: float, probe_timeout: float) -> list[str]:
    load_before = machine.load()
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="camaudit-celery-")))
        zoo = stack.enter_context(run_in_subprocess(count=devices, seed=1, base=BASE,
                                                    hostile=False, timeout=300))
        network = covering_network([d["address"] for d in zoo.devices])
        broker = stack.enter_context(redis_server())
        server = stack.enter_context(postgres_server())
        db = new_database(server)
        Store(db).close()
        sites = work / "sites.yaml"
        sites.write_text(f"sites:\n  bench: {{scopes: [{network}], shard_size: {shard_size}, "
                         f"options: {{connect_timeout: {timeout}, probe_timeout: "
                         f"{probe_timeout}}}}}\n")
        audit = celery_audit(db, broker, sites, work)
        runs = {}
        for workers in (1, 2):
            out = work / f"scan-{workers}.json"
            run = timed(_camaudit("-q", "scan", network, "--workers", str(workers), "--timeout",
                                  str(timeout), "--probe-timeout", str(probe_timeout), "--db",
                                  new_database(server), "--json", str(out)), env=ENV,
                        timeout=1800)
            runs[workers] = (run.check(f"scan --workers {workers}"),
                             json.loads(out.read_text())["devices"])
    load_after = machine.load()
    found = len(audit["document"]["devices"])
    single_run, single = runs[1]
    local = runs[2][1]
    celery_keys = set(map(key, audit["document"]["devices"]))
    differ = sorted({k[0] for k in celery_keys ^ set(map(key, single))})
    for address in differ[:5]:  # what differs, for whoever reads the run's output
        print("differs:", [k for k in celery_keys if k[0] == address],
              [key(d) for d in single if d["address"] == address], file=sys.stderr)
    rows = [f"| worker {n + 1} | {w['main_mb']:.0f} | {w['pool_mb']:.0f} | {w['cpu']:.1f} |"
            for n, w in enumerate(audit["by_worker"])]
    cpu = sum(w["cpu"] for w in audit["by_worker"])
    return [
        f"Zoo: {len(zoo.devices)} devices (seed 1, no hostile personas) in {network} "
        f"({BASE}); 19 ports; timeouts {timeout} s connect, {probe_timeout} s read; shards "
        f"of {shard_size} addresses ({audit['shards']} shards, "
        f"taken by {audit['workers_used']} workers). Store: PostgreSQL on 127.0.0.1 (a fresh "
        "database per run); broker: redis-server on 127.0.0.1 (both Debian packages).",
        "",
        "| run | devices | wall s | hosts/s | CPU s | CPU ms/device |",
        "|---|---:|---:|---:|---:|---:|",
        f"| 2 Celery workers (`camaudit worker --concurrency 1` x 2), `audit` to done | "
        f"{found} | {audit['wall']:.1f} | {found / audit['wall']:.0f} | {cpu:.1f} | "
        f"{1000 * cpu / max(1, found):.1f} |",
        *(f"| `camaudit scan --workers {n}` (same scope and store) | {len(devs)} | "
          f"{run.wall:.1f} | {len(devs) / run.wall:.0f} | {run.user + run.system:.1f}"
          f"{' (parent only)' if n > 1 else ''} | "
          f"{'' if n > 1 else f'{1000 * (run.user + run.system) / max(1, len(devs)):.1f}'} |"
          for n, (run, devs) in sorted(runs.items())),
        "",
        "| Celery worker | peak RSS, main process MB | peak RSS, pool process MB | CPU s |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        f"Inventories (address, class, maker, model, firmware, ports, findings), Celery vs "
        f"`--workers 1`: {len(differ)} addresses differ"
        f"{' (' + ', '.join(differ[:5]) + ')' if differ else ''}; Celery vs `--workers 2`: "
        f"{len({k[0] for k in celery_keys ^ set(map(key, local))})}; `--workers 2` vs "
        f"`--workers 1`: {len({k[0] for k in set(map(key, local)) ^ set(map(key, single))})}."
        f" Peak RSS of `scan --workers 1`: {single_run.rss_mb:.0f} MB. Machine: "
        f"{os.cpu_count()} cores shared with other developers, load average {load_before} "
        f"before, {load_after} after; the zoo runs on the same cores.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--shard-size", type=int, default=512)
    parser.add_argument("--timeout", type=float, default=1.0, help="connect timeout, s")
    parser.add_argument("--probe-timeout", type=float, default=2.0, help="read timeout, s")
    parser.add_argument("--write", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()
    lines = measure(args.devices, args.shard_size, args.timeout, args.probe_timeout)
    print("\n".join(lines))
    if args.write:
        results.append(f"## Site workers on Celery: 2 workers of one site (issue 16, "
                       f"{time.strftime('%Y-%m-%d %H:%M')} UTC · commit {machine.commit()})\n\n"
                       f"Command: `.venv/bin/python benchmarks/celery_sites.py --write`.\n\n"
                       + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
