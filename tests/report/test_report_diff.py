"""Diff of two scans: matching across address changes, field and finding changes, safe output."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from camaudit.report.diff import diff_documents, render_diff


def scans(samples: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    old_devices = samples.devices()
    new_devices = samples.devices()
    hik = new_devices[0]
    hik.address = "127.42.0.70"  # DHCP moved it; the MAC still matches
    hik.firmware = "V5.7.3 build 220112"
    hik.findings = [f for f in hik.findings if not f.id.startswith("kev:")]  # patched
    new_devices[2].manufacturer = "Hikvision"  # better evidence
    new_devices[3].findings.append(samples.kev("CVE-2021-33045"))
    del new_devices[4]  # the Axis is gone
    new_devices.append(samples.devices()[4])
    new_devices[-1].address, new_devices[-1].model = "127.42.0.12", "P3265-LVE"
    return samples.document(old_devices, 6), samples.document(new_devices, 7)


def test_added_removed_changed_opened_closed(samples: Any) -> None:
    old, new = scans(samples)
    result = diff_documents(old, new)
    assert (result.old_label, result.new_label) == ("scan 6", "scan 7")
    assert [d["address"] for d in result.added] == ["127.42.0.12"]
    assert [d["address"] for d in result.removed] == ["127.42.0.11"]
    changed = {c.new["address"]: c for c in result.changed}
    assert set(changed) == {"127.42.0.70", "127.42.0.9", "127.42.0.10"}
    hik = changed["127.42.0.70"]
    assert [(f.name, f.old, f.new) for f in hik.fields] == [
        ("address", "127.42.0.7", "127.42.0.70"),
        ("firmware", "V5.4.5 build 170124", "V5.7.3 build 220112")]
    assert [f["id"] for f in hik.closed] == ["kev:CVE-2021-36260"]
    assert [(f.name, f.new) for f in changed["127.42.0.9"].fields] == [
        ("manufacturer", "Hikvision")]
    assert [f["id"] for f in changed["127.42.0.10"].opened] == ["kev:CVE-2021-33045"]
    assert [f.finding["id"] for f in result.opened] == ["kev:CVE-2021-33045"]
    assert [f.finding["id"] for f in result.closed] == ["kev:CVE-2021-36260"]
    assert result.unchanged == 1


def test_status_change_and_identical_scans(samples: Any, doc: dict[str, Any]) -> None:
    same = diff_documents(doc, doc)
    assert same.empty and same.unchanged == 5 and not same.opened
    devices = samples.devices()
    devices[0].findings[0].status = "accepted"
    changed = diff_documents(doc, samples.document(devices)).changed
    assert [(f.name, f.old, f.new) for f in changed[0].fields] == [
        ("finding ndaa-889 status", "open", "accepted")]


def test_terminal_output_neutralises_device_strings(samples: Any) -> None:
    old = samples.document(samples.devices()[:1], 6)
    new = samples.document(samples.devices(), 7)
    buffer = io.StringIO()
    render_diff(diff_documents(old, new), Console(file=buffer, width=250, color_system=None))
    text = buffer.getvalue()
    assert "\x1b" not in text and "\u202e" not in text
    assert "4 added" in text and "127.42.0.8" in text
    assert "<script>window.__pwned" in text  # shown literally in the device label
    coloured = io.StringIO()
    device = samples.devices()[1]
    device.manufacturer, device.model = samples.MARKUP, samples.ESC
    render_diff(diff_documents(old, samples.document([device])),
                Console(file=coloured, width=250, force_terminal=True, color_system="standard"))
    out = coloured.getvalue()
    assert "[bold red]markup[/bold red]" in out  # markup printed, not obeyed
    assert "\x1b]52" not in out and "\\x1b]52" in out
