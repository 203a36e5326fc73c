"""CPU time of the store: saving hosts, the post-scan digest and the --json export (issue 16).

    python benchmarks/store_cpu.py --records /tmp/zoo1000.pickle   # scans once, then reuses
    PYTHONPATH=/tmp/base/src python benchmarks/store_cpu.py --records /tmp/zoo1000.pickle \\
        --keep /tmp/base.json                                        # the same records, before

A zoo of ``--devices`` devices (seed 1, no hostile personas) serves on 127.94.0.0/16 (its
out-of-scope trap on 127.95.255.1) and is
scanned once in this process; every host the scan hands to ``Store.save_hosts`` (device,
observations, connected cameras) is kept (``--records`` pickles them, so that two versions
of the code are measured on the same records). Then, ``--reps`` times, in a fresh SQLite
store: (a) saving them all in batches of ``pipeline.SAVE_BATCH`` (the garbage collector
tuned as ``run_async`` tunes it during a scan), (b) saving them all again (a shard
re-run: every host replaced), (c) the digest ``camaudit scan`` prints, (d)
``Store.write_json``. CPU is ``time.process_time`` of this process; per device = CPU /
devices of the zoo. ``--keep`` writes the last export and digest, to compare two versions
(the scan's ``started``/``finished`` aside). Everything stays on 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

NET = "127.94.0.0/16"
os.environ.setdefault("CAMAUDIT_ZOO_TRAP", "127.95.255.1")  # the zoo's trap: our other block

from camaudit import scan_commands  # noqa: E402
from camaudit.cliutil import GC_YOUNG_THRESHOLD, run_async  # noqa: E402
from camaudit.pipeline import SAVE_BATCH, ScanOptions, execute, new_scan  # noqa: E402
from camaudit.store import Store  # noqa: E402

assert NET.startswith("127."), NET
Record = tuple[Any, list[Any], Any]


def capture(devices: int) -> list[Record]:
    """Scan a fresh zoo in this process; what the scan saves, host by host."""
    from camaudit.zoo.process import run_in_subprocess

    records: list[Record] = []
    with tempfile.TemporaryDirectory(prefix="store-cpu-") as work, run_in_subprocess(
            count=devices, seed=1, base=NET, hostile=False, timeout=300) as zoo:
        store = Store(str(Path(work) / "scan.db"))
        target = f"{zoo.devices[0]['address']}-{zoo.devices[-1]['address']}"
        options = ScanOptions(probe_timeout=4.0)
        scan_id, scope = new_scan(store, [target], [], options)
        save = store.save_hosts

        def keep(scan: int, hosts: Any) -> None:
            records.extend((d, list(o), [(c, list(co)) for c, co in cs]) for d, o, cs in hosts)
            save(scan, hosts)

        store.save_hosts = keep  # type: ignore[method-assign]
        run_async(execute(store, scan_id, scope, options))
        store.close()
    return records


def digest_lines(store: Store, scan_id: int) -> list[str]:
    """What `camaudit scan` prints after a scan, through whichever API this version has."""
    if hasattr(store, "tallies"):  # this branch: counted in SQL
        return list(scan_commands.digest(*store.tallies(scan_id)))
    return list(scan_commands.digest(store.iter_devices(scan_id)))  # type: ignore[arg-type]


def cpu(fn: Callable[[], Any]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def batches(records: list[Record]) -> Iterator[list[Record]]:
    for start in range(0, len(records), SAVE_BATCH):
        yield records[start:start + SAVE_BATCH]


def one_rep(records: list[Record], work: Path) -> tuple[dict[str, float], str, list[str]]:
    """CPU seconds of each step on a fresh store; the export's text and the digest."""
    db = work / "rep.db"
    for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        path.unlink(missing_ok=True)
    store = Store(str(db))
    scan_id = store.create_scan(targets=[NET], excludes=[], resolved={}, ports=[80],
                                options={}, policies=["all"], knowledge={},
                                tool_version="bench")

    def save_all() -> None:
        old = gc.get_threshold()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *old[1:])
        try:
            for batch in batches(records):
                store.save_hosts(scan_id, batch)
        finally:
            gc.set_threshold(*old)

    out = work / "rep.json"
    lines: list[str] = []
    times = {"save": cpu(save_all), "save again": cpu(save_all)}
    store.finish_scan(scan_id, {"addresses": len(records)})
    times["digest"] = cpu(lambda: lines.extend(digest_lines(store, scan_id)))
    times["write_json"] = cpu(lambda: store.write_json(scan_id, str(out)))
    store.close()
    return times, out.read_text(encoding="utf-8"), lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=1000, help="zoo size (default 1000)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--records", type=Path,
                        help="pickle of the scan's records: read if present, else written")
    parser.add_argument("--keep", type=Path, help="write the last export here (+ .digest)")
    args = parser.parse_args()
    if args.records is not None and args.records.exists():
        records = pickle.loads(args.records.read_bytes())
    else:
        records = capture(args.devices)
        if args.records is not None:
            args.records.write_bytes(pickle.dumps(records))
    rows = len(records) + sum(len(children) for _, _, children in records)
    print(f"{len(records)} hosts, {rows} devices saved; per device = per zoo device "
          f"({args.devices}); {args.reps} reps", file=sys.stderr)
    taken: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="store-cpu-") as work:
        for _ in range(args.reps):
            times, text, lines = one_rep(records, Path(work))
            for step, seconds in times.items():
                taken.setdefault(step, []).append(seconds)
    for step, values in taken.items():
        ms = [1000 * v / args.devices for v in values]
        print(f"{step:<12} {min(ms):7.3f} / {statistics.median(ms):7.3f} ms/device "
              f"(min / median)")
    if args.keep is not None:
        args.keep.write_text(text, encoding="utf-8")
        Path(f"{args.keep}.digest").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
