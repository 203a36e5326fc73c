"""Benchmark: ``camaudit ingest`` of a large capture vs ``tshark`` reading the same file.

    .venv/bin/python benchmarks/ingest_pcap.py [--size-mb 1024] [--keep DIR]

1. Starts a zoo (no hostile personas) on 127.47.0.0/24 and captures, with tcpdump on
   ``lo`` filtered to that network, one camaudit scan of it: real zoo traffic.
2. Builds a capture of ``--size-mb`` by repeating those records with shifted timestamps.
3. Times ``camaudit ingest BIG.pcap`` and ``tshark -r BIG.pcap -q -z io,stat,0`` (one
   pass over every frame, no dissection output), each in its own process, and reads
   each one's peak RSS from ``wait4``.
4. Appends the numbers to benchmarks/RESULTS.md.

Not part of the test suite: it takes minutes and a gigabyte of disk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BASE = "127.47.0.0/24"


def capture_zoo_scan(folder: Path, count: int) -> tuple[Path, int]:
    from camaudit.cliutil import run_async
    from camaudit.pipeline import ScanOptions, execute, new_scan
    from camaudit.store import Store
    from camaudit.zoo import run_in_subprocess

    pcap = folder / "zoo.pcap"
    with run_in_subprocess(count=count, seed=11, base=BASE, hostile=False) as zoo:
        proc = subprocess.Popen(["tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode",
                                 "-B", "32768", "-s", "0", "-w", str(pcap), f"net {BASE}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        while b"listening on" not in proc.stderr.readline():
            if proc.poll() is not None:
                raise SystemExit("tcpdump did not start")
        store = Store(str(folder / "scan.db"))
        options = ScanOptions(connect_timeout=1.0, probe_timeout=2.0)
        scan_id, scope = new_scan(store, [BASE], [], options)
        run_async(execute(store, scan_id, scope, options))
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        devices = len(zoo.devices)
    return pcap, devices


def build_big(seed: Path, target: Path, size: int) -> int:
    """Repeat the seed's records (classic pcap) until `size` bytes; return the record count."""
    data = seed.read_bytes()
    header, body = data[:24], data[24:]
    order = "<" if header[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    records: list[tuple[int, int, bytes]] = []
    pos = 0
    while pos + 16 <= len(body):
        sec, usec, caplen, _ = struct.unpack_from(order + "IIII", body, pos)
        records.append((sec, usec, body[pos:pos + 16 + caplen]))
        pos += 16 + caplen
    span = (records[-1][0] - records[0][0]) + 2
    written, count, rep = 24, 0, 0
    with target.open("wb") as out:
        out.write(header)
        while written < size:
            shift = rep * span
            for sec, _usec, rec in records:
                out.write(struct.pack(order + "I", sec + shift) + rec[4:])
                written += len(rec)
                count += 1
            rep += 1
    return count


def timed(cmd: list[str]) -> tuple[float, int, int]:
    """(seconds, peak RSS in KiB, exit code) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--count", type=int, default=40, help="zoo devices")
    parser.add_argument("--keep", type=Path, help="keep the captures in this folder")
    args = parser.parse_args()
    for tool in ("tcpdump", "tshark"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (make sysdeps)")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="camaudit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    seed, devices = capture_zoo_scan(folder, args.count)
    big = folder / "big.pcap"
    frames = build_big(seed, big, args.size_mb * 2**20)
    size = big.stat().st_size
    camaudit = [sys.executable, "-m", "camaudit", "-q", "ingest", str(big),
                "--db", str(folder / "ingest.db"), "--json", str(folder / "ingest.json")]
    c_time, c_rss, c_rc = timed(camaudit)
    t_time, t_rss, t_rc = timed(["tshark", "-r", str(big), "-q", "-z", "io,stat,0"])
    mib = size / 2**20
    lines = [
        "",
        f"## Passive ingest of a {mib:.0f} MiB pcap ({dt.date.today().isoformat()})",
        "",
        f"Capture: a camaudit scan of a {devices}-device zoo (no hostile personas) recorded by "
        f"tcpdump on lo, repeated to {frames:,} frames. Machine: {os.cpu_count()} cores. "
        "Command: `benchmarks/ingest_pcap.py`.",
        "",
        "| tool | seconds | MiB/s | peak RSS (MiB) | exit |",
        "|---|---:|---:|---:|---:|",
        f"| camaudit ingest | {c_time:.1f} | {mib / c_time:.1f} | {c_rss / 1024:.0f} | {c_rc} |",
        f"| tshark -q -z io,stat,0 | {t_time:.1f} | {mib / t_time:.1f} | {t_rss / 1024:.0f} "
        f"| {t_rc} |",
        "",
        f"Ratio: camaudit takes {c_time / t_time:.2f}x tshark's time and "
        f"{c_rss / max(t_rss, 1):.2f}x its peak memory.",
    ]
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nAppended by the scripts in benchmarks/.\n")
    with RESULTS.open("a") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
