"""CPU seconds per device of a full audit, and of the zoo serving it (issue 16).

    python benchmarks/cpu_profile.py                        # 3 runs, min/median
    python benchmarks/cpu_profile.py --profile              # + where the scanner's CPU goes
    git archive BASE | tar -x -C /tmp/base                  # then, before against after:
    python benchmarks/cpu_profile.py --before /tmp/base/src --keep out/cpu --profile

A zoo of 5,000 devices (seed 1, no hostile personas, as benchmarks/run.py starts it)
serves on 127.220.0.0/17, and `camaudit scan` (default ports and probes, SQLite store,
``--json``) audits the zoo's address range, each in a child process. CPU is process
CPU time (user + system), which the load of other processes moves far less than wall
time: the scanner's from ``wait4`` of its child, the zoo's as the difference of
/proc/PID/stat before and after the scan. Per device = CPU / devices served.

``--before DIR`` also measures the code under DIR (a ``src`` folder: its zoo and its
scanner, through PYTHONPATH), alternating with this tree run by run (each run on a zoo
started for it), so that both see the same machine; ``--keep`` keeps each run's
``--json`` export for benchmarks/same_audit.py. ``--profile`` adds one run a side
under py-spy (sampling from outside, so the scanner runs at its own speed) and splits
the samples by the pipeline stage on the stack (:data:`_STAGES`). Everything stays on
127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: This script's block; the zoo's out-of-scope trap sits inside it, past the zoo.
NET = "127.220.0.0/17"
os.environ.setdefault("CAMAUDIT_ZOO_TRAP", "127.220.255.1")

import machine  # noqa: E402
import results  # noqa: E402
from measure import Run, median, timed  # noqa: E402

from camaudit.zoo.process import ZooProcess, run_in_subprocess  # noqa: E402

assert NET.startswith("127."), NET

#: Where a sample belongs: the first stage whose pattern matches a frame of its stack
#: (a py-spy frame reads "function (path:line)"; some stacks come back without their
#: outer frames, so no stage relies on the frames above the event loop).
_STAGES = (
    ("after the scan: digest and --json", r"(digest|write_json|iter_devices) \("),
    ("store (saving hosts)", r"camaudit/store/|sqlalchemy/|sqlite3/"),
    ("identify/assess", r"camaudit/(identify|assess|knowledge)/"),
    ("sweep", r"camaudit/sweep\.py|(tcp_sweep|_ready|abort) \([^)]*camaudit/netio\.py"),
    ("probes (Python)", r"camaudit/probes/|camaudit/netio\.py"),
    ("start-up (imports)", r"<frozen importlib"),
    ("event loop, sockets, TLS (uvloop)", r"run_async \(|asyncio/|uvloop|ssl\.py"),
)
STAGES = tuple((name, re.compile(pattern)) for name, pattern in _STAGES)


@dataclass
class Side:
    """One version of the code under test and what its runs cost."""

    name: str
    src: str | None  # a src folder put first on PYTHONPATH; None: this tree
    runs: list[tuple[Run, float]] = field(default_factory=list)
    profile: tuple[Run, Counter[str], Counter[str]] | None = None


@contextlib.contextmanager
def python_path(src: str | None) -> Iterator[None]:
    """Child processes started inside import camaudit from `src` (this tree if None)."""
    old = os.environ.get("PYTHONPATH")
    if src is not None:
        os.environ["PYTHONPATH"] = src
    try:
        yield
    finally:
        if src is not None:
            if old is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = old


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_process(src: str | None) -> list[str]:
    """The flag that keeps a scan in one process, where the code has worker processes."""
    code = Path(src) if src else HERE.parent / "src"
    return ["--workers", "1"] if "--workers" in (code / "camaudit/scan_commands.py").read_text(
        encoding="utf-8") else []


def one_run(zoo: ZooProcess, work: Path, name: str, wrap: list[str] | None = None,
            flags: list[str] | None = None) -> tuple[Run, float, Path]:
    """One full audit of the zoo: (the scanner's run, the zoo's CPU seconds, the export)."""
    db, out = work / f"{name}.db", work / f"{name}.json"
    for path in (db, out):
        path.unlink(missing_ok=True)
    target = f"{zoo.devices[0]['address']}-{zoo.devices[-1]['address']}"
    before = cpu_seconds(zoo.proc.pid)
    run = timed([*(wrap or []), sys.executable, "-m", "camaudit", "-q", "scan", target,
                 "--db", str(db), "--json", str(out), *(flags or [])],
                timeout=900, env={**os.environ, "CI": "1"}).check(f"scan {name}")
    zoo_cpu = cpu_seconds(zoo.proc.pid) - before
    db.unlink(missing_ok=True)
    return run, zoo_cpu, out


def classify(stack: str) -> str:
    for stage, pattern in STAGES:
        if pattern.search(stack):
            return stage
    return "other"


def split(raw: Path) -> tuple[Counter[str], Counter[str]]:
    """Samples per stage, and per innermost frame (self time), from py-spy's raw output."""
    stages: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        stages[classify(stack)] += int(count)
        leaves[stack.rsplit(";", 1)[-1]] += int(count)
    return stages, leaves


