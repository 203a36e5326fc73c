"""CycloneDX 1.6: valid by the official schema (cyclonedx-python-lib), and says what matters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from camaudit.report.cyclonedx import to_cyclonedx, write_cyclonedx

VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)


def errors(bom: dict[str, Any]) -> object:
    return VALIDATOR.validate_str(json.dumps(bom), all_errors=False)


def test_validates_and_carries_maker_model_firmware(tmp_path: Path, doc: dict[str, Any]) -> None:
    write_cyclonedx(doc, tmp_path / "bom.json")
    text = (tmp_path / "bom.json").read_text(encoding="utf-8")
    assert VALIDATOR.validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    components = bom["components"]
    assert len(components) == len(doc["devices"])
    hik = components[0]
    assert hik["type"] == "device" and hik["name"] == "DS-2CD2042WD-I"
    assert hik["manufacturer"] == {"name": "Hikvision"} and hik["supplier"] == {"name": "Annke"}
    firmware = hik["components"][0]
    assert firmware["type"] == "firmware" and firmware["version"] == "V5.4.5 build 170124"
    props = [(p["name"], p["value"]) for p in hik["properties"]]
    assert ("camaudit:address", "127.42.0.7") in props
    assert any(n == "camaudit:finding" and v.startswith("ndaa-889 (critical") for n, v in props)
    unknown = components[1]
    assert "manufacturer" not in unknown  # unknown stays unknown, not guessed
    assert any(p["value"] == "unknown-maker (medium, open): Unknown maker for "
               "<script>window.__pwned = 1; alert(1)</script>" for p in unknown["properties"])


def test_vulnerabilities_with_kev_references(doc: dict[str, Any]) -> None:
    bom = to_cyclonedx(doc)
    vulns = {v["id"]: v for v in bom["vulnerabilities"]}
    assert set(vulns) == {"CVE-2021-36260", "CVE-2021-33044"}
    kev = vulns["CVE-2021-36260"]
    assert kev["references"][0]["source"]["name"] == "CISA KEV"
    assert kev["affects"] == [{"ref": "device-0-firmware"}]
    assert kev["ratings"][0]["severity"] == "critical"
    other = vulns["CVE-2021-33044"]
    assert "references" not in other and "advisories" not in other  # javascript: dropped
    assert other["analysis"]["state"] == "in_triage"  # status "possible"
    refs = {c["bom-ref"] for c in bom["components"]} | {
        s["bom-ref"] for c in bom["components"] for s in c.get("components", [])}
    assert all(a["ref"] in refs for v in vulns.values() for a in v["affects"])


def test_same_document_same_serial_and_the_validator_can_fail(doc: dict[str, Any]) -> None:
    assert to_cyclonedx(doc)["serialNumber"] == to_cyclonedx(doc)["serialNumber"]
    bom = to_cyclonedx(doc)
    bom["components"][0]["type"] = "camera"  # not a CycloneDX component type
    assert errors(bom) is not None


def test_empty_estate_validates(samples: Any) -> None:
    bom = to_cyclonedx(samples.document([]))
    assert errors(bom) is None and bom["components"] == [] and "vulnerabilities" not in bom
