"""Observations built from the real device output in shared/fixtures, per the field
vocabulary of camaudit.probes (each fixture file records its origin: repo, path, commit).

These converters stand in for the probe parsers (written in parallel by the probe
area) so that identification is tested on real device output; they read only what
the vocabulary names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from camaudit.model import Observation

# Real device output with origins, copied from the project's shared fixtures.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "devices"
ADDRESS = "192.0.2.10"


def _kv(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _isapi(text: str) -> dict[str, Any]:
    if text.lstrip().startswith("<"):
        root = ElementTree.fromstring(text.encode())
        info = {el.tag.split("}")[-1]: (el.text or "").strip() for el in root}
    else:
        info = json.loads(text)["response"]["DeviceInfo"]
    names = {"model": "model", "firmwareVersion": "firmware",
             "firmwareReleasedDate": "firmware_build", "serialNumber": "serial",
             "macAddress": "mac", "deviceType": "device_type", "manufacturer": "manufacturer",
             "deviceName": "device_name"}
    return {ours: info[theirs] for theirs, ours in names.items() if theirs in info}


def _dahua_cgi(text: str) -> dict[str, Any]:
    kv = _kv(text)
    fields: dict[str, Any] = {}
    if "type" in kv:
        fields["device_type"] = kv["type"]
    if "deviceType" in kv:
        fields["device_type"] = kv["deviceType"]
    if "serialNumber" in kv:
        fields["serial"] = kv["serialNumber"]
    if "hardwareVersion" in kv:
        fields["hardware"] = kv["hardwareVersion"]
    if "version" in kv:
        fields["firmware"] = kv["version"]
    return fields


def _vapix(text: str) -> dict[str, Any]:
    kv = _kv(text)
    names = {"root.Brand.Brand": "brand", "root.Brand.ProdNbr": "model",
             "root.Brand.ProdType": "product_type", "root.Properties.Firmware.Version": "firmware",
             "root.Properties.System.SerialNumber": "serial"}
    return {ours: kv[theirs] for theirs, ours in names.items() if kv.get(theirs)}


def _wsd(text: str) -> dict[str, Any]:
    def words(tag: str) -> list[str]:
        found = re.search(rf"<wsdd:{tag}>(.*?)</wsdd:{tag}>", text, re.S)
        return found.group(1).split() if found else []
    return {"types": words("Types"), "scopes": words("Scopes"), "xaddrs": words("XAddrs")}


def _xmeye(text: str) -> dict[str, Any]:
    info = json.loads(text)
    return {"recognised": True, "model": info["DeviceModel"],
            "firmware": info["SoftWareVersion"], "serial": info["SerialNo"]}


def observations(sample: dict[str, Any]) -> list[Observation]:
    """The observation(s) a probe would have made of this fixture's response."""
    kind, text = sample["kind"], sample["response"]
    raw = text.encode()
    sid = sample["id"]
    if kind == "isapi-deviceinfo":
        return [Observation(ADDRESS, 80, "isapi", _isapi(text), raw)]
    if kind == "dahua-cgi":
        return [Observation(ADDRESS, 80, "dahua-cgi", _dahua_cgi(text), raw)]
    if kind == "axis-vapix":
        return [Observation(ADDRESS, 80, "vapix", _vapix(text), raw)]
    if kind == "ws-discovery":
        return [Observation(ADDRESS, 3702, "wsd", _wsd(text), raw)]
    if sid.startswith("xiongmai-dvrip"):
        return [Observation(ADDRESS, 34567, "xmeye", _xmeye(text), raw)]
    if sid.startswith("tplink-tapo-discovery"):
        return [Observation(ADDRESS, 20002, "banner", {"service": "other", "banner": text}, raw)]
    path = sample["request"].split()[1] if sample["request"].startswith(("GET", "POST")) else "/"
    port = 443 if "443" in sample["request"] or "HTTPS" in sample["request"] else 80
    return [Observation(ADDRESS, port, "http",
                        {"path": path, "status": 200, "body": text[:4096], "tls": port == 443},
                        raw)]


def load_samples() -> list[dict[str, Any]]:
    return [json.loads(p.read_text("utf-8")) for p in sorted(FIXTURES.glob("*.json"))]
