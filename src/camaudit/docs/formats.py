"""Which reader a file needs, from its first bytes (and its name only for text kinds).

Sans-IO: :func:`sniff` takes the head of the file and, for ZIP files, the member names.
Office files are ZIP packages (ECMA-376 Part 2, Open Packaging Conventions): a DOCX
has ``word/document.xml``, an XLSX ``xl/workbook.xml``. Legacy binary Office files
(the OLE2 compound format, ``D0 CF 11 E0``) are recognised and refused by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PDF, DOCX, XLSX, HTML, TEXT, UNKNOWN = "pdf", "docx", "xlsx", "html", "text", "unknown"
FORMATS = (PDF, DOCX, XLSX, HTML, TEXT)
#: File name endings worth opening when a folder is given.
SUFFIXES = (".pdf", ".docx", ".xlsx", ".xlsm", ".html", ".htm", ".xhtml", ".txt", ".text",
            ".md", ".csv", ".tsv")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_HEAD = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)",
                        re.IGNORECASE | re.DOTALL)


def is_zip(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def sniff(name: str, head: bytes, members: Iterable[str] = ()) -> tuple[str, str | None]:
    """(format, why not readable or None) for a file called `name` starting with `head`."""
    low = name.lower()
    if b"%PDF-" in head[:1024]:
        return PDF, None
    if is_zip(head):
        names = set(members)
        if "word/document.xml" in names:
            return DOCX, None
        if "xl/workbook.xml" in names:
            return XLSX, None
        return UNKNOWN, "a ZIP archive that is not a DOCX or XLSX document"
    if head.startswith(_OLE2):
        return UNKNOWN, ("a legacy binary Office file (.doc/.xls/.ppt): save it as DOCX, XLSX "
                         "or PDF to scan it")
    if low.endswith((".html", ".htm", ".xhtml")) or _HTML_HEAD.match(head[:4096]):
        return HTML, None
    if _texty(head):
        return TEXT, None
    return UNKNOWN, "not a PDF, DOCX, XLSX, HTML or text file"


def _texty(head: bytes) -> bool:
    """Text in UTF-8/16 or GB18030: no NUL bytes (outside UTF-16) and few control bytes."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = head[:8192]
    if b"\x00" in sample:
        return False
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls <= len(sample) // 100
