"""An audit of the zoo end to end: contract, scope, hostile devices, reports from the scan."""

from __future__ import annotations

from lxml import html as lxml_html

from camaudit.output import validate
from camaudit.report.document import group_key
from camaudit.report.html import render_html


def test_zoo_audit_meets_the_contract_and_finds_every_device(zoo, zoo_scan) -> None:  # type: ignore[no-untyped-def]
    validate(zoo_scan.document)
    found = {d["address"] for d in zoo_scan.document["devices"]}
    assert {d["address"] for d in zoo.devices} <= found


def test_out_of_scope_pointers_are_recorded_never_contacted(zoo, zoo_scan) -> None:  # type: ignore[no-untyped-def]
    refused = {r["address"] for r in zoo_scan.document["scan"]["out_of_scope"]}
    outside = zoo.manifest["out_of_scope"]["address"]
    assert any(outside in a for a in refused), refused
    stats = zoo.stats()
    assert stats["out_of_scope_connections"] == 0, stats


def test_hostile_devices_cost_bounded_time(zoo_scan) -> None:  # type: ignore[no-untyped-def]
    # Every hostile persona answers slowly, endlessly or not at all; the whole audit of
    # the zoo must still finish within a couple of per-host budgets.
    assert zoo_scan.document["scan"]["stats"]["elapsed"] < 60


def test_html_report_of_the_zoo_shows_every_device_and_finding(zoo_scan) -> None:  # type: ignore[no-untyped-def]
    doc = zoo_scan.document
    tree = lxml_html.fromstring(render_html(doc))
    for index, device in enumerate(doc["devices"]):
        entry = tree.get_element_by_id(f"dev-{index}")
        assert device["address"] in entry.text_content()
        for finding in device["findings"]:
            # In its regime's table (a lead: in the leads section), on the row that lists
            # this device, with its source.
            table = "data-lead" if finding["status"] == "lead" else "data-group"
            row = tree.xpath(f"//article[@{table}='{group_key(finding)}']"
                             f"//tr[@data-finding='{finding['id']}'][.//a[@href='#dev-{index}']]")
            assert len(row) == 1, (device["address"], finding["id"])
            assert finding["source"] in row[0].text_content()
            assert entry.xpath(f".//a[text()='{finding['id']}']")
    # The hostile title's <script> is text, never an element of the page.
    scripts = [s.text or "" for s in tree.iter("script")]
    assert not any("alert(" in s for s in scripts)
    assert not any(el.get("onerror") for el in tree.iter())


def test_fail_on_sets_the_exit_code_for_pipelines(zoo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    hikvision = next(d for d in zoo.devices if d["persona"].startswith("hikvision-ipc"))
    printer = next(d for d in zoo.devices if d["persona"] == "hp-printer")

    def scan(address: str, fail_on: str) -> int:
        return subprocess.run(
            [sys.executable, "-m", "camaudit", "-q", "scan", address, "--db",
             str(tmp_path / "gate.db"), "--fail-on", fail_on], capture_output=True,
            timeout=120).returncode

    assert scan(hikvision["address"], "high") == 3  # NDAA 889 / FCC findings are high
    assert scan(printer["address"], "low") == 0  # a printer is nobody's covered equipment


def test_verbose_scan_prints_a_line_per_device(zoo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    escapes = next(d for d in zoo.devices if d["persona"] == "hostile-escapes")
    camera = next(d for d in zoo.devices if d["persona"] == "annke-ipc")
    proc = subprocess.run(
        [sys.executable, "-m", "camaudit", "-v", "scan", camera["address"], escapes["address"],
         "--db", str(tmp_path / "v.db")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stderr.splitlines() if x.strip().startswith(camera["address"]))
    assert "Hikvision" in line and "sold as Annke" in line
    assert "\x1b" not in proc.stderr  # a device's escape sequences never reach the terminal
