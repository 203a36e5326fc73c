"""Issue 16's measure: `camaudit scan --workers N` on the 5,000-device zoo and on a /12.

    .venv/bin/python benchmarks/dist.py [--reps 2] [--write]

Each scan runs through the CLI in a child process, as a user would run it. For each
run: wall time, hosts/s, CPU seconds of the camaudit process tree (the parent and every
worker it started and reaped, from wait4), CPU seconds per device, peak RSS (VmHWM) of
the parent and of each worker process, and the CPU seconds the zoo process spent
answering in the same time, so the reader sees how the 2 cores were shared. The JSON
exports of --workers 1 and --workers 2 are compared device by device (every field;
observation hashes aside, as the zoo's replies carry times).

Then `--workers 2` on 127.176.0.0/12 (1,048,576 addresses, port 80) holding a small zoo
on 127.190.0.0/16; listening sockets in the /12 are checked first: only that zoo serves
there. Loopback only.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
#: The zoo's out-of-scope trap: inside this benchmark's block, outside both zoos and scopes
#: (the zoo child processes read it from the environment).
TRAP = "127.210.200.1"

import machine  # noqa: E402
import results  # noqa: E402
from measure import median  # noqa: E402

from camaudit.sweep import DEFAULT_PORTS  # noqa: E402
from camaudit.zoo.process import run_in_subprocess  # noqa: E402

ZOO_NET = "127.210.0.0/17"  # 127.210.200.1, the trap, lies outside
BIG_NET = "127.176.0.0/12"
BIG_ZOO_NET = "127.190.0.0/16"  # inside BIG_NET
PORTS = ",".join(str(p) for p in DEFAULT_PORTS)
_SHA = re.compile(r"sha256:[0-9a-f]{64}")
_TICK = os.sysconf("SC_CLK_TCK")


def log(text: str) -> None:
    print(f"dist: {text}", file=sys.stderr, flush=True)


@dataclass
class ScanRun:
    """One `camaudit scan` child process and what it cost."""

    workers: int
    wall: float
    cpu: float  # user + system of every process of the tree (sampled every 100 ms)
    devices: int
    parent_rss: float
    worker_rss: list[float]
    zoo_cpu: float
    others_cpu: float = 0.0  # CPU s the rest of the machine used meanwhile
    worker_cpu: list[float] = field(default_factory=list)  # last seen, each worker
    reaped_cpu: float = 0.0  # wait4: the CLI and the children it reaped (a cross-check)
    document: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def hosts_per_s(self) -> float:
        return self.devices / self.wall

    @property
    def cpu_ms_per_device(self) -> float:
        return 1000.0 * self.cpu / max(1, self.devices)


def process_cpu(pid: int) -> float:
    """utime + stime of a running process, seconds (its own, not its children's)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    busy = sum(values[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / _TICK, idle / _TICK


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _tree(pid: int) -> tuple[list[int], list[int]]:
    """Every descendant of `pid`, and which of them are workers (the fork server's
    children: the scan's worker processes)."""
    every: list[int] = []
    workers: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        kids = _children(parent)
        if parent != pid and b"forkserver" in _cmdline(parent):
            workers += kids
        every += kids
        todo += kids
    return every, workers


def scan(work: Path, name: str, target: str, count: int, zoo_pid: int,
         *extra: str, timeout: float = 900.0) -> ScanRun:
    """`camaudit scan TARGET --workers N` in a child process, watched every 100 ms."""
    db, out = work / f"{name}.db", work / f"{name}.json"
    for path in (db, out):
        path.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "camaudit", "-q", "scan", target, "--ports", PORTS,
           "--db", str(db), "--json", str(out), "--workers", str(count), *extra]
    zoo_before = process_cpu(zoo_pid)
    busy_before, _ = machine_cpu()
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL, env={**os.environ, "CI": "1"})
        peaks: dict[int, float] = {}
        cpus: dict[int, float] = {}  # every process of the tree, the CLI's own included
        workers: set[int] = set()
        parent_peak = 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            parent_peak = max(parent_peak, _hwm_mb(proc.pid))
            every, now = _tree(proc.pid)
            workers.update(now)
            for one in [proc.pid, *every]:
                cpus[one] = max(cpus.get(one, 0.0), process_cpu(one))
            for child in now:
                peaks[child] = max(peaks.get(child, 0.0), _hwm_mb(child))
            if time.perf_counter() - started > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise RuntimeError(f"{name}: no result within {timeout:.0f}s")
            time.sleep(0.1)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code
        if code != 0:
            err.seek(0)
            raise RuntimeError(f"{name} exited {code}: {err.read().decode()[-800:]}")
    zoo_cpu = process_cpu(zoo_pid) - zoo_before
    busy = machine_cpu()[0] - busy_before
    doc: dict[str, Any] = json.loads(out.read_text())
    if "camaudit-dist-" in str(db):
        db.unlink(missing_ok=True)
    return ScanRun(workers=count, wall=wall, cpu=sum(cpus.values()),
                   devices=len([d for d in doc["devices"] if not d.get("parent")]),
                   parent_rss=parent_peak, worker_rss=[peaks[p] for p in sorted(workers)],
                   zoo_cpu=zoo_cpu, others_cpu=max(0.0, busy - sum(cpus.values()) - zoo_cpu),
                   worker_cpu=[cpus[p] for p in sorted(workers)],
                   reaped_cpu=usage.ru_utime + usage.ru_stime, document=doc)


