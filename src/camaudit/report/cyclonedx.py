"""CycloneDX 1.6 JSON: the estate as a hardware bill of materials with its vulnerabilities.

Each device is a component of type ``device`` with the real maker as
``manufacturer`` and the name on the box as ``supplier``; its firmware, when
read, is a nested component of type ``firmware`` carrying the version, as the
1.6 specification recommends for devices ("a hardware device containing
firmware SHOULD include a component for the physical hardware itself and
another component of type 'firmware'"). Vulnerability findings become
``vulnerabilities`` with the CVE id, an NVD source and, for CISA KEV entries, a
KEV reference. Restriction and analytics findings have no CycloneDX field and
travel as ``camaudit:finding`` properties; the class is ``camaudit:device_type``
(``surveillance``: surveillance equipment whose role the evidence does not settle). Spec:
https://cyclonedx.org/docs/1.6/json/
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from camaudit import __version__
from camaudit.errors import UsageError
from camaudit.report.document import (
    DeviceDoc,
    Doc,
    cve_id,
    findings,
    is_kev,
    scan_info,
)

SPEC_VERSION = "1.6"
KEV_URL = "https://www.cisa.gov/known-exploited-vulnerabilities-catalog"
NVD_URL = "https://nvd.nist.gov/vuln/detail/"


def _props(pairs: list[tuple[str, object]]) -> list[dict[str, str]]:
    return [{"name": name, "value": str(value)} for name, value in pairs if value not in (None, "")]


def _component(index: int, device: DeviceDoc) -> dict[str, Any]:
    ref = f"device-{index}"
    maker, brand, model = device.get("manufacturer"), device.get("brand"), device.get("model")
    component: dict[str, Any] = {
        "type": "device",
        "bom-ref": ref,
        "name": str(model or f"unidentified {device.get('device_type') or 'device'}"),
    }
    if maker:
        component["manufacturer"] = {"name": str(maker)}
    if brand:
        component["supplier"] = {"name": str(brand)}
    if device.get("firmware"):
        component["components"] = [{
            "type": "firmware",
            "bom-ref": f"{ref}-firmware",
            "name": f"{model or 'device'} firmware",
            "version": str(device["firmware"]),
            **({"manufacturer": {"name": str(maker)}} if maker else {}),
        }]
    component["properties"] = _props([
        ("camaudit:address", device.get("address")),
        ("camaudit:parent", device.get("parent")),  # a camera a recorder reports
        ("camaudit:channel", device.get("channel")),
        ("camaudit:mac", device.get("mac")),
        ("camaudit:device_type", device.get("device_type")),
        ("camaudit:serial", device.get("serial")),
        ("camaudit:site", device.get("site")),
        ("camaudit:hostname", device.get("hostname")),
        ("camaudit:ports", " ".join(str(p) for p in device.get("ports") or [])),
        ("camaudit:confidence", device.get("confidence")),
        *[
            ("camaudit:finding", f"{f.get('id')} ({f.get('severity')}, "
                                 f"{f.get('status', 'open')}): {f.get('title')}")
            for f in findings(device) if f.get("kind") != "vulnerability"
        ],
    ])
    return component


def _vulnerabilities(devices: list[DeviceDoc]) -> list[dict[str, Any]]:
    """One entry per CVE, affecting every device (firmware) it was found on."""
    by_cve: dict[str, dict[str, Any]] = {}
    for index, device in enumerate(devices):
        target = f"device-{index}-firmware" if device.get("firmware") else f"device-{index}"
        for finding in findings(device):
            cve = cve_id(finding)
            if finding.get("kind") != "vulnerability" or cve is None:
                continue
            entry = by_cve.get(cve)
            if entry is None:
                entry = by_cve[cve] = {
                    "bom-ref": f"vuln-{cve}",
                    "id": cve,
                    "source": {"name": "NVD", "url": NVD_URL + cve},
                    "ratings": [{"severity": finding.get("severity", "unknown"),
                                 "method": "other", "source": {"name": "camaudit"}}],
                    "description": str(finding.get("title", "")),
                    "affects": [],
                }
                if finding.get("detail"):
                    entry["detail"] = str(finding["detail"])
                source = str(finding.get("source", ""))
                if source.startswith(("http://", "https://")):
                    entry["advisories"] = [{"url": source}]
                if is_kev(finding):
                    entry["references"] = [{"id": cve, "source": {"name": "CISA KEV",
                                                                  "url": KEV_URL}}]
                    entry["properties"] = [{"name": "camaudit:kev", "value": "true"}]
            if finding.get("status") == "possible":
                entry["analysis"] = {"state": "in_triage",
                                     "detail": "firmware version not read; may be affected"}
            entry["affects"].append({"ref": target})
    return list(by_cve.values())


def to_cyclonedx(doc: Doc) -> dict[str, Any]:
    """The document as a CycloneDX 1.6 BOM (a dict ready for json.dumps)."""
    scan = scan_info(doc)
    devices: list[DeviceDoc] = list(doc.get("devices") or [])
    canonical = json.dumps(doc, sort_keys=True, default=str).encode()
    serial = uuid.uuid5(uuid.NAMESPACE_URL, "camaudit:" + hashlib.sha256(canonical).hexdigest())
    timestamp = scan.get("finished") or scan.get("started") or datetime.now(UTC).isoformat()
    bom: dict[str, Any] = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial.urn,  # same document, same serial number
        "version": 1,
        "metadata": {
            "timestamp": str(timestamp),
            "tools": {"components": [{"type": "application", "name": "camaudit",
                                      "version": __version__}]},
            "properties": _props([
                ("camaudit:scan:id", scan.get("id")),
                ("camaudit:scan:targets", " ".join(scan.get("targets") or [])),
                ("camaudit:scan:tool_version", scan.get("tool_version")),
                *[(f"camaudit:knowledge:{name}", date)
                  for name, date in (scan.get("knowledge") or {}).items()],
            ]),
        },
        "components": [_component(i, d) for i, d in enumerate(devices)],
    }
    vulnerabilities = _vulnerabilities(devices)
    if vulnerabilities:
        bom["vulnerabilities"] = vulnerabilities
    return bom


def write_cyclonedx(doc: Doc, path: Path) -> None:
    try:
        path.write_text(json.dumps(to_cyclonedx(doc), indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from exc
