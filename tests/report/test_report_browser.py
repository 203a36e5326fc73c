"""The HTML report in a real headless Chromium, and the PDF printed by it.

One browser for the module (Debian's /usr/bin/chromium driven by Playwright;
browser builds cannot be downloaded here). The report must render, log no
console error, make no request beyond its own file, run its own sorting code
and none of the hostile device's. A screenshot is kept at
build/artifacts/report.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from camaudit.report.html import render_html
from camaudit.report.pdf import CHROMIUM_FLAGS, write_pdf

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM),
                                      args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
        yield launched
        launched.close()


@dataclass
class Visit:
    page: Any
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def visit(browser: Any, path: Path) -> Iterator[Visit]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = Visit(page)
    page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error"
            else None)
    page.on("pageerror", lambda e: seen.console_errors.append(str(e)))
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("dialog", lambda d: (seen.dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    try:
        yield seen
    finally:
        context.close()


@pytest.fixture
def report_file(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "report.html"
    path.write_text(render_html(doc), encoding="utf-8")
    return path


def test_report_renders_without_errors_requests_or_hostile_script(
        browser: Any, report_file: Path, samples: Any) -> None:
    for seen in visit(browser, report_file):
        page = seen.page
        assert page.title().startswith("Video-surveillance audit")
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert seen.dialogs == []
        assert seen.console_errors == []
        assert seen.requests == [report_file.as_uri()]
        body = page.inner_text("body")
        assert samples.SCRIPT in body and samples.IMG in body
        # Our own script did run (the CSP admits it by hash): it filled in the counter ...
        assert page.inner_text("#device-shown") == "5 of 5 shown"
        # ... and sorts and filters the device table.
        page.click("#device-table th:nth-child(1)")
        page.click("#device-table th:nth-child(1)")  # descending
        first = page.inner_text("#device-table tbody tr:nth-child(1) td:nth-child(1)")
        assert first == "127.42.0.11"
        page.fill("#device-filter", "dahua")
        assert page.inner_text("#device-shown") == "2 of 5 shown"
        page.fill("#device-filter", "")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000


def test_the_detectors_can_fail(browser: Any, tmp_path: Path, doc: dict[str, Any]) -> None:
    """Controls: an unescaped script is caught by the CSP (console error), and without a
    CSP it runs and is seen: so the clean result above means something."""
    html = render_html(doc)
    injected = html.replace("</main>", "<script>window.__pwned = 1</script></main>")
    (tmp_path / "csp.html").write_text(injected, encoding="utf-8")
    for seen in visit(browser, tmp_path / "csp.html"):
        assert seen.page.evaluate("typeof window.__pwned") == "undefined"
        assert any("Content Security Policy" in e for e in seen.console_errors)
    bare = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", injected)
    (tmp_path / "bare.html").write_text(bare, encoding="utf-8")
    for seen in visit(browser, tmp_path / "bare.html"):
        assert seen.page.evaluate("window.__pwned") == 1


def test_pdf_has_pages(tmp_path: Path, doc: dict[str, Any]) -> None:
    pdf = tmp_path / "report.pdf"
    write_pdf(render_html(doc), pdf, chromium=str(CHROMIUM))
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert pages >= 2  # the print stylesheet starts the device sections on new pages
