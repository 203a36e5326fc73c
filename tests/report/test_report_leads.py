"""Issue 20 in the report: leads listed apart and counted nowhere, scopes and dates cited."""

from __future__ import annotations

from typing import Any

import lxml.html
import pytest

from camaudit.assess import assess, load_policies
from camaudit.model import Device
from camaudit.output import validate
from camaudit.report.csvout import finding_rows
from camaudit.report.html import render_html
from camaudit.report.removal import plan_removal
from camaudit.report.summary import summarise


@pytest.fixture
def doc(isolated_knowledge: Any) -> dict[str, Any]:
    policies = load_policies(["us-federal"])
    devices = [
        Device("127.42.0.50", [80], None, "camera", "Annke", "Hikvision", "DS-2CD2042WD-I",
               "V5.4.5 build 170124", site="HQ"),
        Device("127.42.0.51", [80], None, "camera", None, "Xiongmai", "HI3516EV300_85H50AI",
               "V5.00.R02.000529B2.10010.040600.0020000", site="HQ"),
        Device("127.42.0.52", [80], None, "recorder", "Lorex", "Dahua", "DHI-NVR4108HS-8P-4KS2",
               None, site="Depot"),
    ]
    for device in devices:
        device.findings = assess(device, policies)
    return {"schema": "camaudit/1",
            "scan": {"id": 1, "started": None, "finished": None, "targets": ["127.42.0.0/24"],
                     "tool_version": "0.1.0", "policies": policies.names},
            "devices": [d.to_json() for d in devices]}


def test_the_document_with_leads_meets_the_schema(doc: dict[str, Any]) -> None:
    validate(doc)
    statuses = {f["status"] for d in doc["devices"] for f in d["findings"]}
    assert statuses == {"open", "possible", "lead"}


def test_leads_are_listed_apart_and_counted_nowhere(doc: dict[str, Any]) -> None:
    summary = summarise(doc)
    assert summary.restricted == 2  # the HiSilicon camera has only a lead
    assert all(r.status != "lead" for g in summary.groups for r in g.rows.values())
    leads = {(summary.addresses[i], r.finding_id) for g in summary.lead_groups
             for r in g.rows.values() for i in r.devices.indexes}
    assert ("127.42.0.51", "ndaa-889") in leads and ("127.42.0.50", "us-dod-1260h") in leads
    assert summary.leads == len(leads) and summary.lead_devices == 3
    lead_free = sum(f["status"] != "lead" for d in doc["devices"] for f in d["findings"])
    assert summary.findings == lead_free
    assert {row.manufacturer for row in summary.matrix} == {"Hikvision", "Dahua"}
    plan = plan_removal(doc)
    assert {i.address for i in plan.items} == {"127.42.0.50", "127.42.0.52"}
    assert not {"us-dod-1260h"} & {r for i in plan.items for r in i.regimes}
    tree = lxml.html.document_fromstring(render_html(doc))
    section = tree.get_element_by_id("leads").text_content()
    assert "HiSilicon part inside a Xiongmai device" in section
    assert "not Huawei equipment" in section
    assert "Missing:" in section and "Lead, not a finding" in section
    rows = tree.xpath("//section[@id='findings']//a[@href='#dev-1']")
    assert rows == []  # the HiSilicon camera is under no regime's findings
    assert tree.xpath("//section[@id='leads']//a[@href='#dev-1']")
    restricted = tree.xpath("//*[@data-count='restricted']")[0].text
    assert restricted == "2"


def test_the_report_cites_scopes_and_the_corrected_dates(doc: dict[str, Any]) -> None:
    tree = lxml.html.document_fromstring(render_html(doc))
    findings = tree.get_element_by_id("findings").text_content()
    assert "adopted 2022-11-11, released 2022-11-25, effective 2023-02-06" in findings
    assert "Binds you under policy us-federal." in findings
    assert "Your policies do not say that it binds you." in findings
    assert "(binds you: policy us-federal)" in findings
    # The device's own finding text is on its regime rows (the appendix links to them).
    details = " ".join(r.text_content() for r in tree.xpath(
        "//section[@id='findings']//tr[.//a[@href='#dev-2']]"))
    assert "from 2018-02-06 until 2022-11-24 or 2023" in details
    assert "depends on manufacture date" in details


def test_csv_keeps_the_lead_status(doc: dict[str, Any]) -> None:
    rows = finding_rows(doc)
    assert {"ndaa-889": "lead"}.items() <= {
        r["finding"]: r["status"] for r in rows if r["address"] == "127.42.0.51"}.items()
