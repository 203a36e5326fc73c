"""Identification from nmap's own findings: the Debian nmap's XML of the lab (conftest),
ingested alone, names the camera's maker and class from probe ``nmap`` observations
(rules in identify/rules/passive.yaml), and leaves the recorder - about which nmap's
version scan says nothing maker-specific - unknown rather than guessed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camaudit.cli import main
from camaudit.identify import identify
from camaudit.identify.rules import load_rules

from .conftest import CAMERA, RECORDER, nmap_observations


def test_nmap_service_results_name_maker_and_class(lab_nmap: Path) -> None:
    obs = nmap_observations(lab_nmap)
    only_nmap = [o for o in obs[CAMERA] if o.probe == "nmap"]
    device = identify(CAMERA, only_nmap)
    assert device.manufacturer == "Hikvision"
    assert device.device_type == "camera"
    rules = load_rules()
    for evidence in device.evidence:
        rule = rules.by_id(evidence.rule)
        assert rule is not None and rule.probes == ("nmap",), evidence
    maker_rules = {e.rule for e in device.evidence if e.says.startswith("manufacturer=")}
    assert "nmap-hik-sdk-signature" in maker_rules
    # The recorder's nmap results (a generic web server) name no maker and no class.
    recorder = identify(RECORDER, obs[RECORDER])
    assert recorder.manufacturer is None and recorder.device_type is None


def test_ingest_of_the_nmap_file_alone(lab_nmap: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.json"
    with pytest.raises(SystemExit) as stop:
        main(["ingest", str(lab_nmap), "--json", str(out), "--db", str(tmp_path / "a.db")])
    assert stop.value.code in (0, None), capsys.readouterr().err
    devices = {d["address"]: d for d in json.loads(out.read_text())["devices"]}
    camera = devices[CAMERA]
    assert (camera["manufacturer"], camera["device_type"]) == ("Hikvision", "camera")
    assert {e["rule"] for e in camera["evidence"]} >= {"nmap-hik-sdk-signature"}
    assert devices[RECORDER]["manufacturer"] is None
