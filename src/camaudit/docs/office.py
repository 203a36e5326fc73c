"""DOCX (python-docx) and XLSX (openpyxl), after the ZIP package has been checked.

A DOCX or XLSX is a ZIP package; a hostile one declares parts of many gigabytes that
compress to kilobytes (a "zip bomb"). :func:`check_package` reads only the central
directory and refuses a package whose parts are too large, too many, or compressed
beyond any real document's ratio. Python's zipfile stops inflating a part at its
declared size, so the declared sizes checked here bound what the readers can inflate.

Page and line numbers: in a DOCX a page ends at a page break written in the file (a
hard break, or failing those the breaks Word recorded when it last laid the document
out); lines are paragraphs and table rows. In an XLSX each sheet is a page and the
line is the row number.
"""

from __future__ import annotations

import warnings
import zipfile
from typing import Any

from camaudit.docs.pages import Extracted, Limits, Page

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_PARTS = 20_000
#: Parts smaller than this are never called bombs, whatever their ratio.
_SMALL = 4 * 2**20


class PackageError(Exception):
    """The ZIP package is refused; the message says which part and why."""


def check_package(path: str, limits: Limits) -> list[str]:
    """The member names of a ZIP package whose declared sizes are within `limits`."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise PackageError(f"not a readable ZIP package ({exc})") from exc
    if len(infos) > MAX_PARTS:
        raise PackageError(f"{len(infos)} parts in the package (more than {MAX_PARTS})")
    total = 0
    for info in infos:
        size = info.file_size
        total += size
        if size > limits.zip_member:
            raise PackageError(f"part {info.filename!r} inflates to {size:,} bytes (limit "
                               f"{limits.zip_member:,}): a zip bomb or not a document")
        if size > _SMALL and size > limits.zip_ratio * max(1, info.compress_size):
            raise PackageError(f"part {info.filename!r} inflates {size:,} bytes from "
                               f"{info.compress_size:,} (over {limits.zip_ratio}:1): a zip "
                               "bomb")
    if total > limits.zip_total:
        raise PackageError(f"parts inflate to {total:,} bytes in all (limit "
                           f"{limits.zip_total:,}): a zip bomb or not a document")
    return [info.filename for info in infos]


def read_docx(path: str, limits: Limits) -> Extracted:
    import docx

    out = Extracted("docx")
    document = docx.Document(path)
    body = document.element.body
    hard = bool(body.xpath(".//w:br[@w:type='page']"))
    page = Page(number=1, blocks=True)
    out.pages.append(page)
    chars = 0
    for block in document.iter_inner_content():
        element = block._element  # python-docx exposes the XML no other way
        if not hard and element.xpath(".//w:lastRenderedPageBreak") and page.lines:
            page = _next_page(out, page)
        lines = (_table_lines(block) if element.tag == f"{_W}tbl"
                 else [str(getattr(block, "text", ""))])
        for line in lines:
            line = line[: limits.page_chars]
            chars += len(line)
            page.lines.append(line)
        if hard and element.xpath(".//w:br[@w:type='page']"):
            page = _next_page(out, page)
        if chars > limits.doc_chars:
            out.notes.append(f"text cut at {limits.doc_chars:,} characters")
            break
        if len(out.pages) > limits.max_pages:
            out.notes.append(f"only the first {limits.max_pages} pages were read")
            break
    if not out.pages[-1].lines and len(out.pages) > 1:
        out.pages.pop()  # a break at the very end opens no page
    return out


def _next_page(out: Extracted, page: Page) -> Page:
    new = Page(number=page.number + 1, blocks=True)
    out.pages.append(new)
    return new


def _table_lines(table: Any) -> list[str]:
    """One line per row: the cells' text joined by ' | ' (a merged cell once)."""
    lines = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        lines.append(" | ".join(cells))
    return lines


def read_xlsx(path: str, limits: Limits) -> Extracted:
    import openpyxl

    out = Extracted("xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            chars = 0
            for number, sheet in enumerate(workbook.worksheets, start=1):
                page = Page(number=number, blocks=True, label=str(sheet.title),
                            start=sheet.min_row or 1)
                out.pages.append(page)
                for offset, row in enumerate(sheet.iter_rows(values_only=True)):
                    if offset >= limits.rows:
                        out.notes.append(f"sheet {sheet.title!r}: only the first "
                                         f"{limits.rows:,} rows were read")
                        break
                    cells = [" ".join(str(v).split()) for v in row if v is not None]
                    text = " | ".join(c for c in cells if c)[: limits.page_chars]
                    page.lines.append(text)
                    chars += len(text)
                    if chars > limits.doc_chars:
                        out.notes.append(f"text cut at {limits.doc_chars:,} characters")
                        return out
                if number >= limits.max_pages:
                    break
        finally:
            workbook.close()
    return out