def inventory(doc: dict[str, Any]) -> list[str]:
    """The devices of an export, every field, observation hashes masked, in address order."""
    return sorted(_SHA.sub("sha256:-", json.dumps(d, sort_keys=True)) for d in doc["devices"])


def keyed(doc: dict[str, Any]) -> dict[str, str]:
    """Each device of an export (as :func:`inventory` writes it) by address#channel."""
    out = {}
    for text in inventory(doc):
        device = json.loads(text)
        out[f"{device['address']}#{device.get('channel')}"] = text
    return out


def differences(a: dict[str, Any] | dict[str, str], b: dict[str, Any] | dict[str, str]
                ) -> list[str]:
    """Devices that differ between two exports (or that only one has), by address#channel."""
    left = a if "devices" not in a else keyed(a)
    right = b if "devices" not in b else keyed(b)
    return sorted(k for k in set(left) | set(right) if left.get(k) != right.get(k))


#: Fields that say what a device is (the rest is how it was found: evidence, confidence).
IDENTITY = ("address", "channel", "device_type", "manufacturer", "brand", "model", "firmware")


def identity_differences(a: dict[str, str], b: dict[str, str]) -> list[str]:
    def ident(text: str | None) -> tuple[Any, ...] | None:
        if text is None:
            return None
        device = json.loads(text)
        return tuple(device.get(f) for f in IDENTITY)
    return sorted(k for k in set(a) | set(b) if ident(a.get(k)) != ident(b.get(k)))


def listeners_in(net: str) -> list[str]:
    """TCP listening addresses inside `net` (ss -ltn), to show what serves there."""
    block = ipaddress.ip_network(net)
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    found = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            host = parts[3].rsplit(":", 1)[0].strip("[]")
            try:
                if ipaddress.ip_address(host) in block:
                    found.add(host)
            except ValueError:
                continue
    return sorted(found, key=lambda a: int(ipaddress.ip_address(a)))


@dataclass
class Results:
    facts: dict[str, str]
    devices: int = 0
    zoo_devices: int = 0
    runs: list[ScanRun] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    #: (first export, second export, devices differing in any field, in identity)
    pairs: list[tuple[str, str, int, int]] = field(default_factory=list)
    big: ScanRun | None = None
    big_zoo: int = 0
    big_found: int = 0
    big_listeners: int = 0

    def median_rate(self, workers: int) -> float:
        return median([r.hosts_per_s for r in self.runs if r.workers == workers])

    @property
    def speedup(self) -> float:
        return self.median_rate(2) / self.median_rate(1)


