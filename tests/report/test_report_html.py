"""The HTML report, parsed: summary tables group alike devices, every finding keeps its source,
every device is in the appendix once with its evidence hashes, and device strings stay text."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from typing import Any

import lxml.html
import pytest

from camaudit.model import Device, Finding
from camaudit.report.charts import bar_chart
from camaudit.report.diff import diff_documents
from camaudit.report.document import group_key
from camaudit.report.html import explain_fields, render_html, safe_url
from camaudit.report.summary import anchor_of


def parse(html: str) -> Any:
    return lxml.html.document_fromstring(html)


@pytest.fixture
def tree(doc: dict[str, Any]) -> Any:
    return parse(render_html(doc))


def regime_rows(tree: Any, device_index: int, finding: dict[str, Any]) -> list[Any]:
    """The rows of the finding's regime table whose address list links to the device."""
    return tree.xpath(
        f"//article[@data-group='{group_key(finding)}']//tr[@data-finding='{finding['id']}']"
        f"[.//a[@href='#dev-{device_index}']]")


def test_every_finding_is_in_its_regime_row_with_its_source(doc: dict[str, Any],
                                                           tree: Any) -> None:
    total = 0
    for index, device in enumerate(doc["devices"]):
        entry = tree.get_element_by_id(f"dev-{index}")
        for finding in device["findings"]:
            total += 1
            rows = regime_rows(tree, index, finding)
            assert len(rows) == 1, finding["id"]
            text = rows[0].text_content()
            assert finding["title"] in text and finding["source"] in text
            assert device["address"] in text
            assert finding.get("detail", "") in text
            # The appendix entry names the finding and links to its regime.
            link = entry.xpath(f".//a[text()='{finding['id']}']")[0]
            assert link.get("href") == "#" + anchor_of(group_key(finding))
    assert total == 8
    regimes = [g.get("data-group") for g in tree.xpath("//article[@class='group']")]
    # Restrictions first, then analytics, then vulnerabilities (KEV before CVE), then the rest.
    assert regimes == ["ndaa-889", "fcc-covered-list", "eu-ai-act-art5-1g", "kev", "cve",
                       "unknown-maker"]


def test_alike_devices_share_one_row_with_a_count_and_their_addresses(samples: Any) -> None:
    cameras = []
    for n in range(4):
        camera = samples.devices()[0]
        camera.address = f"127.42.1.{n + 1}"
        camera.site = "HQ" if n < 3 else "Depot"
        cameras.append(camera)
    tree = parse(render_html(samples.document(cameras)))
    rows = tree.xpath("//article[@data-group='ndaa-889']//tr[@data-finding='ndaa-889']")
    assert [(r.get("data-count"), r.xpath("td[5]")[0].text_content()) for r in rows] == [
        ("3", "HQ"), ("1", "Depot")]
    assert [a.text for a in rows[0].xpath(".//details[@class='addr']//a")] == [
        "127.42.1.1", "127.42.1.2", "127.42.1.3"]
    assert "(sold as Annke)" in rows[0].text_content()
    # The plan: one line per site and model, costed per device; as severe, but three with
    # exploited firmware come before one.
    lines = tree.xpath("//table[@class='plan']//tr[@class='line']")
    assert [(r.get("data-site"), r.get("data-count")) for r in lines] == [("HQ", "3"),
                                                                           ("Depot", "1")]
    assert lines[0].xpath("td")[-1].text == "2,100"


def test_every_device_is_in_the_appendix_once_with_its_evidence(doc: dict[str, Any],
                                                                tree: Any) -> None:
    entries = tree.xpath("//div[@id='device-list']/details[@class='dev']")
    assert [e.get("id") for e in entries] == [f"dev-{i}" for i in range(len(doc["devices"]))]
    for entry, device in zip(entries, doc["devices"], strict=True):
        text = entry.text_content()
        assert device["address"] in text
        assert entry.get("data-f") == str(len(device["findings"]))
        for item in device["evidence"]:
            assert item["observation"].removeprefix("sha256:") in text
            assert item["rule"] in text
    first = entries[0]
    # A finding's own evidence hash is listed too, and a value a rule read that disagrees
    # with the conclusion is struck through (brand-banner read Hikvision; the box says Annke).
    assert "ab" * 32 in first.text_content()
    assert [s.text for s in first.xpath(".//s")] == ["brand=Hikvision"]
    # Evidence is a pointer into the bundle, not the evidence text.
    assert "bytes" not in first.text_content() and "<DeviceInfo>" not in first.text_content()


