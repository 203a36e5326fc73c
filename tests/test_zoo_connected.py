"""With the operator's login: cameras behind recorders and the analytics devices state.

The session zoo is scanned again, with the zoo login, at the recorders and the analytics
personas (plus a few cameras without analytics): every connected camera of the manifest
must be in the inventory under its recorder, with its maker, and every persona whose API
states a protected-trait analytic must get an ``analytics`` finding saying offered or
enabled, and no other device one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from camaudit.cliutil import run_async
from camaudit.output import validate
from camaudit.pipeline import ScanOptions, execute, new_scan
from camaudit.probes.base import Credentials
from camaudit.store import Store
from camaudit.zoo.render import ZOO_PASSWORD, ZOO_USER
from camaudit.zoo.score import key, score

RECORDERS = ("hikvision-nvr", "hikvision-nvr-7732", "lorex-nvr", "dahua-nvr")
ANALYTICS = ("dahua-ipc-analytics", "dahua-ipc", "hikvision-ipc-v5714", "axis-m3024",
             "onvif-yma42p")


@pytest.fixture(scope="module")
def login_scan(zoo: Any, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], bytes]]:
    hosts = [d for d in zoo.devices if d["persona"] in RECORDERS + ANALYTICS]
    assert {d["persona"] for d in hosts} == set(RECORDERS + ANALYTICS)
    db = tmp_path_factory.mktemp("login-scan") / "scan.db"
    store = Store(str(db))
    options = ScanOptions(connect_timeout=1.0, probe_timeout=2.0)
    scan_id, scope = new_scan(store, [d["address"] for d in hosts], [], options)
    run_async(execute(store, scan_id, scope, options,
                      credentials=Credentials(ZOO_USER, ZOO_PASSWORD)))
    document = store.document(scan_id)
    document["analytics_read"] = sorted(
        (o.address, str(o.fields.get("api"))) for o in store.observations(scan_id)
        if o.probe == "analytics")
    store.close()
    addresses = {d["address"] for d in hosts}
    truth = [d for d in zoo.manifest["devices"]
             if d["address"] in addresses or d.get("parent") in addresses]
    yield document, truth, db.read_bytes()


def test_every_camera_behind_a_recorder_is_in_the_inventory(login_scan: Any) -> None:
    document, truth, _ = login_scan
    validate({k: v for k, v in document.items() if k != "analytics_read"})
    connected = [t for t in truth if t.get("parent")]
    assert len(connected) == 4 + 18 + 2 + 1
    found = {key(d): d for d in document["devices"]}
    for cam in connected:
        got = found[key(cam)]
        assert (got["parent"], got["channel"], got["address"]) == (
            cam["parent"], cam["channel"], cam["address"])
        assert got["ports"] == []  # never contacted
        for name in ("device_type", "manufacturer", "model", "firmware"):
            assert got[name] == cam[name], (key(cam), name)


def test_restricted_cameras_are_flagged_under_their_recorder(login_scan: Any) -> None:
    document, truth, _ = login_scan
    # onvif-yma42p is here for its Analytics service; its class is not read even with the
    # login (its scopes say Network_Video_Transmitter, which no rule takes as a class yet)
    truth = [t for t in truth if t["persona"] != "onvif-yma42p"]
    result = score({"devices": document["devices"]}, {"devices": truth}, connected=True)
    assert result.wrong_maker == 0
    assert result.findings_exact == result.devices, "\n".join(result.mismatches)
    order = [key(d) for d in document["devices"]]
    for cam in (t for t in truth if t.get("parent")):
        assert order.index(cam["parent"]) < order.index(key(cam))  # listed after its recorder
    lorex = next(t["address"] for t in truth if t["persona"] == "lorex-nvr")
    behind = [d for d in document["devices"] if d.get("parent") == lorex]
    assert {d["manufacturer"] for d in behind} == {"Hikvision"}
    assert all("ndaa-889" in {f["id"] for f in d["findings"]} for d in behind)


def test_stated_analytics_say_offered_or_enabled(login_scan: Any) -> None:
    document, truth, _ = login_scan
    stated = {}
    for device in document["devices"]:
        for f in device["findings"]:
            if f["id"].startswith("analytics:stated-"):
                assert f["kind"] == "analytics" and f["status"] in ("offered", "enabled")
                stated[device["address"]] = f["status"]
    persona = {t["address"]: t["persona"] for t in truth if not t.get("parent")}
    assert {persona[a]: s for a, s in stated.items()} == {
        "dahua-ipc-analytics": "enabled", "dahua-nvr": "offered"}


def test_capabilities_were_read_over_each_api(login_scan: Any) -> None:
    document, truth, _ = login_scan
    persona = {t["address"]: t["persona"] for t in truth if not t.get("parent")}
    read = {(persona[a], api) for a, api in document["analytics_read"]}
    assert read >= {("hikvision-nvr", "isapi"), ("hikvision-nvr-7732", "isapi"),
                    ("dahua-ipc", "dahua-cgi"), ("dahua-ipc-analytics", "dahua-cgi"),
                    ("dahua-nvr", "dahua-cgi"), ("onvif-yma42p", "onvif")}


def test_the_login_is_kept_nowhere(login_scan: Any) -> None:
    document, _, kept = login_scan
    assert ZOO_PASSWORD.encode() not in kept
    assert ZOO_PASSWORD not in str(document)


def test_the_html_report_shows_each_camera_under_its_recorder(login_scan: Any) -> None:
    from lxml import html as lxml_html

    from camaudit.report.html import render_html

    document, _, _ = login_scan
    document = {k: v for k, v in document.items() if k != "analytics_read"}
    tree = lxml_html.fromstring(render_html(document))
    devices = document["devices"]
    for index, device in enumerate(devices):
        entry = tree.get_element_by_id(f"dev-{index}")
        if device.get("parent"):
            assert "behind" in (entry.get("class") or "")
            assert f"behind recorder {device['parent']}, channel {device['channel']}" \
                in entry.text_content()
            parent = next(i for i, d in enumerate(devices)
                          if d["address"] == device["parent"] and not d.get("parent"))
            assert parent < index
        for finding in device["findings"]:
            assert entry.xpath(f".//a[text()='{finding['id']}']")
