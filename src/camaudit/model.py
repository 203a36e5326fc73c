"""The records that flow through the pipeline.

observation (what a device said) -> device (what we conclude, with evidence)
-> finding (what the operator must act on, with its source).

They are plain dataclasses so that probes, ingest, identify, assess, store and
report can share them without importing each other. The JSON form of a device
is the stable output contract `camaudit/1` (see DESIGN.md and
`report/schema.json`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

DeviceType = Literal["camera", "recorder", "encoder", "vms", "surveillance", "other"]
DEVICE_TYPES: tuple[str, ...] = ("camera", "recorder", "encoder", "vms", "surveillance", "other")
#: Classes that are video-surveillance equipment; `surveillance` is such equipment whose
#: role (camera, recorder, encoder) the evidence does not settle.
SURVEILLANCE_TYPES: frozenset[str] = frozenset(
    {"camera", "recorder", "encoder", "vms", "surveillance"})
Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")

#: Raw bytes kept per observation; the SHA-256 is taken over the full capped bytes.
RAW_CAP = 64 * 1024

FieldValue = str | int | float | bool | list[str] | None


def utcnow() -> datetime:
    return datetime.now(UTC)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Observation:
    """One thing one device said over one protocol, kept as evidence.

    `probe` names the protocol module that produced it (``http``, ``tls``,
    ``rtsp``, ``onvif``, ``hik-sdk``, ``dvrip``, ``xmeye``, ``upnp``,
    ``banner``, ``mac``, ``nmap``, ``inventory`` ...); `fields` holds what its
    parser extracted, with field names documented in that probe's module.
    `source` tells how we got it: ``active`` (we asked), ``passive`` (seen in a
    capture or an nmap file) or ``claim`` (a person wrote it in an inventory).
    """

    address: str
    port: int | None
    probe: str
    fields: dict[str, FieldValue]
    raw: bytes = b""
    time: datetime = field(default_factory=utcnow)
    source: Literal["active", "passive", "claim"] = "active"
    raw_size: int = 0  # bytes actually received, before the cap

    def __post_init__(self) -> None:
        if not self.raw_size:
            self.raw_size = len(self.raw)
        if len(self.raw) > RAW_CAP:
            self.raw = self.raw[:RAW_CAP]

    @property
    def sha256(self) -> str:
        """Identity of this evidence: SHA-256 of the raw bytes kept (of the fields if none).

        Hashing the raw bytes lets an auditor check an evidence file by hand.
        """
        if self.raw:
            return sha256_hex(self.raw)
        canon = json.dumps(self.fields, sort_keys=True, default=str, ensure_ascii=False)
        return sha256_hex(f"{self.probe}|{self.address}|{self.port}|{canon}".encode())


@dataclass
class Evidence:
    """Why a device field holds its value: one rule hit on one observation."""

    rule: str
    observation: str  # "sha256:<hex>" of the observation
    says: str  # e.g. "manufacturer=Hikvision"
    weight: float = 0.0
    source: str | None = None  # where the rule's knowledge comes from

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "observation": self.observation,
            "says": self.says,
            "weight": round(self.weight, 3),
            "source": self.source,
        }


@dataclass
class Finding:
    """Something the operator must act on, and the public source it rests on."""

    id: str  # e.g. "ndaa-889", "kev:CVE-2021-36260", "analytics:ethnicity"
    kind: Literal["restriction", "vulnerability", "analytics", "inventory", "unknown-maker"]
    severity: Severity
    title: str
    source: str  # URL or citation; no source, no finding
    #: open: stands; possible: the device data cannot settle it (firmware or date not read);
    #: lead: rests on a record its source does not confirm (never above medium); accepted.
    #: offered / enabled (analytics read from the device's own API): the device states it
    #: can run the analytic / has it switched on.
    status: Literal["open", "accepted", "possible", "lead", "offered", "enabled"] = "open"
    detail: str = ""
    evidence: list[str] = field(default_factory=list)  # "rule -> sha256:..." lines
    regime: str | None = None
    accepted_reason: str | None = None
    basis: str = ""  # what the rule says and whom it covers: the same for every device it hits

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "source": self.source,
            "status": self.status,
            "detail": self.detail,
            "evidence": list(self.evidence),
            "regime": self.regime,
            "basis": self.basis,
        }
        if self.accepted_reason:
            out["accepted_reason"] = self.accepted_reason
        return out


@dataclass
class Device:
    """What identify concluded about one host. Unknown values are None, never a guess."""

    address: str
    ports: list[int] = field(default_factory=list)
    mac: str | None = None
    device_type: DeviceType | None = None
    brand: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    firmware: str | None = None
    serial: str | None = None
    confidence: float = 0.0
    evidence: list[Evidence] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    site: str | None = None
    hostname: str | None = None
    #: A camera a recorder reports (never contacted): the recorder's address and the
    #: recorder's channel number for it. Its `address` is the one the recorder reports.
    parent: str | None = None
    channel: int | None = None
    #: What the device's own API says it can analyse (``analytics`` observations, read with
    #: the operator's login): {api, endpoint, channel, offered, enabled, platform, observation}.
    #: Input to assess; not part of the output contract.
    analytics: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Unique within a scan: the address, or ``<recorder>#<channel>`` for a connected camera.

        Two recorders may report cameras at the same private address (a PoE switch each).
        """
        return f"{self.parent}#{self.channel}" if self.parent is not None else self.address

    def to_json(self) -> dict[str, Any]:
        out = self._json()
        if self.parent is not None:
            out["parent"] = self.parent
            out["channel"] = self.channel
        return out

    def _json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "mac": self.mac,
            "ports": sorted(self.ports),
            "device_type": self.device_type,
            "brand": self.brand,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "firmware": self.firmware,
            "serial": self.serial,
            "confidence": round(self.confidence, 3),
            "site": self.site,
            "hostname": self.hostname,
            "evidence": [e.to_json() for e in self.evidence],
            "conflicts": list(self.conflicts),
            "findings": [f.to_json() for f in self.findings],
        }
