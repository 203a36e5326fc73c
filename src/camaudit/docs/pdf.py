"""PDF pages through PDFium (pypdfium2): the text layer, or OCR of a page that has none.

PDFium is the PDF engine of Chromium: it reads damaged files the way a browser would,
knows the CJK character collections (Adobe-GB1) a Chinese PDF relies on, and renders
scanned pages (JPEG, CCITT fax, JBIG2) for OCR. It is C code, so this module runs only
inside the worker process (``worker.py``) whose memory and time are bounded.

A page is *scanned* when its text layer has (almost) no characters but it shows an
image; it is then OCR'd when Tesseract is installed (``ocr.py``), else reported as not
read. An encrypted PDF that needs a password is not read; one with only an owner
password (printing/copying restrictions) opens as any reader would open it.
"""

from __future__ import annotations

import re

from camaudit.docs import ocr
from camaudit.docs.pages import Extracted, Limits, Page

#: Fewer non-blank characters than this and an image on the page: a scanned page.
SCANNED_CHARS = 16
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_pdf(path: str, limits: Limits) -> Extracted:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    out = Extracted("pdf")
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        out.error = _open_error(str(exc))
        return out
    try:
        count = len(pdf)
        if count > limits.max_pages:
            out.notes.append(f"{count} pages: only the first {limits.max_pages} were read")
        total = 0
        ocr_done = 0
        tesseract = ocr.available()
        for index in range(min(count, limits.max_pages)):
            page = Page(number=index + 1)
            out.pages.append(page)
            try:
                handle = pdf[index]
            except pdfium.PdfiumError as exc:
                page.not_read = f"page cannot be opened ({exc})"
                continue
            try:
                text = _text(handle, limits.page_chars)
                if len(text) >= limits.page_chars:
                    out.notes.append(f"page {index + 1}: text cut at {limits.page_chars:,} "
                                     "characters")
                if _blank(text) and _has_image(handle, pdfium_c.FPDF_PAGEOBJ_IMAGE):
                    if tesseract is None:
                        page.not_read = "scanned page (no text layer); OCR is not installed"
                        continue
                    if ocr_done >= limits.ocr_pages:
                        page.not_read = (f"scanned page beyond the OCR limit of "
                                         f"{limits.ocr_pages} pages")
                        continue
                    ocr_done += 1
                    text = ocr.read_page(handle, tesseract, limits)
                    page.ocr = True
                if total + len(text) > limits.doc_chars:
                    text = text[: max(0, limits.doc_chars - total)]
                    out.notes.append(f"text cut at {limits.doc_chars:,} characters")
                total += len(text)
                lines = _LINE_BREAK.split(text)
                # Tesseract puts a blank line between blocks: a page's lines are its text lines
                page.lines = [line for line in lines if line.strip()] if page.ocr else lines
            except (pdfium.PdfiumError, ocr.OcrError) as exc:
                page.not_read = str(exc)
            finally:
                handle.close()
            if total >= limits.doc_chars:
                if index + 1 < min(count, limits.max_pages):
                    out.notes.append(f"text cut at {limits.doc_chars:,} characters: pages "
                                     f"after {index + 1} not read")
                break
    finally:
        pdf.close()
    return out


def _open_error(message: str) -> str:
    if "password" in message.lower():
        return "encrypted PDF: needs a password, not read"
    return f"not a readable PDF ({message})"


def _text(page: object, cap: int) -> str:
    textpage = page.get_textpage()  # type: ignore[attr-defined]
    try:
        n = textpage.count_chars()
        return str(textpage.get_text_range(0, min(n, cap))) if n > 0 else ""
    finally:
        textpage.close()


def _blank(text: str) -> bool:
    return sum(1 for ch in text if not ch.isspace()) < SCANNED_CHARS


def _has_image(page: object, kind: int) -> bool:
    for _ in page.get_objects(filter=[kind], max_depth=2):  # type: ignore[attr-defined]
        return True
    return False
