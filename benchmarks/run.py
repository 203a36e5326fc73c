"""camaudit against nmap on the same loopback zoo: sweep, identification, memory, scaling.

    make bench                     # the full run (< 10 min), appends to benchmarks/RESULTS.md
    python benchmarks/run.py --quick --results /tmp/r.md   # a small smoke run

Everything runs on 127.0.0.0/8 only: the zoo serves emulated devices on
loopback addresses and both tools are pointed at those blocks and nothing
else. Each measurement runs the tool as a child process (camaudit through its
CLI, as a user would), so its wall time and peak RSS are its own. Ratios are
camaudit over nmap, paired inside each repetition (the two tools run back to
back, in alternating order) and reported as the median with min–max spread.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dist  # noqa: E402
import machine  # noqa: E402
import nmap_fair  # noqa: E402
import realbanners  # noqa: E402
import results  # noqa: E402
from measure import Run, median, spread, timed  # noqa: E402

from camaudit.sweep import DEFAULT_PORTS  # noqa: E402
from camaudit.zoo.process import run_in_subprocess  # noqa: E402
from camaudit.zoo.score import score  # noqa: E402

PORTS = ",".join(str(p) for p in DEFAULT_PORTS)
#: Loopback blocks that no test or tool of the project uses
#: (tests use 127.42/.43/.47/.57/.66/.67/.77).
SWEEP_NET = "127.200.0.0/16"
BIG_NET = "127.192.0.0/12"  # 1,048,576 addresses, holds SWEEP_NET
#: realbanners.py replays held-out samples on 127.203.0.0/16, inside BIG_NET: it runs
#: after the memory runs, never while BIG_NET is scanned.
IDENT_NET = "127.201.0.0/24"


@dataclass
class Config:
    devices: int = 5000
    sweep_net: str = SWEEP_NET
    big_net: str = BIG_NET
    ident_count: int = 34  # every non-hostile persona exactly once
    scaling: tuple[int, ...] = (500, 1000, 2000, 5000)
    reps: int = 3
    nmap_sv_timeout: float = 420.0


QUICK = Config(devices=500, sweep_net="127.200.0.0/20", big_net="127.200.0.0/16",
               scaling=(100, 250, 500), reps=2)


@dataclass
class Results:
    facts: dict[str, str]
    config: Config
    sweep: list[dict[str, Any]] = field(default_factory=list)
    ident: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    scaling: list[dict[str, Any]] = field(default_factory=list)
    real: realbanners.Results | None = None
    workers: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def log(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def camaudit_scan(work: Path, name: str, target: str, *extra: str,
                  timeout: float = 600.0) -> tuple[Run, dict[str, Any]]:
    db, out = work / f"{name}.db", work / f"{name}.json"
    for path in (db, out):
        path.unlink(missing_ok=True)
    # one process, as every figure here was measured before issue 16 (bench_workers: more)
    run = timed([sys.executable, "-m", "camaudit", "-q", "scan", target, "--ports", PORTS,
                 "--db", str(db), "--json", str(out), "--workers", "1", *extra],
                timeout=timeout, env={**os.environ, "CI": "1"}).check(f"camaudit scan {name}")
    doc: dict[str, Any] = json.loads(out.read_text())
    db.unlink(missing_ok=True)
    return run, doc


def nmap(work: Path, name: str, target: str, *args: str,
         timeout: float = 600.0) -> tuple[Run, Path]:
    out = work / f"{name}.xml"
    run = timed(["nmap", "-n", "-Pn", "-T4", "-p", PORTS, "--open", "-oX", str(out), *args,
                 target], timeout=timeout)
    if run.returncode != 0 and not out.exists():
        raise RuntimeError(f"nmap {name} exited {run.returncode}: {run.stderr[-500:]}")
    return run, out


def expected_open(manifest: dict[str, Any], within: str | None = None) -> int:
    wanted = set(DEFAULT_PORTS)
    net = ipaddress.ip_network(within) if within else None
    return sum(len(wanted & set(d["ports"])) for d in manifest["devices"]
               if net is None or ipaddress.ip_address(d["address"]) in net)


def doc_open(doc: dict[str, Any]) -> int:
    return sum(len(d["ports"]) for d in doc["devices"])


def accuracy(doc: dict[str, Any], manifest: dict[str, Any]) -> tuple[float, float]:
    s = score(doc, manifest, fields=("device_type", "manufacturer"))
    return s.accuracy("device_type"), s.accuracy("manufacturer")


# -- 1. sweep ------------------------------------------------------------------
def bench_sweep(res: Results, work: Path, manifest: dict[str, Any]) -> None:
    cfg = res.config
    net = ipaddress.ip_network(cfg.sweep_net)
    probes = net.num_addresses * len(DEFAULT_PORTS)
    want = expected_open(manifest)
    for rep in range(cfg.reps):
        row: dict[str, Any] = {"rep": rep + 1}
        order = ("nmap", "camaudit") if rep % 2 == 0 else ("camaudit", "nmap")
        for tool in order:
            if tool == "nmap":
                run, xml = nmap(work, "sweep", cfg.sweep_net, "-sT")
                found = nmap_fair.open_ports(str(xml))
            else:
                run, doc = camaudit_scan(work, "sweep", cfg.sweep_net, "--no-probes")
                found = doc_open(doc)
                row["camaudit_inner"] = float(doc["scan"]["stats"].get("elapsed") or 0.0)
            row[tool] = {"wall": run.wall, "rate": probes / run.wall, "found": found,
                         "rss": run.rss_mb, "cpu": run.user + run.system}
        row["ratio"] = row["camaudit"]["rate"] / row["nmap"]["rate"]
        row["want"] = want
        log(f"sweep rep {rep + 1}: nmap {row['nmap']['wall']:.1f}s, camaudit "
            f"{row['camaudit']['wall']:.1f}s, ratio {row['ratio']:.2f}x")
        res.sweep.append(row)


# -- 2. identification -----------------------------------------------------------
class NmapVersionScan:
    """nmap -sV on the identification zoo, in a thread, started first.

    nmap -sV spends its minutes waiting for replies to probes that cameras'
    binary ports ignore (it uses ~1 % of a core), so it runs while the other
    measurements run; camaudit's identification runs happen afterwards, on a
    machine that is otherwise idle.
    """

    def __init__(self, work: Path, timeout: float) -> None:
        self.work = work
        self.timeout = timeout
        self.runs: list[tuple[Run, Path]] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.runs.append(nmap(self.work, "ident", IDENT_NET, "-sV", timeout=self.timeout))
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def start(self) -> NmapVersionScan:
        self.thread.start()
        return self

    def finish(self) -> tuple[Run, Path]:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.runs[0]


def bench_identification(res: Results, work: Path, manifest: dict[str, Any],
                         nmap_sv: NmapVersionScan) -> None:
    cfg = res.config
    n = len(manifest["devices"])
    nmap_run, xml = nmap_sv.finish()
    if nmap_run.returncode != 0:
        res.notes.append(f"nmap -sV ended with {nmap_run.returncode} after "
                         f"{nmap_run.wall:.0f}s (timeout {cfg.nmap_sv_timeout:.0f}s)")
    nmap_acc = accuracy(nmap_fair.document(str(xml)), manifest)
    log(f"identification: nmap -sV {nmap_run.wall:.1f}s")
    cam: list[Run] = []
    cam_acc = (0.0, 0.0)
    for rep in range(cfg.reps):
        run, doc = camaudit_scan(work, "ident", IDENT_NET)
        cam.append(run)
        cam_acc = accuracy(doc, manifest)
        log(f"identification rep {rep + 1}: camaudit {run.wall:.1f}s")
    cam_rates = [n / r.wall for r in cam]
    nmap_rates = [n / nmap_run.wall]
    res.ident = {"devices": n, "camaudit": cam_rates, "nmap": nmap_rates,
                 "camaudit_wall": [r.wall for r in cam], "nmap_wall": [nmap_run.wall],
                 "ratio": median(cam_rates) / median(nmap_rates),
                 "camaudit_acc": cam_acc, "nmap_acc": nmap_acc}


# -- 3. memory and 4. scaling ------------------------------------------------------
def bench_memory(res: Results, work: Path, manifest: dict[str, Any]) -> None:
    cfg = res.config
    full, doc = camaudit_scan(work, "mem-full", cfg.sweep_net)
    acc = accuracy(doc, manifest)
    small, _ = camaudit_scan(work, "mem-small", cfg.sweep_net, "--ports", "80")
    big, doc_big = camaudit_scan(work, "mem-big", cfg.big_net, "--ports", "80", "--yes",
                                 timeout=900)
    res.memory = {
        "full": {"wall": full.wall, "rss": full.rss_mb, "acc": acc,
                 "addresses": ipaddress.ip_network(cfg.sweep_net).num_addresses},
        "small": {"wall": small.wall, "rss": small.rss_mb,
                  "addresses": ipaddress.ip_network(cfg.sweep_net).num_addresses},
        "big": {"wall": big.wall, "rss": big.rss_mb, "devices": len(doc_big["devices"]),
                "addresses": ipaddress.ip_network(cfg.big_net).num_addresses},
        "growth": big.rss_mb / small.rss_mb - 1.0,
    }
    log(f"memory: /16 full {full.rss_mb:.0f} MB; port 80 only: {small.rss_mb:.0f} MB -> "
        f"{big.rss_mb:.0f} MB for {res.memory['big']['addresses']:,} addresses")


def bench_scaling_point(res: Results, work: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    devices = manifest["devices"]
    target = f"{devices[0]['address']}-{devices[-1]['address']}"
    run, doc = camaudit_scan(work, f"scale-{len(devices)}", target)
    cls, maker = accuracy(doc, manifest)
    res.scaling.append({"devices": len(devices), "wall": run.wall, "rss": run.rss_mb,
                        "hosts_per_s": len(devices) / run.wall, "class": cls, "maker": maker,
                        "cpu": run.user + run.system})
    log(f"scaling {len(devices)}: {run.wall:.1f}s, {run.rss_mb:.0f} MB")
    return doc


def bench_workers(res: Results, work: Path, zoo: Any, doc: dict[str, Any]) -> None:
    """The scaling point just measured (`doc` its export) again with 2 worker processes."""
    one = res.scaling[-1]
    devices = zoo.manifest["devices"]
    target = f"{devices[0]['address']}-{devices[-1]['address']}"  # as bench_scaling_point
    two = dist.scan(work, "workers-2", target, 2, zoo.proc.pid)
    same = not dist.differences(doc, two.document)
    # same target, same count of devices: the ratio of hosts/s is that of wall times
    res.workers = {"one": one["hosts_per_s"], "two": one["devices"] / two.wall,
                   "ratio": one["wall"] / two.wall, "same": same,
                   "cpu": two.cpu, "rss": two.worker_rss}
    log(f"workers: 2 workers {two.wall:.1f}s, {res.workers['ratio']:.2f}x of 1 worker")


# -- 5. real banners ----------------------------------------------------------------
def bench_real_banners(res: Results, work: Path) -> None:
    """Held-out real replies replayed on loopback; camaudit and nmap scored per field."""
    try:
        res.real = realbanners.run(work / "real")
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        res.notes.append(f"real banners not measured: {exc}")
        return
    f = res.real.figures()
    log(f"real banners: class {f['real_class'][0]}/{f['real_class'][1]}, "
        f"maker {f['real_maker'][0]}/{f['real_maker'][1]}")


# -- report ------------------------------------------------------------------------
def summary_line(res: Results) -> str:
    f = res.facts
    sweep = median([r["ratio"] for r in res.sweep])
    ca, na = res.ident["camaudit_acc"], res.ident["nmap_acc"]
    real = "real_class=n/a real_maker=n/a"
    if res.real is not None:
        rf = res.real.figures()
        real = (f"real_class={rf['real_class'][0]}/{rf['real_class'][1]} "
                f"real_maker={rf['real_maker'][0]}/{rf['real_maker'][1]}")
    workers = f"workers={res.workers['ratio']:.2f}x" if res.workers else "workers=n/a"
    return (f"summary: date={f['date']} commit={f['commit'].split('+')[0]} "
            f"sweep={sweep:.2f}x identification={res.ident['ratio']:.2f}x "
            f"class_acc={ca[0]:.3f}/{na[0]:.3f} maker_acc={ca[1]:.3f}/{na[1]:.3f} "
            f"rss_mb={res.memory['full']['rss']:.0f} rss_growth={res.memory['growth']:.2f} "
            f"{workers} {real}")


def markdown(res: Results, chart: str | None) -> str:
    f, cfg = res.facts, res.config
    lines = [f"## Run {f['date']} {f['time']} · commit {f['commit']}", ""]
    lines += ["| machine | |", "|---|---|"]
    for key in ("cpus", "memory", "kernel", "python", "nmap", "fd_limit", "load_before",
                "load_after"):
        lines.append(f"| {key.replace('_', ' ')} | {f.get(key, '')} |")
    lines += ["", f"Repetitions: {cfg.reps} (nmap -sV: 1, see 2.). Ports: the "
              f"{len(DEFAULT_PORTS)} camaudit default ports, for both tools. nmap: "
              "`-n -Pn -T4 --open`.", ""]
    # sweep
    probes = ipaddress.ip_network(cfg.sweep_net).num_addresses * len(DEFAULT_PORTS)
    lines += [f"### 1. Sweep: {cfg.sweep_net}, {cfg.devices:,} devices, {probes:,} probes",
              "", "| rep | nmap -sT s | nmap probes/s | camaudit s | camaudit probes/s | "
              "ratio | open ports nmap / camaudit / manifest |", "|---|---|---|---|---|---|---|"]
    for r in res.sweep:
        lines.append(f"| {r['rep']} | {r['nmap']['wall']:.1f} | {r['nmap']['rate']:,.0f} | "
                     f"{r['camaudit']['wall']:.1f} | {r['camaudit']['rate']:,.0f} | "
                     f"{r['ratio']:.2f}x | {r['nmap']['found']} / {r['camaudit']['found']} / "
                     f"{r['want']} |")
    ratios = [r["ratio"] for r in res.sweep]
    inner = [r.get("camaudit_inner", 0.0) for r in res.sweep]
    lines += ["", f"Median ratio **{median(ratios):.2f}x** (spread {spread(ratios)}). "
              f"camaudit's wall time is the whole CLI run (start-up, store, JSON); its "
              f"sweep loop alone took {median(inner):.1f} s (median).", ""]
    # identification
    i = res.ident
    ca, na = i["camaudit_acc"], i["nmap_acc"]
    lines += [f"### 2. Identification: {IDENT_NET}, {i['devices']} devices (each persona "
              "once)", "", "| tool | runs (s) | hosts/s median (spread) | class acc | "
              "maker acc |", "|---|---|---|---|---|",
              f"| camaudit scan | {', '.join(f'{w:.1f}' for w in i['camaudit_wall'])} | "
              f"{median(i['camaudit']):.2f} ({spread(i['camaudit'])}) | {ca[0]:.3f} | "
              f"{ca[1]:.3f} |",
              f"| nmap -sV | {', '.join(f'{w:.1f}' for w in i['nmap_wall'])} | "
              f"{median(i['nmap']):.3f} ({spread(i['nmap'])}) | {na[0]:.3f} | {na[1]:.3f} |",
              "", f"Ratio **{i['ratio']:.1f}x** hosts/s. nmap's answers are mapped to class "
              "and maker as described in benchmarks/nmap_fair.py.", ""]
    # memory
    m = res.memory
    lines += ["### 3. Memory (peak RSS of the camaudit process: its VmHWM)", "",
              "| scan | addresses | devices found | wall s | peak RSS MB |",
              "|---|---|---|---|---|",
              f"| full audit, default ports | {m['full']['addresses']:,} | {cfg.devices:,} "
              f"(class {m['full']['acc'][0]:.3f}, maker {m['full']['acc'][1]:.3f}) | "
              f"{m['full']['wall']:.1f} | {m['full']['rss']:.0f} |",
              f"| full audit, port 80 | {m['small']['addresses']:,} | same zoo | "
              f"{m['small']['wall']:.1f} | {m['small']['rss']:.0f} |",
              f"| full audit, port 80 | {m['big']['addresses']:,} | {m['big']['devices']:,} | "
              f"{m['big']['wall']:.1f} | {m['big']['rss']:.0f} |", "",
              f"Growth from {m['small']['addresses']:,} to {m['big']['addresses']:,} "
              f"addresses: **{100 * m['growth']:+.1f} %** (same devices, same ports; one port "
              "keeps the 1,048,576-address run within the time budget).", ""]
    # scaling
    lines += ["### 4. Scaling (full audit, scope = the zoo's address range)", "",
              "| devices | wall s | hosts/s | peak RSS MB | CPU s | class acc | maker acc |",
              "|---|---|---|---|---|---|---|"]
    for r in res.scaling:
        lines.append(f"| {r['devices']:,} | {r['wall']:.1f} | {r['hosts_per_s']:.1f} | "
                     f"{r['rss']:.0f} | {r['cpu']:.1f} | {r['class']:.3f} | {r['maker']:.3f} |")
    if chart:
        lines += ["", f"![time and RSS against devices]({chart})"]
    if res.workers:
        w = res.workers
        lines += ["", f"With `--workers 2` the {cfg.devices:,}-device audit ran at "
                  f"{w['two']:.1f} hosts/s against {w['one']:.1f} with one process: "
                  f"**{w['ratio']:.2f}x** (one run each; benchmarks/dist.py measures it "
                  f"with repetitions); worker peak RSS "
                  f"{', '.join(f'{m:.0f}' for m in w['rss'])} MB; devices "
                  f"{'identical' if w['same'] else 'NOT identical'} to the 1-process run."]
    if res.real is not None:
        lines += ["", realbanners.markdown(res.real, heading="### 5. Real banners").rstrip()]
    for note in res.notes:
        lines += ["", f"Note: {note}"]
    lines += ["", summary_line(res), ""]
    return "\n".join(lines)


def chart(res: Results, path: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        res.notes.append("matplotlib is missing: no chart (pip install matplotlib)")
        return None
    xs = [r["devices"] for r in res.scaling]
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(xs, [r["wall"] for r in res.scaling], "o-", color="tab:blue", label="wall time")
    left.set_xlabel("zoo devices")
    left.set_ylabel("wall time (s)", color="tab:blue")
    right = left.twinx()
    right.plot(xs, [r["rss"] for r in res.scaling], "s--", color="tab:red", label="peak RSS")
    right.set_ylabel("peak RSS (MB)", color="tab:red")
    right.set_ylim(bottom=0)
    left.set_ylim(bottom=0)
    left.set_title(f"camaudit full audit · {res.facts['date']} · {res.facts['commit']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--reps", type=int, help="repetitions of the paired measurements")
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"),
                        help="markdown file to append to")
    parser.add_argument("--chart", default=str(HERE / "scaling.png"))
    args = parser.parse_args()
    cfg = QUICK if args.quick else Config()
    if args.reps:
        cfg.reps = args.reps
    machine.ensure_nmap()
    res = Results(facts=machine.facts(), config=cfg)
    res.facts["load_before"] = machine.load()
    log(f"commit {res.facts['commit']}, load {res.facts['load_before']}")
    with tempfile.TemporaryDirectory(prefix="camaudit-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        ident_zoo = stack.enter_context(run_in_subprocess(
            count=cfg.ident_count, seed=1, base=IDENT_NET, hostile=False,
            manifest_path=work / "ident-manifest.json"))
        nmap_sv = NmapVersionScan(work, cfg.nmap_sv_timeout).start()
        with run_in_subprocess(count=cfg.devices, seed=1, base=cfg.sweep_net,
                               manifest_path=work / "manifest.json", hostile=False,
                               timeout=300) as zoo:
            log(f"zoo: {len(zoo.devices)} devices in {zoo.startup_seconds:.1f}s")
            bench_sweep(res, work, zoo.manifest)
            bench_memory(res, work, zoo.manifest)
            if cfg.devices in cfg.scaling:
                bench_workers(res, work, zoo, bench_scaling_point(res, work, zoo.manifest))
        for count in sorted(set(cfg.scaling) - {cfg.devices}):
            with run_in_subprocess(count=count, seed=1, base=cfg.sweep_net,
                                   manifest_path=work / f"manifest-{count}.json",
                                   hostile=False, timeout=300) as zoo:
                bench_scaling_point(res, work, zoo.manifest)
        res.scaling.sort(key=lambda r: r["devices"])
        log("waiting for nmap -sV")
        bench_identification(res, work, ident_zoo.manifest, nmap_sv)
        (work / "real").mkdir()
        bench_real_banners(res, work)
    res.facts["load_after"] = machine.load()
    picture = chart(res, Path(args.chart))
    rel = os.path.relpath(args.chart, Path(args.results).parent) if picture else None
    text = markdown(res, rel)
    if not Path(args.results).exists():
        Path(args.results).write_text("# Benchmark results\n\nAppended by the scripts in "
                                      "benchmarks/.\n", encoding="utf-8")
    results.append(text, args.results)
    print(text)
    print(summary_line(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