def zoo_runs(res: Results, work: Path, devices: int, reps: int, two_first: bool = False
             ) -> None:
    """--workers 1 and 2, alternating, on the zoo's address range."""
    with run_in_subprocess(count=devices, seed=1, base=ZOO_NET, hostile=False,
                           timeout=300, lifetime=60.0) as zoo:
        res.zoo_devices = len(zoo.devices)
        target = f"{zoo.devices[0]['address']}-{zoo.devices[-1]['address']}"
        log(f"zoo: {len(zoo.devices)} devices on {target} in {zoo.startup_seconds:.0f}s")
        exports: dict[str, dict[str, str]] = {}
        for rep in range(reps):
            for workers in ((1, 2) if (rep % 2 == 0) != two_first else (2, 1)):
                run = scan(work, f"w{workers}-{rep}", target, workers, zoo.proc.pid)
                log(f"rep {rep + 1} --workers {workers}: {run.wall:.1f}s, "
                    f"{run.hosts_per_s:.0f} hosts/s, {run.cpu:.1f} CPU s, zoo "
                    f"{run.zoo_cpu:.1f} CPU s, others {run.others_cpu:.1f} CPU s, worker CPU "
                    f"{run.worker_cpu}, RSS {run.worker_rss}, wait4 {run.reaped_cpu:.1f}")
                exports[f"{workers} worker{'s' if workers > 1 else ''} rep {rep + 1}"] = \
                    keyed(run.document)
                run.document = {}
                res.runs.append(run)
        res.devices = res.runs[0].devices
        names = list(exports)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                res.pairs.append((a, b, len(differences(exports[a], exports[b])),
                                  len(identity_differences(exports[a], exports[b]))))
                if a.startswith("1 ") != b.startswith("1 "):
                    res.differing += differences(exports[a], exports[b])
        res.differing = sorted(set(res.differing))


def big_run(res: Results, work: Path, devices: int) -> None:
    """--workers 2 over a mostly empty /12 that holds one small zoo, on port 80."""
    with run_in_subprocess(count=devices, seed=2, base=BIG_ZOO_NET, hostile=False,
                           timeout=300, lifetime=60.0) as zoo:
        served = listeners_in(BIG_NET)
        inside = set(listeners_in(BIG_ZOO_NET))
        if set(served) - inside:
            raise RuntimeError(f"something else listens in {BIG_NET}: "
                               f"{sorted(set(served) - inside)[:5]}")
        res.big_listeners = len(served)
        res.big_zoo = sum(1 for d in zoo.devices if 80 in d["ports"])
        run = scan(work, "big", BIG_NET, 2, zoo.proc.pid, "--ports", "80", "--yes",
                   timeout=1200)
        res.big_found = run.devices
        run.document = {}
        res.big = run
        log(f"/12 --workers 2: {run.wall:.1f}s, {run.devices} hosts "
            f"({res.big_zoo} zoo devices on port 80), worker RSS {run.worker_rss}")


