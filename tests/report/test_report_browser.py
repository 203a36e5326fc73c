"""The HTML report in a real headless Chromium, and the PDF printed by it.

One browser for the module (Debian's /usr/bin/chromium driven by Playwright;
browser builds cannot be downloaded here). The report must render, log no
console error, make no request beyond its own file, run its own search code
and none of the hostile device's; at 5,000 devices the appendix search must
still find a device. A screenshot is kept at build/artifacts/report.png.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from camaudit.report.build import build_reports
from camaudit.report.html import render_html
from camaudit.report.pdf import CHROMIUM_FLAGS
from camaudit.report.source import DocSource

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
    page.goto(path.as_uri(), timeout=60_000)
    page.wait_for_load_state("load")
    try:
        yield seen
    finally:
        context.close()


def shown_becomes(page: Any, text: str, timeout: float = 10.0) -> str:
    """Wait for the appendix counter (the search is debounced); polled from here, because
    the page's CSP forbids the evaluated functions that wait_for_function would inject."""
    deadline = time.monotonic() + timeout
    current = page.inner_text("#device-shown")
    while current != text and time.monotonic() < deadline:
        time.sleep(0.05)
        current = page.inner_text("#device-shown")
    return str(current)


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
        assert page.inner_text("#device-shown") == "5 of 5 devices shown"
        # ... and searches the appendix, in what an entry shows and in what it hides.
        page.fill("#device-filter", "dahua")
        assert shown_becomes(page, "2 of 5 devices shown") == "2 of 5 devices shown"
        hidden_hash = samples.sha(bytes(range(256)) * 4)  # device 0's SDK reply
        page.fill("#device-filter", hidden_hash[:20])
        assert shown_becomes(page, "1 of 5 devices shown") == "1 of 5 devices shown"
        assert page.is_visible("#dev-0") and page.get_attribute("#dev-0", "open") is not None
        assert page.is_visible(f"#dev-0 code:text('{hidden_hash}')")
        page.fill("#device-filter", "")
        page.check("#only-findings")
        assert shown_becomes(page, "4 of 5 devices shown") == "4 of 5 devices shown"
        page.uncheck("#only-findings")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000


def test_an_address_in_a_summary_table_opens_its_device(browser: Any,
                                                        report_file: Path) -> None:
    for seen in visit(browser, report_file):
        page = seen.page
        row = page.locator("#g-ndaa-889 tr[data-finding='ndaa-889']",
                           has=page.locator("a[href='#dev-2']"))
        row.locator("details.addr summary").click()
        row.locator("a[href='#dev-2']").click()
        assert page.get_attribute("#dev-2", "open") is not None
        assert page.is_visible("#dev-2 .db")
        assert seen.console_errors == []


def test_search_finds_a_device_among_5000(browser: Any, tmp_path: Path, samples: Any) -> None:
    """The page stays usable at the size of a real estate (its size and opening time are
    measured in benchmarks/report.py, not here)."""
    templates = samples.devices()
    devices = []
    for n in range(5000):
        device = templates[n % len(templates)]
        device.address = f"127.42.{n // 250}.{n % 250 + 1}"
        devices.append(device.to_json())
    doc = {**samples.document([]), "devices": devices}
    path = tmp_path / "big.html"
    build_reports(DocSource(doc), html=path)
    for seen in visit(browser, path):
        page = seen.page
        assert page.inner_text("#device-shown") == "5000 of 5000 devices shown"
        page.fill("#device-filter", "127.42.15.28")  # device 3777, and no other
        assert shown_becomes(page, "1 of 5000 devices shown") == "1 of 5000 devices shown"
        entry = page.locator("#dev-3777")
        assert entry.is_visible() and entry.get_attribute("open") is not None
        assert "127.42.15.28" in entry.inner_text()
        assert seen.console_errors == []


def test_the_detectors_can_fail(browser: Any, tmp_path: Path, doc: dict[str, Any]) -> None:
    """Controls: an unescaped script is caught by the CSP (console error), and without a
    CSP it runs and is seen: so the clean result above means something."""
    import re

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


def test_pdf_is_printed_in_parts_and_merged(tmp_path: Path, doc: dict[str, Any]) -> None:
    from pypdf import PdfReader

    pdf = tmp_path / "report.pdf"
    built = build_reports(DocSource(doc), pdf=pdf, chromium=str(CHROMIUM), part_size=2)
    reader = PdfReader(pdf)
    assert built.pdf_pages == len(reader.pages) >= 4
    assert [item.title for item in reader.outline] == [
        "Summary", "Devices 1–2", "Devices 3–4", "Devices 5–5"]
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Findings by regime" in text and "Removal plan" in text
    assert "Appendix: devices 5–5" in text  # the last, short part says where it ends
    for device in doc["devices"]:
        assert device["address"] in text
        for item in device["evidence"]:
            sha = item["observation"].removeprefix("sha256:")
            assert sha in text.replace("\n", "")