def measure(side: Side, work: Path, devices: int, *, profile_rate: int = 0,
            keep: Path | None = None) -> None:
    """One run of `side` on a zoo of its own (under py-spy if `profile_rate`)."""
    label = f"{side.name}-{'profile' if profile_rate else len(side.runs) + 1}"
    with python_path(side.src), run_in_subprocess(
            count=devices, seed=1, base=NET, hostile=False, timeout=300,
            manifest_path=work / f"{side.name}-manifest.json") as zoo:
        wrap = None
        raw = work / f"{label}.txt"
        if profile_rate:
            spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
            wrap = [spy, "record", "--nonblocking", "--format", "raw", "-r",
                    str(profile_rate), "-o", str(raw), "--"]
        run, zoo_cpu, out = one_run(zoo, work, label, wrap, one_process(side.src))
    if keep is not None:
        shutil.copy(out, keep / out.name)
    if profile_rate:
        side.profile = (run, *split(raw))
        if keep is not None:
            shutil.copy(raw, keep / raw.name)
        return
    side.runs.append((run, zoo_cpu))
    print(f"cpu: {label}: wall {run.wall:.1f}s, scanner {run.user + run.system:.1f}s, "
          f"zoo {zoo_cpu:.1f}s, load {machine.load()}", file=sys.stderr, flush=True)


def _runs_table(side: Side, devices: int) -> list[str]:
    lines = [f"{side.name}:", "", "| run | wall s | scanner CPU s (user+sys) | "
             "scanner ms/device | zoo CPU s | zoo ms/device |", "|---|---|---|---|---|---|"]
    for n, (run, zoo_cpu) in enumerate(side.runs, 1):
        cpu = run.user + run.system
        lines.append(f"| {n} | {run.wall:.1f} | {cpu:.1f} ({run.user:.1f}+{run.system:.1f}) | "
                     f"{1000 * cpu / devices:.2f} | {zoo_cpu:.1f} | "
                     f"{1000 * zoo_cpu / devices:.2f} |")
    return [*lines, ""]


def summary(side: Side, devices: int) -> str:
    scan_ms = [1000 * (r.user + r.system) / devices for r, _ in side.runs]
    zoo_ms = [1000 * z / devices for _, z in side.runs]
    walls = [r.wall for r, _ in side.runs]
    return (f"{side.name}: scanner **{min(scan_ms):.2f} / {median(scan_ms):.2f} ms/device** "
            f"(min / median), zoo {min(zoo_ms):.2f} / {median(zoo_ms):.2f} ms/device, "
            f"wall {min(walls):.1f} / {median(walls):.1f} s")


def _profile_table(sides: list[Side], devices: int) -> list[str]:
    profiled = [s for s in sides if s.profile is not None]
    if not profiled:
        return []
    lines = ["py-spy split of one more run a side (ms/device: the stage's share of the samples "
             "times the side's median scanner CPU per device above):", "",
             "| stage | " + " | ".join(f"{s.name} share | {s.name} ≈ ms/device"
                                      for s in profiled) + " |",
             "|---|" + "---|---|" * len(profiled)]
    names = [name for name, _ in _STAGES] + ["other"]
    for name in names:
        cells = []
        for side in profiled:
            assert side.profile is not None
            _, stages, _ = side.profile
            total = sum(stages.values()) or 1
            share = stages.get(name, 0) / total
            run = side.profile[0]  # the profiled run itself when no other was made
            per_device = share * median([1000 * (r.user + r.system) / devices
                                         for r, _ in side.runs or [(run, 0.0)]])
            cells.append(f"{100 * share:.1f} % | {per_device:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for side in profiled:
        assert side.profile is not None
        _, stages, leaves = side.profile
        total = sum(stages.values()) or 1
        lines += ["", f"Top frames by self samples, {side.name}:", ""]
        lines += [f"- {100 * n / total:.1f} % `{frame}`" for frame, n in leaves.most_common(12)]
    return [*lines, ""]


def markdown(facts: dict[str, str], devices: int, sides: list[Side]) -> str:
    lines = [f"### Run {facts['date']} {facts['time']} · commit {facts['commit']}", "",
             f"{devices:,} devices on {NET} (seed 1, no hostile personas), a zoo started for "
             f"each run; {facts['cpus']}; load before {facts['load_before']}, after "
             f"{facts['load_after']}.", ""]
    for side in sides:
        lines += _runs_table(side, devices)
    lines += [f"- {summary(side, devices)}" for side in sides if side.runs] + [""]
    lines += _profile_table(sides, devices)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--before", metavar="SRC", help="also measure the code in SRC "
                        "(a src folder), alternating with this tree")
    parser.add_argument("--profile", action="store_true", help="one more run a side under "
                        "py-spy")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--keep", help="copy each run's --json export into this directory")
    parser.add_argument("--results", help="append the markdown block to this file")
    args = parser.parse_args()
    facts = machine.facts()
    facts["load_before"] = machine.load()
    keep = Path(args.keep) if args.keep else None
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    sides = [Side("after" if args.before else "this tree", None)]
    if args.before:
        sides.insert(0, Side("before", str(Path(args.before).resolve())))
    with tempfile.TemporaryDirectory(prefix="camaudit-cpu-") as tmp:
        work = Path(tmp)
        for rep in range(args.reps):
            for side in sides if rep % 2 == 0 else sides[::-1]:
                measure(side, work, args.devices, keep=keep)
        if args.profile:
            for side in sides:
                measure(side, work, args.devices, profile_rate=args.rate, keep=keep)
    facts["load_after"] = machine.load()
    text = markdown(facts, args.devices, sides)
    if args.results:
        results.append(text, args.results)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
