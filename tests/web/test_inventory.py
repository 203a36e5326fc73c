"""The inventory's filters, sort and paging on a real SQLite store (no server needed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from camaudit.model import Device, Finding
from camaudit.store import Store
from camaudit.store import inventory as inv
from camaudit.web import service

NDAA = Finding("ndaa-889", "restriction", "high", "named", "https://x.invalid", regime="ndaa-889")
KEV = Finding("kev:CVE-2021-36260", "vulnerability", "critical", "kev", "https://x.invalid")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, int]]:
    store = Store(str(tmp_path_factory.mktemp("inv") / "inv.db"))
    scan = store.create_scan(targets=["127.77.0.0/24"], excludes=[], resolved={}, ports=[80],
                             options={}, policies=["all"], knowledge={}, tool_version="0",
                             site=None)
    rows = [("127.77.0.10", "Hikvision", "Annke", "DS-2CD 50%_off", "north", [NDAA, KEV]),
            ("127.77.0.9", "Hikvision", "Hikvision", "DS-2CD2042", "north", [NDAA]),
            ("127.77.0.100", "Axis", "Axis", "M3024", "south", []),
            ("127.77.0.2", None, None, None, "south", []),
            ("127.77.0.3", "Dahua", "Lorex", "NVR4108", None, [NDAA])]
    for address, maker, brand, model, site, found in rows:
        store.save_host(scan, Device(address, [80], manufacturer=maker, brand=brand, model=model,
                                     site=site, device_type="camera", findings=list(found)), [])
    yield store, scan
    store.close()


def addresses(page: inv.Page) -> list[str]:
    return [d.address for d in page.devices]


def test_sorting_is_numeric_with_unknowns_last_and_ties_by_address(
        store: tuple[Store, int]) -> None:
    db, scan = store
    every = inv.DeviceFilter()
    assert addresses(inv.query_devices(db, scan, every, sites=None)) == [
        "127.77.0.2", "127.77.0.3", "127.77.0.9", "127.77.0.10", "127.77.0.100"]
    by_maker = inv.query_devices(db, scan, every, sites=None, sort="manufacturer")
    assert addresses(by_maker) == ["127.77.0.100", "127.77.0.3", "127.77.0.9", "127.77.0.10",
                                   "127.77.0.2"]
    down = inv.query_devices(db, scan, every, sites=None, sort="manufacturer", descending=True)
    assert addresses(down) == ["127.77.0.9", "127.77.0.10", "127.77.0.3", "127.77.0.100",
                               "127.77.0.2"]
    worst = inv.query_devices(db, scan, every, sites=None, sort="severity", descending=True)
    assert addresses(worst)[:3] == ["127.77.0.10", "127.77.0.3", "127.77.0.9"]
    page = inv.query_devices(db, scan, every, sites=None, offset=2, limit=2)
    assert page.total == 5 and addresses(page) == ["127.77.0.9", "127.77.0.10"]


def test_filters(store: tuple[Store, int]) -> None:
    db, scan = store

    def find(**kw: str) -> list[str]:
        return sorted(addresses(inv.query_devices(db, scan, service.make_filter(kw),
                                                  sites=None, limit=None)))

    assert find(manufacturer="hikvision") == ["127.77.0.10", "127.77.0.9"]
    assert find(manufacturer="(unknown)") == ["127.77.0.2"]
    assert find(site="(unknown)") == ["127.77.0.3"]
    assert find(model="50%") == ["127.77.0.10"]  # % and _ are text, not wildcards
    assert find(q="_") == ["127.77.0.10"]
    assert find(q="lorex") == ["127.77.0.3"]
    assert find(finding="kev:") == ["127.77.0.10"]
    assert find(regime="ndaa-889", brand="annke") == ["127.77.0.10"]
    assert find(kind="*") == ["127.77.0.10", "127.77.0.3", "127.77.0.9"]
    assert find(policy="security") == ["127.77.0.10"]
    assert find(policy="us-federal") == ["127.77.0.10", "127.77.0.3", "127.77.0.9"]
    south = inv.query_devices(db, scan, inv.DeviceFilter(), sites=("south",))
    assert sorted(addresses(south)) == ["127.77.0.100", "127.77.0.2"]
    assert inv.facets(db, scan, sites=("north",))["manufacturer"] == ["Hikvision"]


def test_summary_devices_agree_with_whole_devices(store: tuple[Store, int]) -> None:
    db, scan = store
    light = inv.summary_devices(db, scan, sites=None)
    whole = [d.to_json() for d in db.devices(scan)]
    assert [d["address"] for d in light] == [d["address"] for d in whole]
    for a, b in zip(light, whole, strict=True):
        for key in ("manufacturer", "brand", "model", "site", "serial", "mac", "device_type"):
            assert a[key] == b[key]
        assert [(f["id"], f["status"], f["severity"]) for f in a["findings"]] == [
            (f["id"], f["status"], f["severity"]) for f in b["findings"]]
        assert inv.doc_device_key(a) == inv.doc_device_key(b)
    restricted = inv.summary_devices(db, scan, sites=("north",), kind="restriction")
    assert [d["address"] for d in restricted] == ["127.77.0.9", "127.77.0.10"]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=30), sort=st.sampled_from(inv.SORTS), desc=st.booleans())
def test_any_filter_text_is_safe(store: tuple[Store, int], text: str, sort: str,
                                 desc: bool) -> None:
    db, scan = store
    flt = service.make_filter({"q": text, "brand": text, "finding": text, "site": text})
    page = inv.query_devices(db, scan, flt, sites=("north",), sort=sort, descending=desc)
    assert all(d.site == "north" for d in page.devices)
    assert page.total == len(page.devices)
