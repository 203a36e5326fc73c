"""One file -> its pages of text, choosing the reader by the file's first bytes.

Runs in the worker process (``worker.py``); tests call it directly. Library errors
that mean "this file is not what it says" become :class:`Extracted` with an ``error``;
the worker turns anything else into one too, so a file never stops a batch.
"""

from __future__ import annotations

import os

from camaudit.docs import formats
from camaudit.docs.office import PackageError, check_package, read_docx, read_xlsx
from camaudit.docs.pages import Extracted, Limits
from camaudit.docs.pdf import read_pdf
from camaudit.docs.textfile import read_html, read_text


def extract_file(path: str, limits: Limits) -> Extracted:
    try:
        size = os.path.getsize(path)
        if size > limits.max_bytes:
            return Extracted(formats.UNKNOWN, error=f"{size:,} bytes, over the limit of "
                             f"{limits.max_bytes:,}: not read")
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        return Extracted(formats.UNKNOWN, error=f"cannot be opened: {exc.strerror or exc}")
    members: list[str] = []
    if formats.is_zip(head):
        try:
            members = check_package(path, limits)
        except PackageError as exc:
            return Extracted(formats.UNKNOWN, error=str(exc))
    fmt, why = formats.sniff(os.path.basename(path), head, members)
    if why is not None:
        return Extracted(fmt, error=why)
    if fmt == formats.PDF:
        return read_pdf(path, limits)
    if fmt in (formats.DOCX, formats.XLSX):
        reader = read_docx if fmt == formats.DOCX else read_xlsx
        try:
            return reader(path, limits)
        except (KeyError, ValueError, OSError, SyntaxError) as exc:
            # python-docx and openpyxl raise these for missing or malformed parts
            return Extracted(fmt, error=f"not a readable {fmt.upper()} ({type(exc).__name__}: "
                             f"{' '.join(str(exc).split())[:200]})")
    with open(path, "rb") as fh:
        data = fh.read(limits.max_bytes)
    return read_html(data, limits) if fmt == formats.HTML else read_text(data, limits)
