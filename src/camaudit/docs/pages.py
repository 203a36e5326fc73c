"""What extraction hands to analysis: pages of text lines, and why a page was not read.

Records only (no I/O), so that the worker process can send them to the parent as
JSON and tests can build them by hand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Page:
    """One page (a PDF page, a DOCX page between page breaks, an XLSX sheet, a text page).

    `blocks`: each line is a paragraph, table row or cell of its own (DOCX, XLSX, HTML),
    so a sentence never runs from one line into the next; otherwise (PDF, plain text)
    lines are wrapped text and a sentence may go on.
    """

    number: int
    lines: list[str] = field(default_factory=list)
    blocks: bool = False
    ocr: bool = False  # the text was read from the page image by OCR
    not_read: str | None = None  # why the page's text could not be read
    label: str | None = None  # a sheet's name
    start: int = 1  # the line number of lines[0] (an XLSX sheet may start at any row)


@dataclass
class Extracted:
    """A document's text as far as it could be read."""

    format: str  # pdf | docx | xlsx | html | text | unknown
    pages: list[Page] = field(default_factory=list)
    error: str | None = None  # the document as a whole could not be read
    notes: list[str] = field(default_factory=list)  # limits reached, parts skipped

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Extracted:
        pages = [Page(number=int(p["number"]), lines=[str(x) for x in p["lines"]],
                      blocks=bool(p["blocks"]), ocr=bool(p["ocr"]), not_read=p["not_read"],
                      label=p["label"], start=int(p.get("start", 1)))
                 for p in data.get("pages") or []]
        return cls(format=str(data["format"]), pages=pages, error=data.get("error"),
                   notes=[str(n) for n in data.get("notes") or []])


@dataclass(frozen=True)
class Limits:
    """Bounds on one document: every hostile file costs at most this much."""

    max_bytes: int = 256 * 2**20  # larger files are not opened
    timeout: float = 300.0  # wall-clock seconds for one document, OCR included
    memory: int = 2 * 2**30  # address space of the worker process, bytes
    max_pages: int = 5000
    page_chars: int = 200_000  # characters kept per page
    doc_chars: int = 20_000_000  # characters kept per document
    zip_member: int = 256 * 2**20  # uncompressed bytes of one DOCX/XLSX part
    zip_total: int = 1 * 2**30  # uncompressed bytes of all parts
    zip_ratio: int = 200  # compression ratio above which a large part is a bomb
    ocr_pages: int = 50  # scanned pages OCR'd per document
    ocr_timeout: float = 60.0  # seconds for one page
    ocr_pixels: int = 40_000_000  # a page image is scaled down to at most this many pixels
    rows: int = 200_000  # XLSX rows read per sheet

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