def test_rules_cited_with_their_source(doc: dict[str, Any], tree: Any) -> None:
    rows = {r.xpath("td")[0].text: r.xpath("td")[1].text_content()
            for r in tree.xpath("//table[@class='rules']/tbody/tr")}
    rules = {item["rule"] for device in doc["devices"] for item in device["evidence"]}
    assert set(rows) == rules
    assert set(rows.values()) == {"https://www.acquisition.gov/far/52.204-25"}


def test_restricted_matrix(tree: Any) -> None:
    table = tree.xpath("//table[@class='matrix']")[0]
    heads = [th.text_content() for th in table.xpath(".//th")]
    assert heads == ["Real maker", "Model", "Sites", "Devices", "ndaa-889", "fcc-covered-list"]
    cells = [[(td.xpath(".//summary") or [td])[0].text_content().strip()
              for td in tr.xpath("td")] for tr in table.xpath("tbody/tr")]
    assert cells == [
        ["Dahua", "IPC-HDW5831R-ZE", "Depot", "1 device", "1", ""],
        ["Dahua (sold as Lorex)", "NVR4108HS", "Depot", "1 device", "1", ""],
        ["Hikvision (sold as Annke)", "DS-2CD2042WD-I", "HQ", "1 device", "1", "1"],
    ]


def test_statuses_are_shown_as_the_document_gives_them(samples: Any) -> None:
    """The report renders the status a finding has (here 'possible'), not a list it knows."""
    device = samples.devices()[0]
    unread = samples.ndaa()
    unread.status = "possible"
    device.findings = [unread, samples.fcc()]
    tree = parse(render_html(samples.document([device])))
    row = tree.xpath("//tr[@data-finding='ndaa-889']")[0]
    assert row.xpath("td[6]")[0].text == "possible"
    assert "(possible: 1)" in tree.get_element_by_id("g-ndaa-889").text_content()
    entry = tree.get_element_by_id("dev-0")
    assert [i.text for i in entry.xpath("./summary//i")] == ["(sold as Annke)", "(possible)"]


def test_a_lead_is_listed_apart_and_linked_there(samples: Any) -> None:
    """A lead (issue 20) is not a row of its regime's findings: the leads section has it, the
    device's entry links there, and it counts neither as a finding nor as restricted."""
    device = samples.devices()[0]
    lead = samples.ndaa()
    lead.status = "lead"  # type: ignore[assignment]
    device.findings = [lead, samples.fcc()]
    tree = parse(render_html(samples.document([device])))
    assert tree.xpath("//section[@id='findings']//tr[@data-finding='ndaa-889']") == []
    assert tree.xpath("//article[@data-group='ndaa-889']") == []
    row = tree.xpath("//section[@id='leads']//tr[@data-finding='ndaa-889']")[0]
    assert row.get("data-count") == "1" and samples.NDAA_SRC in row.text_content()
    entry = tree.get_element_by_id("dev-0")
    assert [i.text for i in entry.xpath("./summary//i")] == ["(sold as Annke)", "(lead)"]
    link = entry.xpath(".//a[text()='ndaa-889']")[0]
    assert link.get("href") == "#" + anchor_of("ndaa-889", lead=True)
    assert entry.get("data-f") == "1"  # the FCC finding; the lead is listed, not counted
    heads = [th.text_content() for th in tree.xpath("//table[@class='matrix']//th")]
    assert "ndaa-889" not in heads and "fcc-covered-list" in heads
    plan = tree.xpath("//table[@class='plan']//tr[@class='line']")[0].xpath("td[7]")[0]
    assert plan.text == "fcc-covered-list"


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


