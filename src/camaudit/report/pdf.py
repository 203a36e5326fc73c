"""The PDF report: the HTML report printed by headless Chromium.

An auditor files a document, so the PDF is the same report through the print
stylesheet, not a second layout to keep in step. Chromium runs with a fresh
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
PRINT_TIMEOUT = 120.0  # seconds; a report of thousands of devices prints in well under this


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


def write_pdf(html: str, pdf_file: Path, *, chromium: str | None = None) -> None:
    """Print an HTML report string to `pdf_file` through a temporary file."""
    with tempfile.TemporaryDirectory(prefix="camaudit-pdf-") as work:
        source = Path(work) / "report.html"
        source.write_text(html, encoding="utf-8")
        html_to_pdf(source, pdf_file, chromium=chromium)
