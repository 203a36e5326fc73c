"""``camaudit ingest`` end to end: real capture + nmap XML + leases + inventory -> one audit."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from camaudit.cli import main
from camaudit.output import validate
from camaudit.store import Store

from .conftest import CAMERA, RECORDER, SAMPLES, LabCapture


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stop:
        main(args)
    return int(stop.value.code or 0), capsys.readouterr().err


def test_ingest_fuses_every_source_into_one_device_per_address(
        lab_capture: LabCapture, lab_nmap: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    db, out = tmp_path / "audit.db", tmp_path / "out.json"
    files = [str(lab_nmap), str(lab_capture.pcap), str(SAMPLES / "dhcpd.leases"),
             str(SAMPLES / "cisco-show-ip-arp.txt"), str(SAMPLES / "inventory.csv")]
    code, err = _run(["ingest", *files, "--site", "HQ", "--json", str(out), "--db", str(db)],
                     capsys)
    assert code == 0, err
    doc = json.loads(out.read_text())
    validate(doc)
    assert doc["scan"]["kind"] == "ingest" and doc["scan"]["site"] == "HQ"
    devices = {d["address"]: d for d in doc["devices"]}
    camera, recorder = devices[CAMERA], devices[RECORDER]
    assert camera["manufacturer"] == "Hikvision"
    assert camera["model"] == "DS-2CD2386G2-IU"
    assert camera["device_type"] == "camera"
    assert recorder["manufacturer"] == "Dahua"
    assert {80, 443, 554, 8000} <= set(camera["ports"])
    assert 37777 in recorder["ports"]
    # The sheet says "Acme" for the Hikvision camera: a finding citing the sheet's row.
    disagree = [f for f in camera["findings"] if f["id"] == "inventory-disagrees"]
    assert len(disagree) == 1 and disagree[0]["kind"] == "inventory"
    assert "inventory.csv row 4" in disagree[0]["source"]
    assert "Acme" in disagree[0]["title"]
    assert not [f for f in recorder["findings"] if f["id"] == "inventory-disagrees"]
    # A lease/ARP host with a Hikvision OUI, a claim, hostname and switch port.
    lease_host = devices["192.0.2.10"]
    assert lease_host["mac"] == "44:19:b6:12:34:56" and lease_host["hostname"] == "IPC"
    # Each file is recorded with its SHA-256 in the scan's options.
    store = Store(str(db))
    scan = store.scan(doc["scan"]["id"])
    recorded = {Path(f["path"]).name: f for f in scan["options"]["files"]}
    assert recorded["lab.pcap"]["format"] == "pcap"
    assert recorded["lab.pcap"]["sha256"] and recorded["lab.pcap"]["error"] is None
    claims = [o for o in store.observations(doc["scan"]["id"], CAMERA) if o.source == "claim"]
    assert [o.fields["make"] for o in claims] == ["Acme"]


def test_truncated_file_is_reported_with_offset_and_the_rest_is_kept(
        lab_capture: LabCapture, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = lab_capture.pcap.read_bytes()
    cut = tmp_path / "cut.pcap.gz"
    cut.write_bytes(gzip.compress(data[: len(data) // 2]))
    out = tmp_path / "out.json"
    code, err = _run(["ingest", str(cut), str(SAMPLES / "dnsmasq.leases"), "--json", str(out),
                      "--db", str(tmp_path / "a.db")], capsys)
    assert code == 2
    assert "cut.pcap.gz" in err and "offset" in err and "kept" in err
    doc = json.loads(out.read_text())
    addresses = {d["address"] for d in doc["devices"]}
    assert CAMERA in addresses and "198.51.100.20" in addresses


def test_unknown_format_and_missing_file(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("nothing here\n")
    code, err = _run(["ingest", str(notes), "--db", str(tmp_path / "a.db")], capsys)
    assert code == 2 and "cannot tell the format" in err
    code, err = _run(["ingest", str(tmp_path / "absent.pcap"), "--db", str(tmp_path / "a.db")],
                     capsys)
    assert code == 2 and "no such file" in err
