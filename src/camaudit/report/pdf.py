"""The PDF report: the HTML report printed by headless Chromium, in parts, merged by pypdf.

An auditor files a document, so the PDF is the same report through the print
stylesheet, not a second layout to keep in step. A report of thousands of
devices is printed in parts (the summary, then the device appendix a few
thousand rows at a time, see build.py), each by its own Chromium run, and the
parts are joined into one file with a bookmark per part (pdfmerge.py, on
pypdf's parser, part by part in bounded memory): so the size of an estate
does not decide whether its report prints. Chromium runs with a fresh
profile and every background service off (no sync, no component updates, no
QUIC), and opens only the local file. Where Chromium lives: ``$CAMAUDIT_CHROMIUM``,
else ``chromium``/``chromium-browser``/``google-chrome`` on PATH (Debian:
``apt-get install chromium``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from camaudit.errors import ResourceError

#: Flags that keep a headless Chromium quiet and local (see issue #7).
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
)
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PRINT_TIMEOUT = 120.0  # seconds per part; a part of 1,000 devices prints in a few seconds


def find_chromium() -> str:
    """Path of the Chromium to use, or a ResourceError that says how to get one."""
    configured = os.environ.get("CAMAUDIT_CHROMIUM")
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ResourceError(f"CAMAUDIT_CHROMIUM={configured} is not an executable file")
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ResourceError(
        "a PDF needs Chromium, and none was found: install it (Debian: apt-get install "
        "chromium) or set CAMAUDIT_CHROMIUM to its path"
    )


def html_to_pdf(html_file: Path, pdf_file: Path, *, chromium: str | None = None) -> None:
    """Print `html_file` to `pdf_file` with headless Chromium; errors name what failed."""
    binary = chromium or find_chromium()
    html_file, pdf_file = html_file.resolve(), pdf_file.resolve()
    try:
        pdf_file.unlink(missing_ok=True)  # so an old PDF cannot pass for a new one
    except OSError as exc:
        raise ResourceError(f"{pdf_file}: cannot replace: {exc.strerror or exc}") from exc
    with tempfile.TemporaryDirectory(prefix="camaudit-chromium-") as profile:
        command = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_file}",
            html_file.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=PRINT_TIMEOUT, check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise ResourceError(f"Chromium did not print {html_file} within "
                                f"{PRINT_TIMEOUT:.0f}s") from exc
        except OSError as exc:
            raise ResourceError(f"cannot run Chromium ({binary}): {exc.strerror or exc}") from exc
    if done.returncode != 0 or not pdf_file.is_file() or pdf_file.stat().st_size == 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        raise ResourceError(
            f"Chromium failed to print {pdf_file} (exit {done.returncode})"
            + (f": {tail[0]}" if tail else "")
        )


def merge_pdfs(parts: list[tuple[str, Path]], pdf_file: Path, *, title: str = "") -> int:
    """Join (bookmark title, PDF) parts into `pdf_file` in order; return its page count.

    Joined part by part (pdfmerge.py), so memory does not grow with the report.
    Written to a temporary file beside the target and renamed, so a failed
    merge never leaves a PDF that looks complete.
    """
    from pypdf.errors import PyPdfError

    from camaudit.report.pdfmerge import concatenate

    pdf_file = pdf_file.resolve()
    partial = pdf_file.with_name(f".{pdf_file.name}.part")
    try:
        with partial.open("wb") as out:
            pages = concatenate(parts, out, title=title)
        os.replace(partial, pdf_file)
    except (PyPdfError, OSError, ValueError) as exc:
        partial.unlink(missing_ok=True)
        raise ResourceError(f"cannot join the PDF parts into {pdf_file}: {exc}") from exc
    return pages


def print_parts(parts: list[tuple[str, Path]], pdf_file: Path, *,
                chromium: str | None = None, title: str = "") -> int:
    """Print each (bookmark title, HTML file) part with Chromium and merge them into
    `pdf_file`; return the number of pages."""
    binary = chromium or find_chromium()
    printed = []
    for mark, html_file in parts:
        part_pdf = html_file.with_suffix(".pdf")
        html_to_pdf(html_file, part_pdf, chromium=binary)
        printed.append((mark, part_pdf))
    return merge_pdfs(printed, pdf_file, title=title)