def test_a_device_cannot_forge_the_appendix_marker(samples: Any) -> None:
    device = samples.devices()[1]
    device.model = "<!--camaudit:appendix-->"
    html = render_html(samples.document([device]))
    assert html.count('<details class="dev"') == 1
    assert "&lt;!--camaudit:appendix--&gt;" in html


def test_only_http_citations_become_links(tree: Any) -> None:
    hrefs = tree.xpath("//a/@href")
    assert not [h for h in hrefs if not (h.startswith("#") or h.startswith("https://"))]
    assert "javascript:alert(1)" in tree.get_element_by_id("findings").text_content()
    assert safe_url("javascript:alert(1)") is None and safe_url("https://") is None
    assert safe_url("https://www.fcc.gov/x") == "https://www.fcc.gov/x"
    ids = set(tree.xpath("//@id"))
    assert {h[1:] for h in hrefs if h.startswith("#")} <= ids  # no dangling anchors


def test_self_contained_with_a_csp_that_admits_only_our_code(tree: Any) -> None:
    assert tree.xpath("//link") == [] and tree.xpath("//*[@src]") == []
    csp = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "default-src 'none'" in csp
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        body = tree.xpath(f"//{tag}")[0].text
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert re.search(rf"{directive} 'sha256-{re.escape(digest)}';", csp), tag


def test_summary_counts_and_todo(tree: Any) -> None:
    counts = {el.get("data-count"): int(el.text) for el in tree.xpath("//*[@data-count]")
              if el.tag == "span"}
    assert counts == {"devices": 5, "surveillance": 5, "restricted": 3, "analytics": 1,
                      "kev": 1, "vulnerable": 2, "unknown-maker": 1, "white-label": 2,
                      "kev-possible": 0}
    todo = tree.xpath("//ol[@class='todo']")[0].text_content()
    assert "3 restricted devices" in todo and "USD 3,900" in todo
    charts = tree.xpath("//*[local-name()='svg']")
    assert len(charts) == 2


def test_surveillance_class_is_counted_and_costed_like_a_camera(samples: Any) -> None:
    device = samples.devices()[0]
    device.device_type = "surveillance"
    other = Device("127.42.0.99", [80], device_type="other", manufacturer="HP")
    tree = parse(render_html(samples.document([device, other])))
    assert tree.xpath("//*[@data-count='surveillance']")[0].text == "1"
    line = tree.xpath("//tr[@class='line']")[0]
    assert line.xpath("td[6]")[0].text == "surveillance"
    assert line.xpath("td")[-1].text == "800"  # the 'surveillance' class of costs.yaml


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
    counts = {el.get("data-count"): int(el.text) for el in tree.xpath("//span[@data-count]")}
    assert (counts["kev"], counts["kev-possible"]) == (0, 1)
    assert "Read the firmware version of the 1 device" in tree.xpath(
        "//ol[@class='todo']")[0].text_content()


def test_many_details_are_capped_per_row(samples: Any) -> None:
    devices = []
    for n in range(8):
        device = copy.deepcopy(samples.devices()[2])
        device.address = f"127.42.2.{n}"
        device.findings = [Finding("ndaa-889", "restriction", "high", "t", samples.NDAA_SRC,
                                   regime="ndaa-889", detail=f"firmware build {n}")]
        devices.append(device)
    row = parse(render_html(samples.document(devices))).xpath("//tr[@data-finding]")[0]
    texts = [d.text for d in row.xpath(".//div[@class='dt']")]
    assert texts[:5] == [f"firmware build {n}" for n in range(5)]
    assert "3 findings with other details" in texts[5]


def test_empty_scan_renders(samples: Any) -> None:
    tree = parse(render_html(samples.document([])))
    assert "No findings." in tree.get_element_by_id("findings").text_content()
    assert "No device falls under" in tree.get_element_by_id("restricted").text_content()
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
