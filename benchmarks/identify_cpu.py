"""CPU milliseconds per device of identification and assessment alone (issue 16).

    python benchmarks/identify_cpu.py                         # scan a zoo, measure this tree
    python benchmarks/identify_cpu.py --db /tmp/zoo.db        # keep the scan (reused next time)
    git archive BASE src | tar -x -C /tmp/base                # then, before against after:
    python benchmarks/identify_cpu.py --db /tmp/zoo.db --before /tmp/base/src
    py-spy record --format raw -r 500 -o out.txt -- \
        python benchmarks/identify_cpu.py --db /tmp/zoo.db --in-process --reps 1

A zoo of --count devices (seed 1, no hostile personas) serves on 127.97.0.0/16 (its
out-of-scope trap on 127.98.0.1); it is scanned once in this process into a SQLite store.
Then each side (this tree, and the ``src`` folder of --before) runs in a fresh child
process: it reads every host's observations back from the store and times, with
``time.process_time``, ``pipeline.conclude_all`` over all hosts in address order, --reps
times. The sides alternate run by run, so both see the same machine.

The first pass is the one to quote: a real scan concludes each host once, so caches
keyed on what devices said (the matcher's memo) hit only when another device said the
same (every camera of a model sends the same title and realm) — as in this pass. Later
passes find everything cached, which a scan never does. ``--no-memo`` turns the
matcher's memo off (every value a miss: an estate where no two devices say the same).
Rules, policies and knowledge are loaded before timing (a scan loads them once, before
the first host), and the garbage collector runs as often as during a scan
(``cliutil.run_async`` sets its threshold).

Each child also writes every device's ``to_json()`` (and unrounded confidence and
weights) and checks that every pass concluded the same; the parent checks that both
sides concluded exactly the same. Everything stays on 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NET = "127.97.0.0/16"
os.environ.setdefault("CAMAUDIT_ZOO_TRAP", "127.98.0.1")
assert NET.startswith("127.") and os.environ["CAMAUDIT_ZOO_TRAP"].startswith("127.")

HERE = Path(__file__).resolve().parent


def scan(db: Path, count: int) -> None:
    """Start a zoo, audit it once into `db` (SQLite), stop the zoo."""
    from camaudit.cliutil import run_async
    from camaudit.demo import covering_network
    from camaudit.pipeline import ScanOptions, execute, new_scan
    from camaudit.store import Store
    from camaudit.zoo.process import run_in_subprocess

    with run_in_subprocess(count=count, seed=1, base=NET, hostile=False,
                           lifetime=60.0, timeout=300.0) as zoo:
        network = covering_network([d["address"] for d in zoo.devices])
        assert network.startswith("127."), network
        store = Store(str(db))
        options = ScanOptions(connect_timeout=1.0, probe_timeout=3.0)
        scan_id, scope = new_scan(store, [network], [], options)
        started = time.monotonic()
        stats = run_async(execute(store, scan_id, scope, options))
        store.close()
    print(f"scanned {stats.hosts_up} hosts in {time.monotonic() - started:.1f} s -> {db}",
          file=sys.stderr)


def _device_json(device: Any) -> dict[str, Any]:
    out: dict[str, Any] = device.to_json()
    out["confidence_exact"] = repr(device.confidence)
    out["weights_exact"] = [repr(e.weight) for e in device.evidence]
    out["analytics"] = device.analytics
    return out


def measure(db: Path, reps: int, dump: Path | None, memo: bool = True) -> dict[str, Any]:
    """In this (fresh) process: conclude every host of the scan in `db`, `reps` times."""
    from camaudit import pipeline
    from camaudit.assess import load_policies
    from camaudit.cliutil import GC_YOUNG_THRESHOLD
    from camaudit.identify import match, recog
    from camaudit.identify.oem import brand_links, maker_hints
    from camaudit.identify.rules import load_rules
    from camaudit.knowledge.terms import load_terms
    from camaudit.store import Store

    store = Store(str(db))
    scan_id = store.scans()[0]["id"]
    ports = {d.address: d.ports for d in store.devices(scan_id) if d.parent is None}
    observations: dict[str, list[Any]] = {address: [] for address in ports}
    for obs in store.observations(scan_id):
        observations.setdefault(obs.address, []).append(obs)
    store.close()
    hosts = sorted(observations, key=lambda a: tuple(int(x) for x in a.split(".")))

    # What a scan loads once before its first host.
    ruleset = load_rules()
    policies = load_policies(["all"])
    _ = policies.knowledge, brand_links(), maker_hints("Hikvision"), load_terms()
    recog.vendor_name("Hikvision")

    if not memo:
        match.MEMO_VALUE_CAP = -1  # no value is short enough to be remembered
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    passes: list[float] = []
    results: list[dict[str, Any]] = []
    for rep in range(reps):
        out = []
        gc.collect()  # each pass starts from the same heap
        started = time.process_time()
        for address in hosts:
            out.append(pipeline.conclude_all(address, observations[address], ports[address],
                                             policies))
        passes.append(time.process_time() - started)
        concluded = [_device_json(d) for device, children in out
                     for d in [device, *(c for c, _ in children)]]
        if rep == 0:
            remembered = len(ruleset.memo)
            results = concluded
        elif concluded != results:  # what the memo remembered must change nothing
            raise SystemExit(f"pass {rep + 1} concluded differently from the first")
    if dump is not None:
        dump.write_text(json.dumps(results, sort_keys=True, indent=0))
    return {"hosts": len(hosts), "devices": len(results),
            "observations": sum(map(len, observations.values())),
            "passes": passes, "memo_after_first": remembered}


def child(src: str | None, db: Path, reps: int, dump: Path, memo: bool) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (src or str(HERE.parent / "src"), env.get("PYTHONPATH")) if p)
    done = subprocess.run([sys.executable, __file__, "--child", "--db", str(db),
                           "--reps", str(reps), "--dump", str(dump),
                           *([] if memo else ["--no-memo"])],
                          env=env, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="zoo devices (default 1000)")
    parser.add_argument("--db", type=Path, help="SQLite store: scanned into if missing, "
                        "reused if present (default: a temporary file)")
    parser.add_argument("--reps", type=int, default=3,
                        help="passes over all hosts per child process (default 3)")
    parser.add_argument("--runs", type=int, default=3,
                        help="child processes per side (default 3)")
    parser.add_argument("--before", metavar="SRC", help="also measure the code in this "
                        "src folder and check that it concludes exactly the same")
    parser.add_argument("--no-memo", action="store_true",
                        help="turn the matcher's memo off (no value repeats)")
    parser.add_argument("--in-process", action="store_true", help="measure in this process "
                        "(after the scan), for py-spy; prints the raw timings")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dump", type=Path, help="write every device's JSON here")
    args = parser.parse_args()

    if args.child:
        print(json.dumps(measure(args.db, args.reps, args.dump, not args.no_memo)))
        return
    with tempfile.TemporaryDirectory(prefix="identify-cpu-") as tmp:
        db = args.db or Path(tmp) / "zoo.db"
        if not db.exists():
            scan(db, args.count)
        if args.in_process:  # for py-spy: the measurement in this one process
            print(json.dumps(measure(db, args.reps, args.dump, not args.no_memo)))
            return
        sides = {"after": None, **({"before": args.before} if args.before else {})}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
        dumps = {name: Path(tmp) / f"{name}.json" for name in sides}
        for _ in range(args.runs):
            for name, src in sides.items():
                runs[name].append(child(src, db, args.reps, dumps[name], not args.no_memo))
        first = runs["after"][0]
        print(f"{first['hosts']} hosts, {first['devices']} devices, "
              f"{first['observations']} observations; {args.runs} runs x {args.reps} passes")
        for name, done in runs.items():
            devices = done[0]["devices"]
            firsts = [r["passes"][0] * 1000 / devices for r in done]
            later = [p * 1000 / devices for r in done for p in r["passes"][1:]]
            print(f"{name:>6}: first pass {statistics.median(firsts):.3f} ms/device "
                  f"(min {min(firsts):.3f}); later passes "
                  + (f"{statistics.median(later):.3f} ms/device" if later else "-")
                  + f"; matcher memo {done[0]['memo_after_first']} entries")
        if args.before:
            same = dumps["after"].read_bytes() == dumps["before"].read_bytes()
            print("results identical" if same else "RESULTS DIFFER")
            if not same:
                sys.exit(1)
        if args.dump:
            args.dump.write_bytes(dumps["after"].read_bytes())


if __name__ == "__main__":
    main()
