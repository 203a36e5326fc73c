"""The REST API: camaudit/1 shapes that agree with the CLI's --json field for field,
filters, sorting, pagination, ETags, OpenAPI, and audits started over the API with the
CLI's scope gate (a large scope needs yes=true; a loopback audit of the zoo runs)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from camaudit.output import validate


def _all_pages(api: Any, url: str, per_page: int, **params: str) -> list[dict[str, Any]]:
    devices: list[dict[str, Any]] = []
    next_url: str | None = url
    query: dict[str, Any] | None = {"per_page": per_page, **params}
    while next_url:
        response = api.get(next_url, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        devices += page["devices"]
        link = response.headers.get("link")
        next_url = link.split(">")[0].lstrip("<") if link else None
        query = None
    return devices


def test_api_devices_agree_with_the_cli_json_field_for_field(
        served: Any, tmp_path: Path) -> None:
    from camaudit.cli import main

    out = tmp_path / "cli.json"
    with pytest.raises(SystemExit) as done:
        main(["report", str(served.store.a), "--json", str(out), "--db", str(served.store.path)])
    assert done.value.code == 0
    import json

    cli = json.loads(out.read_text())
    with served.api("viewer") as api:
        devices = _all_pages(api, f"/api/v1/scans/{served.store.a}/devices", 7)
        assert devices == cli["devices"]
        first = api.get(f"/api/v1/scans/{served.store.a}/devices", params={"per_page": 3}).json()
        validate(first)  # a page is itself a camaudit/1 document
        assert first["scan"] == cli["scan"]
        assert first["page"] == {"page": 1, "per_page": 3, "total": len(cli["devices"])}
        one = cli["devices"][5]
        assert api.get(f"/api/v1/scans/{served.store.a}/devices/{one['address']}").json() == one


def test_filters_sort_and_etags(served: Any) -> None:
    url = f"/api/v1/scans/{served.store.a}/devices"
    with served.api("viewer") as api:
        every = _all_pages(api, url, 1000)
        hik = api.get(url, params={"manufacturer": "hikvision"}).json()["devices"]
        assert hik and len(hik) == sum(d["manufacturer"] == "Hikvision" for d in every)
        kev = api.get(url, params={"finding": "kev:"}).json()["devices"]
        assert kev and all(any(f["id"].startswith("kev:") for f in d["findings"]) for d in kev)
        federal = api.get(url, params={"policy": "us-federal"}).json()["devices"]
        assert any(any(f["id"] == "ndaa-889" for f in d["findings"]) for d in federal)
        unknown = api.get(url, params={"device_type": "(unknown)"}).json()["devices"]
        assert all(d["device_type"] is None for d in unknown)
        ranked = api.get(url, params={"sort": "severity", "desc": "true"}).json()["devices"]
        assert ranked[0]["findings"] and any(f["severity"] == "critical"
                                             for f in ranked[0]["findings"])
        assert api.get(url, params={"sort": "nonsense"}).status_code == 422
        assert api.get(url, params={"policy": "nonsense"}).status_code == 400
        first = api.get(url)
        tag = first.headers["etag"]
        again = api.get(url, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b""
        assert api.get(url, params={"brand": "x"}, headers={"If-None-Match": tag}
                       ).status_code == 200
        spec = api.get("/api/v1/openapi.json").json()
        assert {"/api/v1/scans", "/api/v1/scans/{scan_id}/devices",
                "/api/v1/scans/{scan_id}/devices/{address}"} <= set(spec["paths"])
        assert not any(p.startswith("/scans") for p in spec["paths"])  # pages stay out


def test_starting_audits_over_the_api(served: Any, zoo: Any) -> None:
    with served.api("auditor") as api:
        before = len(api.get("/api/v1/scans").json()["scans"])
        large = api.post("/api/v1/scans", json={"targets": ["127.64.0.0/10"]})
        assert large.status_code == 409
        assert large.json()["scope"]["addresses"] == 4_194_304
        assert len(api.get("/api/v1/scans").json()["scans"]) == before  # nothing started
        refused = api.post("/api/v1/scans", json={"targets": ["@/etc/passwd"]})
        assert refused.status_code == 400 and "@file" in refused.json()["detail"]
        with served.api("viewer") as viewer:
            assert viewer.post("/api/v1/scans", json={"targets": ["127.42.0.1"]}
                               ).status_code == 403
        quiet = [d["address"] for d in zoo.devices if not d.get("hostile")][:3]
        started = api.post("/api/v1/scans", json={
            "targets": quiet, "ports": "80,554,8000", "site": "api site", "policy": "us-federal"})
        assert started.status_code == 202, started.text
        scan_id = started.json()["scan"]["id"]
        assert started.headers["location"] == f"/api/v1/scans/{scan_id}"
        deadline = time.monotonic() + 120
        while True:
            scan = api.get(f"/api/v1/scans/{scan_id}").json()["scan"]
            if scan["status"] == "done" and scan["progress"]["done"]:
                break
            assert time.monotonic() < deadline, scan
            time.sleep(0.3)
        assert scan["progress"]["error"] is None and scan["progress"]["addresses"] == 3
        devices = api.get(f"/api/v1/scans/{scan_id}/devices").json()["devices"]
        assert {d["address"] for d in devices} <= set(quiet) and devices
        assert all(d["site"] == "api site" for d in devices)
    log = served.console.audit_log(50)
    assert any(e["action"] == "audit.start" and e["target"] == f"scan {scan_id}" for e in log)


def test_accepted_devices_become_a_policy_allow_list(served: Any, tmp_path: Path) -> None:
    from camaudit.assess import assess, load_policies

    s = served.store
    address = s.addresses[1]
    client, csrf = served.browser_session("auditor")
    with client:
        marked = client.post(f"/scans/{s.b}/removal/{address}", data={
            "status": "accepted", "reason": "compensating control: isolated VLAN",
            "expires": "2031-06-30", "csrf": csrf})
        assert marked.status_code == 303
        missing = client.post(f"/scans/{s.b}/removal/{address}", data={
            "status": "accepted", "reason": "", "csrf": csrf})
        assert missing.status_code == 400  # an acceptance needs a reason and an expiry
        text = client.get(f"/scans/{s.b}/allow-list.yaml").text
    path = tmp_path / "allow.yaml"
    path.write_text(text)
    (device,) = served.app.state.store.devices(s.b, address)
    found = assess(device, load_policies(["all", str(path)]))
    restrictions = [f for f in found if f.kind == "restriction" and f.status != "lead"]
    assert restrictions and all(f.status == "accepted" for f in restrictions)
    assert all("isolated VLAN" in (f.accepted_reason or "") for f in restrictions)
