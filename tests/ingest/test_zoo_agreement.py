"""An ingest of a capture of a zoo scan identifies the devices as the scan itself did.

The session zoo (tests/conftest.py) is scanned once more by the real pipeline
while tcpdump captures on ``lo`` (BPF: the zoo network only); the capture is
then ingested. TLS 1.3 hides certificates and HTTPS content from a capture,
so agreement is measured on the devices the active scan identified, against
the manifest, and printed (``-s``) for the report.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from camaudit.cliutil import run_async
from camaudit.ingest.run import ingest
from camaudit.pipeline import ScanOptions, execute, new_scan
from camaudit.store import Store

from .conftest import capture

FIELDS = ("manufacturer", "device_type", "model")


def _agreement(devices: list[dict[str, Any]], manifest: dict[str, Any]) -> dict[str, float]:
    by_address = {d["address"]: d for d in devices}
    truth = [m for m in manifest["devices"] if not m.get("hostile")]
    out = {}
    for key in FIELDS:
        wanted = [m for m in truth if m.get(key)]
        same = sum(1 for m in wanted if (by_address.get(m["address"]) or {}).get(key) == m[key])
        out[key] = same / len(wanted) if wanted else 1.0
    return out


@pytest.fixture(scope="module")
def zoo_capture(zoo, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from camaudit.demo import covering_network

    folder = tmp_path_factory.mktemp("zoo-capture")
    network = covering_network([d["address"] for d in zoo.devices])
    assert network.startswith("127."), network
    store = Store(str(folder / "active.db"))
    options = ScanOptions(connect_timeout=1.0, probe_timeout=2.0)
    pcap = folder / "zoo.pcap"
    with capture(pcap, bpf=f"net {network}"):
        scan_id, scope = new_scan(store, [network], [], options)
        run_async(execute(store, scan_id, scope, options))
    return pcap, store.document(scan_id), folder


def test_capture_of_a_scan_identifies_what_the_scan_did(zoo, zoo_capture) -> None:  # type: ignore[no-untyped-def]
    pcap, active_doc, folder = zoo_capture
    store = Store(str(folder / "passive.db"))
    result = ingest([str(pcap)], store)
    assert result.errors == []
    passive_doc = store.document(result.scan_id)
    active = _agreement(active_doc["devices"], zoo.manifest)
    passive = _agreement(passive_doc["devices"], zoo.manifest)
    active_by = {d["address"]: d for d in active_doc["devices"]}
    passive_by = {d["address"]: d for d in passive_doc["devices"]}
    identified = [a for a, d in active_by.items() if d["manufacturer"]]
    same_maker = [a for a in identified
                  if (passive_by.get(a) or {}).get("manufacturer") == active_by[a]["manufacturer"]]
    print(json.dumps({"manifest_devices": len(zoo.manifest["devices"]),
                      "agreement_with_manifest": {"active": active, "passive": passive},
                      "active_identified": len(identified),
                      "passive_same_maker": len(same_maker)}, indent=1))
    (folder / "agreement.json").write_text(json.dumps({"active": active, "passive": passive}))
    assert identified, "the active scan identified nothing"
    # Every maker the scan named from plaintext evidence, the capture names too.
    assert len(same_maker) / len(identified) >= 0.8, (identified, same_maker)
    assert passive["manufacturer"] >= active["manufacturer"] - 0.2
