"""The HTML report, parsed: every device and finding is there, and device strings stay text."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import lxml.html
import pytest

from camaudit.model import Device
from camaudit.report.charts import bar_chart
from camaudit.report.diff import diff_documents
from camaudit.report.html import explain_fields, render_html, safe_url


def parse(html: str) -> Any:
    return lxml.html.document_fromstring(html)


@pytest.fixture
def tree(doc: dict[str, Any]) -> Any:
    return parse(render_html(doc))


def test_every_device_has_a_row_and_an_evidence_section(doc: dict[str, Any], tree: Any) -> None:
    for index, device in enumerate(doc["devices"]):
        row = tree.xpath(f"//table[@id='device-table']//tr[@data-device='{index}']")
        assert len(row) == 1
        assert device["address"] in row[0].text_content()
        section = tree.get_element_by_id(f"dev-{index}")
        assert device["address"] in section.text_content()
        for item in device["evidence"]:
            assert item["observation"] in section.text_content()
            assert item["rule"] in section.text_content()


def test_every_finding_is_listed_under_its_regime_and_device(doc: dict[str, Any],
                                                             tree: Any) -> None:
    total = 0
    for index, device in enumerate(doc["devices"]):
        for finding in device["findings"]:
            total += 1
            rows = tree.xpath(f"//tr[@class='finding'][@data-device='{index}']"
                              f"[@data-finding='{finding['id']}']")
            assert len(rows) == 1, finding["id"]
            assert finding["title"] in rows[0].text_content()
            assert finding["id"] in tree.get_element_by_id(f"dev-{index}").text_content()
    assert total == len(tree.xpath("//tr[@class='finding']")) == 8
    regimes = [g.get("data-group") for g in tree.xpath("//article[@class='group']")]
    # Restrictions first, then analytics, then vulnerabilities (KEV before CVE), then the rest.
    assert regimes == ["ndaa-889", "fcc-covered-list", "eu-ai-act-art5-1g", "kev", "cve",
                       "unknown-maker"]


def test_hostile_device_strings_are_text_not_markup(samples: Any, tree: Any) -> None:
    scripts = tree.xpath("//script")
    assert len(scripts) == 1 and "__pwned" not in scripts[0].text  # only our own script
    assert tree.xpath("//img") == []
    handlers = [a for el in tree.iter() if isinstance(el.tag, str)
                for a in el.attrib if a.lower().startswith("on")]
    assert handlers == []
    text = tree.text_content()
    for hostile in (samples.SCRIPT, samples.IMG, samples.QUOTES, samples.MARKUP):
        assert hostile in text
    # Control characters are shown, not passed on: the ESC and the bidi override are visible.
    assert "\x1b" not in text and "\u202e" not in text
    assert "\\x1b[31mRED\\x1b[0m\\x1b]52;c;cHduZWQ=\\x07" in text
    assert "fw\\u202eevil" in text


def test_only_http_citations_become_links(tree: Any) -> None:
    hrefs = tree.xpath("//a/@href")
    assert not [h for h in hrefs if not (h.startswith("#") or h.startswith("https://"))]
    assert "javascript:alert(1)" in tree.get_element_by_id("findings").text_content()
    assert safe_url("javascript:alert(1)") is None and safe_url("https://") is None
    assert safe_url("https://www.fcc.gov/x") == "https://www.fcc.gov/x"


def test_self_contained_with_a_csp_that_admits_only_our_code(tree: Any) -> None:
    assert tree.xpath("//link") == [] and tree.xpath("//*[@src]") == []
    csp = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "default-src 'none'" in csp
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        body = tree.xpath(f"//{tag}")[0].text
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert re.search(rf"{directive} 'sha256-{re.escape(digest)}';", csp), tag


def test_summary_counts_and_todo(tree: Any) -> None:
    counts = {el.get("data-count"): int(el.text) for el in tree.xpath("//*[@data-count]")}
    assert counts == {"devices": 5, "restricted": 3, "analytics": 1, "kev": 1, "vulnerable": 2,
                      "unknown-maker": 1, "white-label": 2, "kev-possible": 0}
    todo = tree.xpath("//ol[@class='todo']")[0].text_content()
    assert "3 restricted devices" in todo and "USD 3,900" in todo
    charts = tree.xpath("//*[local-name()='svg']")
    assert len(charts) == 2


def test_field_reasons_separate_support_from_contrary_evidence(doc: dict[str, Any]) -> None:
    view = explain_fields(doc["devices"][0])
    reasons = {r.name: r for r in view.reasons}
    assert [e["rule"] for e in reasons["manufacturer"].supporting] == ["hik-sdk-8000"]
    assert [e["rule"] for e in reasons["brand"].contrary] == ["brand-banner"]
    assert reasons["brand"].supporting == [] and reasons["brand"].value == "Annke"
    assert "serial" in reasons and reasons["serial"].value == "SN-HIK-1"
    assert "hostname" not in reasons  # unknown and no evidence: nothing to explain


def test_possibly_affected_kev_is_counted_apart(samples: Any) -> None:
    unread = samples.kev("CVE-2021-33044")
    unread.status = "possible"
    device = Device("192.0.2.50", device_type="camera", manufacturer="Dahua", findings=[unread])
    tree = parse(render_html(samples.document([device])))
    counts = {el.get("data-count"): int(el.text) for el in tree.xpath("//*[@data-count]")}
    assert (counts["kev"], counts["kev-possible"]) == (0, 1)
    assert "Read the firmware version of the 1 device" in tree.xpath(
        "//ol[@class='todo']")[0].text_content()


def test_empty_scan_renders(samples: Any) -> None:
    tree = parse(render_html(samples.document([])))
    assert "No findings." in tree.get_element_by_id("findings").text_content()
    assert "No device needs replacing" in tree.get_element_by_id("removal").text_content()


def test_diff_section(samples: Any, doc: dict[str, Any]) -> None:
    old = samples.document(samples.devices()[:3], scan_id=6)
    tree = parse(render_html(doc, diff=diff_documents(old, doc)))
    changes = tree.get_element_by_id("changes")
    assert "Changes since scan 6" in changes.text_content()
    assert len(changes.xpath(".//tr[@class='added']")) == 2
    assert tree.xpath("//script")[0].text.count("__pwned") == 0


def test_chart_labels_are_escaped_and_rest_folded() -> None:
    svg = bar_chart("t", [("<script>x</script>", 3), *[(f"m{i}", 1) for i in range(12)]],
                    limit=5)
    root = lxml.html.fragment_fromstring(str(svg))
    assert root.xpath("//script") == []
    labels = [t.text for t in root.iter("text") if t.get("class") == "chart-label"]
    assert labels[0] == "<script>x</script>" and labels[-1] == "other"
    values = [int(t.text) for t in root.iter("text") if t.get("class") == "chart-value"]
    assert sum(values) == 15
