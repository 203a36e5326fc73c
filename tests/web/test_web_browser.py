"""The console in a real browser: Debian's /usr/bin/chromium driven by Playwright.

One journey as an auditor would make it: log in, filter the inventory, open a device,
mark its removal, add a note, download the evidence bundle and verify it; then the
hostile device's page, where no device string may run. Screenshots are kept in
build/artifacts/web-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from camaudit.report.bundle import verify_bundle
from camaudit.report.signing import parse_public_key

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    from camaudit.report.pdf import CHROMIUM_FLAGS

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM),
                                      args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
        yield launched
        launched.close()


class Watch:
    """What a page did that it should not: errors, dialogs, requests to other origins."""

    def __init__(self, page: Any, origin: str) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: None if r.url.startswith(origin)
                else self.foreign.append(r.url))


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"web-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000


def test_auditor_journey(browser: Any, served: Any, tmp_path: Path) -> None:
    s = served.store
    context = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    page = context.new_page()
    watch = Watch(page, served.url)
    try:
        page.goto(f"{served.url}/scans/{s.a}")
        assert "/login" in page.url
        page.fill("input[name=name]", "auditor")
        page.fill("input[name=password]", served.password)
        shot(page, "1-login")
        page.click("form[action='/login'] button")
        page.wait_for_selector("#devices")
        assert page.url.endswith(f"/scans/{s.a}")
        total = int(page.inner_text("#shown b"))
        shot(page, "2-inventory")

        page.select_option("select[name=manufacturer]", "Hikvision")
        for _ in range(100):  # htmx swaps the table in (wait_for_function would need eval,
            if page.inner_text("#shown b") != str(total):  # which our CSP forbids)
                break
            page.wait_for_timeout(100)
        makers = page.eval_on_selector_all("#devices tbody tr td:nth-child(5)",
                                           "cells => cells.map(c => c.textContent)")
        assert makers and set(makers) == {"Hikvision"}
        assert "manufacturer=Hikvision" in page.url  # the filtered view is a link
        shot(page, "3-filtered")

        page.click(f"#devices a[href='/scans/{s.a}/devices/{s.zoo_address}']")
        page.wait_for_selector("#device-findings")
        assert "manufacturer" in page.inner_text("#fields")
        assert page.inner_text("#device-findings").count("ndaa-889") >= 1
        shot(page, "4-device")

        form = page.locator("form.removal-form")
        form.locator("select[name=status]").select_option("accepted")
        form.locator("input[name=reason]").fill("replacement ordered, PO 2026-118")
        form.locator("input[name=expires]").fill("2027-03-31")
        form.locator("button").click()
        page.wait_for_selector("#removal + p .status-accepted")
        assert "replacement ordered, PO 2026-118" in page.inner_text("#removal + p")
        assert "auditor" in page.inner_text("#removal + p")

        page.fill("textarea[name=text]", "Sticker says Annke; SDK says Hikvision.")
        page.click("#notes-list button")
        page.wait_for_selector("text=Sticker says Annke")  # swapped in by htmx
        shot(page, "5-marked")

        page.goto(f"{served.url}/scans/{s.a}/removal")
        row = page.locator(f"[id='plan-{s.zoo_address}']")
        assert "accepted" in row.inner_text()
        shot(page, "6-removal-plan")

        with page.expect_download() as download:
            page.click("#evidence-link")
        bundle = tmp_path / "evidence.zip"
        download.value.save_as(bundle)
        public = page.request.get(f"{served.url}/signer.pub").body()
        result = verify_bundle(bundle, parse_public_key(public, "signer.pub"))
        assert result.ok, result.problems
        assert len(result.checked) > 10
    finally:
        context.close()
    assert watch.errors == [] and watch.dialogs == [] and watch.foreign == []


def test_hostile_device_page_runs_no_device_script(browser: Any, served: Any) -> None:
    s = served.store
    client, _ = served.browser_session("admin")
    cookie = client.cookies["camaudit_session"]
    client.close()
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.add_cookies([{"name": "camaudit_session", "value": cookie,
                          "url": served.url}])
    page = context.new_page()
    watch = Watch(page, served.url)
    try:
        for path in (f"/scans/{s.c}/devices/{s.hostile_address}", f"/scans/{s.b}",
                     f"/scans/{s.b}/findings"):
            page.goto(served.url + path)
            page.wait_for_load_state("load")
            for opened in page.locator("details").all()[:20]:
                opened.evaluate("d => d.open = true")
            assert page.evaluate("typeof window.__pwned") == "undefined", path
        body = page.goto(f"{served.url}/scans/{s.c}/devices/{s.hostile_address}")
        assert body is not None
        assert served.pwned[0] in page.inner_text("body")  # shown, as text
        shot(page, "7-hostile-device")
    finally:
        context.close()
    assert watch.dialogs == [] and watch.foreign == []
    assert watch.errors == [], watch.errors  # also: no CSP violation was needed


def test_htmx_is_served_from_the_wheel_pinned() -> None:
    import hashlib
    from importlib import resources

    static = resources.files("camaudit.web").joinpath("static")
    data = static.joinpath("htmx.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == (
        "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717")
    assert "Zero-Clause BSD" in static.joinpath("htmx.LICENSE.txt").read_text()
    assert "2.0.11" in static.joinpath("htmx.SOURCE.txt").read_text()


def test_static_assets_are_served_with_a_strict_policy(served: Any) -> None:
    response = httpx.get(f"{served.url}/static/htmx.min.js")
    assert response.status_code == 200 and response.headers["x-content-type-options"] == "nosniff"
    page = httpx.get(f"{served.url}/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
