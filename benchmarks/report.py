"""Reports of a real estate: size, time and memory of `camaudit report` at 5,000 and 50,000 devices.

    python benchmarks/report.py                         # ~6 min; appends to benchmarks/RESULTS.md
    python benchmarks/report.py --quick --results /tmp/r.md   # 500 / 5,000 devices, a smoke run

1. A 5,000-device zoo (no hostile personas) on 127.200.0.0/16 is scanned once
   through the CLI, as a user would (`scan --site`), into a SQLite store.
2. `camaudit report last` is run as a child process for HTML + CSV, then for
   the PDF; wall time, the camaudit process's peak RSS (VmHWM, see measure.py;
   Chromium's own processes are not in it) and file sizes are recorded.
3. The HTML report is opened in Debian's Chromium through Playwright: time
   from navigation to the load event with the page's own script done
   (`html[data-ready]`), and a search of the appendix for one address, which
   must show exactly that device. Median of 3 openings.
4. A synthetic store of 50,000 devices is built with the store API (`Store.
   save_host`): the 5,000 scanned devices copied ten times, each copy on its
   own loopback /16 (127.200-209) and its own site. The same report commands
   run on it; memory must stay bounded (peak RSS against the 5,000 run).

Nothing here sends a packet anywhere but 127.0.0.0/8: the zoo and the scan
stay on 127.200.0.0/16, the synthetic store only writes addresses to SQLite.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import machine  # noqa: E402
import results  # noqa: E402
from measure import Run, median, timed  # noqa: E402

from camaudit.zoo.process import run_in_subprocess  # noqa: E402

NET = "127.200.0.0/16"  # the benchmark block of run.py; no test uses it
CHROMIUM = "/usr/bin/chromium"
BUDGET = {"html_mb": 8.0, "open_s": 3.0, "pdf_s": 60.0, "pdf_mb": 15.0, "rss_mb": 200.0}


@dataclass
class Config:
    devices: int = 5000
    copies: int = 10  # the synthetic store holds devices x copies
    opens: int = 3


QUICK = Config(devices=500, copies=10, opens=2)


@dataclass
class Point:
    """The reports of one store."""

    devices: int
    findings: int = 0
    html: Run | None = None
    html_mb: float = 0.0
    csv_mb: float = 0.0
    pdf: Run | None = None
    pdf_mb: float = 0.0
    pdf_pages: int = 0
    opens: list[float] = field(default_factory=list)
    search: str = ""


def log(text: str) -> None:
    print(f"bench-report: {text}", file=sys.stderr, flush=True)


def camaudit(*args: str, timeout: float = 900.0) -> Run:
    return timed([sys.executable, "-m", "camaudit", "-q", *args], timeout=timeout,
                 env={**os.environ, "CI": "1"})


def scan_zoo(cfg: Config, work: Path) -> Path:
    db = work / "zoo.db"
    with run_in_subprocess(count=cfg.devices, seed=1, base=NET, hostile=False,
                           manifest_path=work / "manifest.json", timeout=300) as zoo:
        log(f"zoo: {len(zoo.devices)} devices; scanning {NET}")
        camaudit("scan", NET, "--db", str(db), "--site", "site 1").check("scan")
    return db


def synthetic_store(source_db: Path, target: Path, copies: int) -> int:
    """Copy every device of the scanned store `copies` times, each copy on its own /16 and
    site; return the number of devices written."""
    from camaudit.store import Store

    source, store = Store(str(source_db)), Store(str(target))
    try:
        first = source.scan(source.resolve_scan_id("last"))
        scan_id = store.create_scan(
            targets=[f"127.{200 + k}.0.0/16" for k in range(copies)], excludes=[],
            resolved={}, ports=list(first["ports"]), options={},
            policies=list(first["policies"]), knowledge=dict(first["knowledge"]),
            tool_version=str(first["tool_version"]), site=None)
        written = 0
        for k in range(copies):
            for device in source.iter_devices(int(first["id"])):
                ip = ipaddress.IPv4Address(device.address)
                device.address = str(ipaddress.IPv4Address(int(ip) + (k << 16)))
                device.site = f"site {k + 1}"
                store.save_host(scan_id, device, [])
                written += 1
        store.finish_scan(scan_id, {})
        return written
    finally:
        source.close()
        store.close()


def open_in_chromium(html: Path, address: str, reps: int) -> tuple[list[float], str]:
    """Seconds to open the page (load event, our script done), and the appendix counter after
    searching for `address`."""
    from playwright.sync_api import sync_playwright

    times, shown = [], ""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu"])
        for _ in range(reps):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            started = time.perf_counter()
            page.goto(html.as_uri(), wait_until="load", timeout=120_000)
            page.wait_for_selector("html[data-ready]", state="attached")
            times.append(time.perf_counter() - started)
            page.fill("#device-filter", address)
            deadline = time.monotonic() + 20
            shown = page.inner_text("#device-shown")
            while not shown.startswith("1 of") and time.monotonic() < deadline:
                time.sleep(0.05)
                shown = page.inner_text("#device-shown")
            context.close()
        browser.close()
    return times, shown


def measure(db: Path, work: Path, name: str, *, pdf: bool, opens: int) -> Point:
    import sqlite3

    with sqlite3.connect(db) as conn:
        devices, findings = conn.execute(
            "select (select count(*) from devices), (select count(*) from findings)").fetchone()
        address = conn.execute("select address from devices order by id limit 1 offset ?",
                               (devices * 3 // 4,)).fetchone()[0]
    point = Point(devices=devices, findings=findings)
    html, csv = work / f"{name}.html", work / f"{name}.csv"
    point.html = camaudit("report", "last", "--db", str(db), "--html", str(html),
                          "--csv", str(csv)).check(f"report {name} html")
    point.html_mb = html.stat().st_size / 1e6
    point.csv_mb = (csv.stat().st_size + csv.with_name(f"{name}-findings.csv").stat().st_size
                    ) / 1e6
    log(f"{name}: HTML {point.html_mb:.1f} MB in {point.html.wall:.1f}s, "
        f"{point.html.rss_mb:.0f} MB RSS")
    if opens:
        point.opens, point.search = open_in_chromium(html, address, opens)
        log(f"{name}: opens in {median(point.opens):.2f}s; search: {point.search}")
    if pdf:
        from pypdf import PdfReader

        out = work / f"{name}.pdf"
        point.pdf = camaudit("report", "last", "--db", str(db), "--pdf", str(out),
                             timeout=1800).check(f"report {name} pdf")
        point.pdf_mb = out.stat().st_size / 1e6
        point.pdf_pages = len(PdfReader(out).pages)
        log(f"{name}: PDF {point.pdf_mb:.1f} MB, {point.pdf_pages} pages in "
            f"{point.pdf.wall:.1f}s, {point.pdf.rss_mb:.0f} MB RSS")
    return point


# -- RESULTS.md ------------------------------------------------------------------
def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def summary_line(facts: dict[str, str], small: Point, big: Point) -> str:
    assert small.html and small.pdf and big.html
    return (f"summary: date={facts['date']} commit={facts['commit'].split('+')[0]} "
            f"report_devices={small.devices} html_mb={small.html_mb:.1f} "
            f"open_s={median(small.opens):.2f} pdf_s={small.pdf.wall:.1f} "
            f"pdf_mb={small.pdf_mb:.1f} rss_mb={max(small.html.rss_mb, small.pdf.rss_mb):.0f} "
            f"big_devices={big.devices} big_rss_mb={_big_rss(big):.0f}")


def _big_rss(big: Point) -> float:
    assert big.html
    return max(big.html.rss_mb, big.pdf.rss_mb if big.pdf else 0.0)


def markdown(facts: dict[str, str], small: Point, big: Point) -> str:
    assert small.html and small.pdf and big.html
    rss = max(small.html.rss_mb, small.pdf.rss_mb)
    lines = [f"## Report run {facts['date']} {facts['time']} · commit {facts['commit']}", "",
             "| machine | |", "|---|---|"]
    for key in ("cpus", "memory", "kernel", "python", "load_before", "load_after"):
        lines.append(f"| {key.replace('_', ' ')} | {facts.get(key, '')} |")
    lines += ["", "| store | devices | findings | command | wall s | peak RSS MB | output |",
              "|---|---:|---:|---|---:|---:|---|"]
    for label, p in (("zoo scan", small), ("synthetic", big)):
        assert p.html
        lines.append(f"| {label} | {p.devices:,} | {p.findings:,} | `--html --csv` | "
                     f"{p.html.wall:.1f} | {p.html.rss_mb:.0f} | HTML {p.html_mb:.1f} MB, "
                     f"CSV {p.csv_mb:.1f} MB |")
        if p.pdf:
            lines.append(f"| {label} | {p.devices:,} | {p.findings:,} | `--pdf` | "
                         f"{p.pdf.wall:.1f} | {p.pdf.rss_mb:.0f} | PDF {p.pdf_mb:.1f} MB, "
                         f"{p.pdf_pages:,} pages |")
    lines += ["", f"Opening the {small.devices:,}-device HTML in Chromium (load event, page "
              f"script done): {', '.join(f'{t:.2f}' for t in small.opens)} s; searching the "
              f"appendix for one address shows \"{small.search}\"."]
    if big.opens:
        lines[-1] += (f" At {big.devices:,} devices: {median(big.opens):.2f} s (median), "
                      f"search shows \"{big.search}\".")
    growth = _big_rss(big) / rss - 1.0
    lines += ["", "| budget | goal | now | |", "|---|---|---|---|",
              f"| HTML size, {small.devices:,} devices | ≤ {BUDGET['html_mb']:.0f} MB | "
              f"{small.html_mb:.1f} MB | {_met(small.html_mb <= BUDGET['html_mb'])} |",
              f"| HTML opens in Chromium | ≤ {BUDGET['open_s']:.0f} s | "
              f"{median(small.opens):.2f} s (median) | "
              f"{_met(median(small.opens) <= BUDGET['open_s'])} |",
              f"| PDF prints | ≤ {BUDGET['pdf_s']:.0f} s | {small.pdf.wall:.1f} s | "
              f"{_met(small.pdf.wall <= BUDGET['pdf_s'])} |",
              f"| PDF size | ≤ {BUDGET['pdf_mb']:.0f} MB | {small.pdf_mb:.1f} MB | "
              f"{_met(small.pdf_mb <= BUDGET['pdf_mb'])} |",
              f"| report generation peak RSS | ≤ {BUDGET['rss_mb']:.0f} MB | {rss:.0f} MB | "
              f"{_met(rss <= BUDGET['rss_mb'])} |",
              f"| {big.devices:,} devices, bounded memory | peak RSS ≤ "
              f"{BUDGET['rss_mb']:.0f} MB | {_big_rss(big):.0f} MB ({100 * growth:+.0f} % for "
              f"{big.devices / small.devices:.0f}x the devices) | "
              f"{_met(_big_rss(big) <= BUDGET['rss_mb'])} |",
              "", summary_line(facts, small, big), ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 devices (smoke test)")
    parser.add_argument("--db", help="reuse this store of a zoo scan instead of scanning")
    parser.add_argument("--no-big-pdf", action="store_true",
                        help="skip the PDF of the synthetic store")
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    cfg = QUICK if args.quick else Config()
    facts = machine.facts()
    facts["load_before"] = machine.load()
    with tempfile.TemporaryDirectory(prefix="camaudit-bench-report-") as tmp:
        work = Path(tmp)
        db = Path(args.db) if args.db else scan_zoo(cfg, work)
        small = measure(db, work, "zoo", pdf=True, opens=cfg.opens)
        big_db = work / "synthetic.db"
        log(f"building a synthetic store of {small.devices * cfg.copies:,} devices")
        synthetic_store(db, big_db, cfg.copies)
        big = measure(big_db, work, "synthetic", pdf=not args.no_big_pdf, opens=1)
    facts["load_after"] = machine.load()
    text = markdown(facts, small, big)
    results.append(text, args.results)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
