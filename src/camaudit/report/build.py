"""One pass over the devices writes every streamed format: HTML, PDF parts and CSV.

A report of a real estate (5,000 devices; 50,000 from a synthetic store) must
be written in bounded memory, so the devices are read once, in order, from a
:class:`~camaudit.report.source.Source`, and each device goes to every output
at once: the summary counts it (summary.py), the removal plan keeps a few
fields if it is restricted (removal.py), the HTML appendix entry and the PDF
appendix row are written to temporary files, and its CSV rows to the CSV
files. Only then is the summary known, so the page around the appendix is
written last (html.py) and the PDF parts are printed and merged (pdf.py).

Memory grows with the number of devices only by their addresses and a few
bytes per finding group entry; everything a device says stays on disk. The
documents a ``docs scan`` read are few and read whole (documents.py): their
section is part of the summary page, their CSV is written beside the device CSV.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from camaudit.errors import UsageError
from camaudit.report.csvout import CsvWriter
from camaudit.report.diff import ScanDiff
from camaudit.report.documents import write_documents_csv
from camaudit.report.html import (
    HtmlAppendix,
    page_context,
    part_shell,
    print_row,
    write_page,
)
from camaudit.report.removal import CostTable, RemovalPlan, load_cost_table
from camaudit.report.source import Source
from camaudit.report.summary import Summary

#: Devices per printed part of the PDF appendix. Chromium prints 1,000 dense rows in a few
#: seconds; one part of 5,000 is slower per row (layout of one long table is not linear).
PART_SIZE = 1000


@dataclass
class Built:
    """What was written, for the command to report."""

    devices: int
    findings: int
    csv: tuple[Path, Path] | None = None
    documents_csv: Path | None = None  # one row per document finding, when documents were read
    pdf_pages: int | None = None


class _PrintParts:
    """The PDF appendix as HTML files of `size` rows each, written while devices stream.

    A part's rows go to a side file first: its heading names its first and last device,
    and the last part's end is known only when the devices run out."""

    def __init__(self, work: Path, title: str, size: int) -> None:
        self.work, self.title, self.size = work, title, size
        self.files: list[tuple[str, Path]] = []
        self._rows: IO[str] | None = None
        self._first = self._count = 0

    def add(self, index: int, row: str) -> None:
        if self._rows is None:
            self._first = index + 1
            self._rows = (self.work / "rows.html").open("w+", encoding="utf-8")
        self._rows.write(row)
        self._count += 1
        if self._count % self.size == 0:
            self._close(index + 1)

    def _close(self, last: int) -> None:
        if self._rows is None:
            return
        path = self.work / f"part-{len(self.files) + 1:04d}.html"
        head, tail = part_shell(self.title, self._first, last)
        with path.open("w", encoding="utf-8") as out:
            out.write(head)
            self._rows.seek(0)
            shutil.copyfileobj(self._rows, out, 1024 * 1024)
            out.write(tail)
        self._rows.close()
        self._rows = None
        self.files.append((f"Devices {self._first}–{last}", path))

    def finish(self) -> list[tuple[str, Path]]:
        self._close(self._count)
        return self.files


def build_reports(
    source: Source,
    *,
    html: Path | IO[str] | None = None,
    pdf: Path | None = None,
    csv: Path | None = None,
    table: CostTable | None = None,
    diff: ScanDiff | None = None,
    generated: datetime | None = None,
    chromium: str | None = None,
    part_size: int = PART_SIZE,
) -> Built:
    """Write the requested formats from one pass over `source`'s devices."""
    from camaudit.report.pdf import find_chromium, print_parts

    binary = (chromium or find_chromium()) if pdf is not None else None  # fail before work
    scan = source.scan()
    documents = source.documents()
    summary = Summary()
    plan = RemovalPlan(table or load_cost_table())
    appendix = HtmlAppendix() if html is not None else None
    csv_out = CsvWriter(csv) if csv is not None else None
    with tempfile.TemporaryDirectory(prefix="camaudit-report-") as work:
        parts = _PrintParts(Path(work), _title(scan), part_size) if pdf is not None else None
        try:
            for index, device in enumerate(source.devices()):
                summary.add(index, device)
                plan.add(index, device)
                if appendix is not None:
                    appendix.add(index, device)
                if parts is not None:
                    parts.add(index, print_row(index, device))
                if csv_out is not None:
                    csv_out.add(device)
        finally:
            if csv_out is not None:
                csv_out.close()
        built = Built(summary.devices, summary.findings,
                      csv=csv_out.paths if csv_out is not None else None)
        if csv is not None:
            built.documents_csv = write_documents_csv(documents, csv)
        try:
            if html is not None:
                context = page_context(scan, summary, plan, documents=documents, diff=diff,
                                       generated=generated)
                _write(html, lambda out: write_page(out, context, appendix))
            if parts is not None and pdf is not None:
                appendix_files = parts.finish()
                head = Path(work) / "part-0000.html"
                context = page_context(scan, summary, plan, documents=documents, diff=diff,
                                       generated=generated, printing=True)
                _write(head, lambda out: write_page(out, context, None))
                built.pdf_pages = print_parts(
                    [("Summary", head), *appendix_files], pdf, chromium=binary,
                    title=f"Video-surveillance audit — {_title(scan)}")
        finally:
            if appendix is not None:
                appendix.close()
    return built


def _title(scan: dict[str, object]) -> str:
    ident = scan.get("id")
    return f"scan {ident}" if ident is not None else f"scan of {scan.get('started') or '?'}"


def _write(target: Path | IO[str], write: Callable[[IO[str]], None]) -> None:
    """Call `write(handle)` on an open file, or on `target` opened for writing."""
    if not isinstance(target, Path):
        write(target)
        return
    try:
        with target.open("w", encoding="utf-8") as out:
            write(out)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write the report: {exc.strerror or exc}") from exc