def markdown(res: Results) -> str:
    f = res.facts
    lines = [f"## Local workers: `scan --workers N` (issue 16), {f['date']} {f['time']} · "
             f"commit {f['commit']}", "",
             f"Command: `.venv/bin/python benchmarks/dist.py --write`. Machine: {f['cpus']}, "
             f"load {f['load_before']} before, {f['load_after']} after (the cores are shared "
             "with two other developers' work).", "",
             f"### Zoo: {res.zoo_devices:,} devices on {ZOO_NET} (no hostile personas), full "
             "audit, default ports, all probes", "",
             "| rep | workers | wall s | hosts/s | CPU s (camaudit tree) | CPU ms/device | "
             "zoo CPU s | other work CPU s | parent RSS MB | worker RSS MB (VmHWM each) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for i, r in enumerate(res.runs):
        lines.append(f"| {i // 2 + 1} | {r.workers} | {r.wall:.1f} | {r.hosts_per_s:.0f} | "
                     f"{r.cpu:.1f} | {r.cpu_ms_per_device:.2f} | {r.zoo_cpu:.1f} | "
                     f"{r.others_cpu:.1f} | {r.parent_rss:.0f} | "
                     f"{', '.join(f'{m:.0f}' for m in r.worker_rss) or '- (in-process)'} |")
    one = [r for r in res.runs if r.workers == 1]
    two = [r for r in res.runs if r.workers == 2]
    busy1 = median([(r.cpu + r.zoo_cpu) / r.wall for r in one])
    busy2 = median([(r.cpu + r.zoo_cpu) / r.wall for r in two])
    lines += ["", f"Speed-up of 2 workers over 1: **{res.speedup:.2f}x** hosts/s (median of "
              f"{len(one)} runs each; issue target ≥ 1.5x). Devices found: "
              f"{res.devices:,} of {res.zoo_devices:,}; the --workers 1 and --workers 2 "
              "exports are " + ("identical device by device (every field, observation "
                                "hashes aside)." if not res.differing else
                                f"not identical in every field for {len(res.differing)} "
                                "devices; pair by pair:"), ""]
    if res.differing:
        lines += ["| export | export | devices differing in any field | ... in type, maker, "
                  "brand, model or firmware |", "|---|---|---:|---:|"]
        lines += [f"| {a} | {b} | {n} | {m} |" for a, b, n, m in res.pairs]
    lines += ["",
              f"CPU split: with 1 worker the scanner used "
              f"{median([r.cpu for r in one]):.1f} CPU s and the zoo "
              f"{median([r.zoo_cpu for r in one]):.1f}; with 2, "
              f"{median([r.cpu for r in two]):.1f} and {median([r.zoo_cpu for r in two]):.1f}. "
              f"Cores busy (scanner + zoo CPU s per wall s): {busy1:.2f} with 1 worker, "
              f"{busy2:.2f} with 2, out of 2 cores that other work also used.", ""]
    if res.big is not None:
        b = res.big
        lines += [f"### Mostly empty /12: {BIG_NET}, 1,048,576 addresses, port 80, "
                  "`--workers 2`", "",
                  f"Listening in the /12 before the scan: {res.big_listeners} addresses, all "
                  f"of them the zoo's on {BIG_ZOO_NET}. {res.big_found:,} hosts found of the "
                  f"{res.big_zoo:,} zoo devices with port 80 in {b.wall:.1f} s "
                  f"({1_048_576 / b.wall:,.0f} addresses/s); CPU {b.cpu:.1f} s (zoo "
                  f"{b.zoo_cpu:.1f}); peak RSS parent {b.parent_rss:.0f} MB, workers "
                  f"{', '.join(f'{m:.0f}' for m in b.worker_rss)} MB.", ""]
    lines += [summary(res), ""]
    return "\n".join(lines)


def summary(res: Results) -> str:
    f = res.facts
    return (f"summary: date={f['date']} commit={f['commit'].split('+')[0]} "
            f"workers={res.speedup:.2f}x hosts_s_1={res.median_rate(1):.0f} "
            f"hosts_s_2={res.median_rate(2):.0f} identical={'yes' if not res.differing else 'no'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--big-devices", type=int, default=1000,
                        help="zoo devices inside the /12 (0: skip the /12 run)")
    parser.add_argument("--write", action="store_true", help="append to RESULTS.md")
    parser.add_argument("--keep", help="keep the JSON exports in this directory")
    parser.add_argument("--two-first", action="store_true",
                        help="start with --workers 2 (then alternate)")
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    os.environ.setdefault("CAMAUDIT_ZOO_TRAP", TRAP)
    res = Results(facts=machine.facts())
    res.facts["load_before"] = machine.load()
    with tempfile.TemporaryDirectory(prefix="camaudit-dist-") as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        zoo_runs(res, work, args.devices, args.reps, args.two_first)
        if args.big_devices:
            big_run(res, work, args.big_devices)
    res.facts["load_after"] = machine.load()
    text = markdown(res)
    if args.write:
        results.append(text, args.results)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
