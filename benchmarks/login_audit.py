"""Issue 18's measure: the whole zoo audited with and without the zoo login.

Scored against the zoo manifest: cameras behind recorders (found, under which recorder,
maker, restricted ones flagged), analytics findings (every persona whose API states a
protected-trait analytic gets one saying offered or enabled, no other device one), and
what the login costs in time. Loopback only; writes a section to RESULTS.md with --write.

    .venv/bin/python benchmarks/login_audit.py [--base 127.210.0.0/24] [--write]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import results

from camaudit.cliutil import run_async
from camaudit.demo import covering_network
from camaudit.pipeline import ScanOptions, execute, new_scan
from camaudit.probes.base import Credentials
from camaudit.store import Store
from camaudit.zoo import run_in_subprocess
from camaudit.zoo.personas import load_all
from camaudit.zoo.render import ZOO_PASSWORD, ZOO_USER
from camaudit.zoo.score import key, score

RESTRICTED = {"ndaa-889"}


def audit(network: str, login: Credentials | None, work: Path) -> tuple[dict[str, Any], float]:
    store = Store(str(work / f"scan-{'login' if login else 'none'}.db"))
    options = ScanOptions(connect_timeout=1.0, probe_timeout=2.0)
    scan_id, scope = new_scan(store, [network], [], options)
    started = time.monotonic()
    run_async(execute(store, scan_id, scope, options, credentials=login))
    elapsed = time.monotonic() - started
    document = store.document(scan_id)
    store.close()
    return document, elapsed


def measure(base: str) -> list[str]:
    count = len(load_all())
    with run_in_subprocess(count=count, seed=4242, base=base, hostile=False) as zoo:
        network = covering_network([d["address"] for d in zoo.devices])
        with tempfile.TemporaryDirectory() as tmp:
            plain, t_plain = audit(network, None, Path(tmp))
            logged, t_login = audit(network, Credentials(ZOO_USER, ZOO_PASSWORD), Path(tmp))
        manifest = zoo.manifest
    truth = manifest["devices"]
    connected = [t for t in truth if t.get("parent")]
    found = {key(d): d for d in logged["devices"]}
    seen = [t for t in connected if key(t) in found]
    maker_right = sum(found[key(t)]["manufacturer"] == t["manufacturer"] for t in seen)
    should_flag = [t for t in connected if RESTRICTED & set(t["findings"])]
    flagged = [t for t in should_flag if key(t) in found
               and RESTRICTED & {f["id"] for f in found[key(t)]["findings"]}]
    behind = score({"devices": logged["devices"]},
                   {"devices": [t for t in connected]}, connected=True)
    stated_truth = {t["address"] for t in truth if not t.get("parent")
                    and any(f.startswith("analytics:stated-") for f in t["findings"])}
    stated_got = {d["address"]: sorted({f["status"] for f in d["findings"]
                                        if f["id"].startswith("analytics:stated-")})
                  for d in logged["devices"]}
    stated_got = {a: s for a, s in stated_got.items() if s}
    hosts = [t for t in truth if not t.get("parent")]
    statuses = [s for a in sorted(stated_got) for s in stated_got[a]]
    no_login_stated = sum(any(f["id"].startswith("analytics:stated-") for f in d["findings"])
                          for d in plain["devices"])
    no_login_connected = sum(1 for d in plain["devices"] if d.get("parent"))
    extra = sum(1 for d in logged["devices"]
                if d.get("parent") and key(d) not in {key(t) for t in connected})
    return [
        f"Zoo: {len(hosts)} devices (seed 4242, no hostile personas) on {base}; its recorders "
        f"report {len(connected)} cameras.",
        "",
        "| measure | without login | with the zoo login |",
        "|---|---:|---:|",
        f"| cameras behind recorders in the inventory | {no_login_connected} of "
        f"{len(connected)} | {len(seen)} of {len(connected)} |",
        f"| ... with the manifest's maker (null where unknown) | - | {maker_right} of "
        f"{len(seen)} |",
        f"| cameras reported that the manifest does not list | - | {extra} |",
        f"| ... all fields and findings exactly as the manifest | - | "
        f"{behind.findings_exact} of {behind.devices} (wrong maker: {behind.wrong_maker}) |",
        f"| restricted cameras behind recorders flagged (ndaa-889) | 0 of {len(should_flag)} "
        f"| {len(flagged)} of {len(should_flag)} |",
        f"| devices with a stated protected-trait analytic flagged | {no_login_stated} of "
        f"{len(stated_truth)} | {len(stated_truth & set(stated_got))} of "
        f"{len(stated_truth)} ({', '.join(statuses)}) |",
        f"| devices flagged without one (false positives) | - | "
        f"{len(set(stated_got) - stated_truth)} |",
        f"| audit time, seconds | {t_plain:.1f} | {t_login:.1f} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="127.210.0.0/24")
    parser.add_argument("--write", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()
    lines = measure(args.base)
    print("\n".join(lines))
    if args.write:
        results.append(f"## Audit with the operator's login: cameras behind recorders and "
                       f"stated analytics (issue 18, {time.strftime('%Y-%m-%d')})\n\n"
                       f"Command: `.venv/bin/python benchmarks/login_audit.py --write`.\n\n"
                       + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
