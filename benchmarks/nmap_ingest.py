"""How well `camaudit ingest` names devices from an nmap -sV file alone, against the zoo.

    python benchmarks/nmap_ingest.py                      # zoo of 60 (every persona), nmap, score
    python benchmarks/nmap_ingest.py --xml scan.xml --manifest zoo.json   # score an earlier run

The zoo runs on loopback only (127.210.0.0/24, outside the blocks run.py and the tests
use); nmap scans that block and nothing else. Scores are camaudit.zoo.score (class and
maker, hostile personas left out), next to nmap's own reading of the same file
(nmap_fair.py). To compare two versions of camaudit, score the same --xml with each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import machine  # noqa: E402
import nmap_fair  # noqa: E402

from camaudit.sweep import DEFAULT_PORTS  # noqa: E402
from camaudit.zoo.process import run_in_subprocess  # noqa: E402
from camaudit.zoo.score import score  # noqa: E402

NET = "127.210.0.0/24"
#: The zoo's out-of-scope trap (redirect targets), moved next to NET so that this zoo
#: can run while another one holds the default trap address.
os.environ.setdefault("CAMAUDIT_ZOO_TRAP", "127.211.0.1")


def scan(work: Path, count: int) -> tuple[Path, Path]:
    machine.ensure_nmap()
    manifest, xml = work / "manifest.json", work / "scan.xml"
    with run_in_subprocess(count=count, seed=1, base=NET, manifest_path=manifest,
                           lifetime=120.0, timeout=300):
        assert NET.startswith("127."), NET
        ports = ",".join(str(p) for p in DEFAULT_PORTS)
        subprocess.run(["nmap", "-n", "-Pn", "-T4", "-sT", "-sV", "-p", ports, "--open",
                        "-oX", str(xml), NET], check=True, stdout=subprocess.DEVNULL,
                       timeout=1800)
    return xml, manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--xml", help="score this nmap -oX file instead of scanning")
    parser.add_argument("--manifest", help="the zoo manifest of --xml")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="camaudit-nmap-ingest-") as tmp:
        work = Path(tmp)
        if args.xml:
            xml, manifest_path = Path(args.xml), Path(args.manifest)
        else:
            xml, manifest_path = scan(work, args.count)
        manifest = json.loads(manifest_path.read_text())
        out = work / "ingest.json"
        subprocess.run([sys.executable, "-m", "camaudit", "ingest", str(xml), "--json", str(out),
                        "--db", str(work / "ingest.db")], check=True, stdout=subprocess.DEVNULL)
        fields = ("device_type", "manufacturer")
        print("camaudit ingest:", score(json.loads(out.read_text()), manifest,
                                        fields=fields).summary())
        print("nmap's own reading:", score(nmap_fair.document(str(xml)), manifest,
                                           fields=fields).summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
