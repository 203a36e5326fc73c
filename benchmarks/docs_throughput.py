"""Throughput of `camaudit docs scan` in pages per second, text layers and OCR apart.

Writes generated bids (tests/docs/makedocs.py): text PDFs of 40 lines a page, mixed English
and Chinese with model numbers and claims; DOCX and XLSX; scanned pages when Tesseract and
Noto CJK are installed. Each set is scanned by the CLI in a child process (start-up,
worker, store and JSON included); the result is appended to benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/docs_throughput.py [--pages 400] [--scanned 12]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from docs import makedocs  # noqa: E402
from docs.conftest import can_ocr  # noqa: E402

LINES = [
    "Item {n}: 20 x Hikvision DS-2CD2043G2-I bullet camera, 4 MP, IR 30 m, PoE.",
    "第{n}条 前端设备：海康威视 DS-2CD2T47G2-L 摄像机，支持人脸属性识别(性别、年龄)。",
    "The platform shall support face attribute analysis for access control events.",
    "The system must not detect race, ethnicity or skin colour of any person.",
    "平台应符合GA/T 1400标准，支持视图库对接与结构化数据上报。",
    "Warranty: five years on parts and labour; response within 24 hours on site.",
    "Recorder: DS-7608NXI-I2/8P/S with 8 PoE ports and 2 SATA bays, 12 TB storage.",
    "Cabling and containment to BS EN 50174, tested to Category 6A performance.",
]


def page(n: int) -> list[str]:
    return [LINES[(n + i) % len(LINES)].format(n=n * 40 + i) for i in range(40)]


def scan(folder: Path, work: Path) -> tuple[float, dict[str, object]]:
    out = work / f"{folder.name}.json"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "camaudit", "-q", "docs", "scan", str(folder),
                    "--db", str(work / f"{folder.name}.db"), "--json", str(out)],
                   check=False, capture_output=True)
    seconds = time.monotonic() - started
    return seconds, json.loads(out.read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=400, help="text PDF pages in all")
    parser.add_argument("--scanned", type=int, default=12, help="scanned pages in all")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        text = work / "text"
        text.mkdir()
        per_doc = 20
        for d in range(max(1, args.pages // per_doc)):
            makedocs.text_pdf(text / f"bid-{d}.pdf",
                              [page(d * per_doc + p) for p in range(per_doc)])
        office = work / "office"
        office.mkdir()
        for d in range(10):
            makedocs.docx_file(office / f"bid-{d}.docx", [page(p)[:20] for p in range(4)])
            makedocs.xlsx_file(office / f"bom-{d}.xlsx",
                               {"BOM": [[str(i), line] for i, line in enumerate(page(d))]})
        sets = [("text PDF", text), ("DOCX + XLSX", office)]
        font = makedocs.cjk_font()
        if args.scanned and can_ocr() and font:
            scans = work / "scanned"
            scans.mkdir()
            for d in range(max(1, args.scanned // 3)):
                makedocs.scanned_pdf(scans / f"scan-{d}.pdf", [page(p)[:22] for p in range(3)],
                                     font, px=30)
            sets.append(("scanned PDF (OCR)", scans))
        for label, folder in sets:
            seconds, doc = scan(folder, work)
            docs = doc["documents"]
            pages = sum(d["pages"] - len(d["pages_not_read"]) for d in docs)
            found = sum(len(d["findings"]) for d in docs)
            rows.append((label, len(docs), pages, found, seconds))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    lines = [f"\n## Documents: `camaudit docs scan` throughput, {stamp} · commit {commit}\n",
             "Generated bids (benchmarks/docs_throughput.py): 40 lines a page, English and "
             "Chinese, models and claims on every page. One CLI run per set, in a child process "
             "(start-up, reader worker, analysis, SQLite store and JSON included). Machine: 2 "
             "shared cores.\n",
             "| set | documents | pages read | findings | seconds | pages/s |",
             "|---|---:|---:|---:|---:|---:|"]
    for label, n, pages, found, seconds in rows:
        lines.append(f"| {label} | {n} | {pages} | {found} | {seconds:.1f} | "
                     f"{pages / seconds:.1f} |")
    text_out = "\n".join(lines) + "\n"
    print(text_out)
    with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as fh:
        fh.write(text_out)


if __name__ == "__main__":
    main()
