"""Persona files: what an emulated device is and what it says, as data with origins.

A persona is a YAML file in ``zoo/personas/`` (one per persona; files whose
name starts with ``_`` are shared bases or tables, never served). A persona
may ``extends:`` a base; mappings merge key by key, anything else is replaced,
so firmware variants restate only what differs. The schema:

    id, extends, hostile (bool), weight (mix weight), kind (camera|oem|decoy|hostile)
    identity: {device_type, brand, manufacturer, model, firmware}
    serial: template; mac_oui: "AA:BB:CC" or null
    findings: [ids under policy `all`, besides the restrictions that follow from
               the maker via _restrictions.yaml]
    findings_unverified: {id: why it is not in `findings`} (also the maker's leads of
               _restrictions.yaml; an id here is dropped from `findings`)
    tcp: {port: {proto: http|https|rtsp|raw|xmeye|dvrip|hostile, ...}}
    udp: {port: {proto: wsd|ssdp|ubnt|dhip, ...}}   (a child's `port: null` drops the base's)
    origins: {key: {repo, path, commit} | {document, url, page} | {none: why}}
    connected: {origin: key, cameras: [{channel, address, identity: {...}, findings,
               findings_unverified, note}]}  (a recorder: the cameras its channel list
               reports, as ground truth; they are never served, only described)

Every response (HTTP route, RTSP method, raw reply, UDP reply) names an
``origin`` key; :func:`load_all` refuses a persona whose origin is missing, so
no response is served without a recorded source. A reply nobody has published
is not invented: an HTTP route/``not_found`` or RTSP method item ``{close: true,
origin: unpublished}`` closes the connection instead. Templates use ``{{name}}``
placeholders filled per device and per response (see :mod:`camaudit.zoo.render`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from camaudit.errors import ConfigError

#: Protocol handlers a TCP/UDP service may name (one module each in camaudit.zoo).
TCP_PROTOS = frozenset({"http", "https", "rtsp", "raw", "xmeye", "dvrip", "hostile"})
UDP_PROTOS = frozenset({"wsd", "ssdp", "ubnt", "dhip"})
KINDS = frozenset({"camera", "recorder", "oem", "encoder", "vms", "decoy", "hostile"})
IDENTITY_KEYS = ("device_type", "brand", "manufacturer", "model", "firmware")
_REQUIRED = ("id", "identity", "tcp", "origins", "kind")


@dataclass(frozen=True)
class Persona:
    """One kind of device the zoo can emulate (immutable, shared by all its devices)."""

    id: str
    kind: str
    hostile: bool
    weight: float
    identity: Mapping[str, str | None]
    findings: tuple[str, ...]
    findings_unverified: Mapping[str, str]
    serial: str
    mac_oui: str | None
    vars: Mapping[str, str]
    tcp: Mapping[int, Mapping[str, Any]]
    udp: Mapping[int, Mapping[str, Any]]
    origins: Mapping[str, Any]
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: cameras a recorder reports: {channel, address, identity, findings, findings_unverified}
    connected: tuple[Mapping[str, Any], ...] = ()

    @property
    def tcp_ports(self) -> list[int]:
        return sorted(self.tcp)

    @property
    def udp_ports(self) -> list[int]:
        return sorted(self.udp)


def _merge(base: Any, over: Any) -> Any:
    """Deep-merge mappings; any other value in `over` replaces the base value."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    return over


def _read_raw() -> dict[str, dict[str, Any]]:
    """All YAML files of the personas folder by stem (bases included)."""
    raw: dict[str, dict[str, Any]] = {}
    folder = resources.files("camaudit.zoo") / "personas"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        stem = entry.name[: -len(".yaml")]
        try:
            data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"zoo/personas/{entry.name}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"zoo/personas/{entry.name}: not a mapping")
        raw[stem] = data
    return raw


def _resolve(stem: str, raw: Mapping[str, dict[str, Any]], seen: tuple[str, ...] = ()) -> Any:
    if stem in seen:
        raise ConfigError(f"zoo/personas/{stem}.yaml: 'extends' loops through {seen}")
    if stem not in raw:
        raise ConfigError(f"zoo/personas: base '{stem}' not found (from {seen[-1:]})")
    data = raw[stem]
    parent = data.get("extends")
    if not parent:
        return data
    merged = _merge(_resolve(str(parent), raw, (*seen, stem)), data)
    merged["abstract"] = bool(data.get("abstract", False))  # never inherited
    merged["connected"] = data.get("connected")  # one recorder's own cameras: never inherited
    return merged


def _origin_keys(service: Mapping[str, Any]) -> list[str]:
    """Every origin key a service names (on itself and on each response item)."""
    keys: list[str] = []
    if "origin" in service:
        keys.append(str(service["origin"]))
    for group in ("routes", "replies"):
        for item in service.get(group, ()) or ():
            if isinstance(item, dict) and "origin" in item:
                keys.append(str(item["origin"]))
    for item in (service.get("responses") or {}).values():
        if isinstance(item, dict) and "origin" in item:
            keys.append(str(item["origin"]))
    onvif = service.get("onvif")
    if isinstance(onvif, dict) and "origin" in onvif:
        keys.append(str(onvif["origin"]))
    return keys


def _check(stem: str, data: Mapping[str, Any], makers: Mapping[str, list[str]],
           leads: Mapping[str, Mapping[str, str]] | None = None) -> Persona:
    where = f"zoo/personas/{stem}.yaml"
    for key in _REQUIRED:
        if key not in data:
            raise ConfigError(f"{where}: missing '{key}'")
    if data["id"] != stem:
        raise ConfigError(f"{where}: id '{data['id']}' differs from the file name")
    kind = str(data["kind"])
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind '{kind}' is not one of {sorted(KINDS)}")
    identity = {k: data["identity"].get(k) for k in IDENTITY_KEYS}
    origins = data["origins"] or {}
    tcp: dict[int, Mapping[str, Any]] = {}
    for port, svc in (data.get("tcp") or {}).items():
        if svc is None:  # `port: null` in a child: the base's service is not served
            continue
        if not isinstance(svc, dict) or svc.get("proto") not in TCP_PROTOS:
            raise ConfigError(f"{where}: tcp {port}: proto must be one of {sorted(TCP_PROTOS)}")
        tcp[int(port)] = svc
    udp: dict[int, Mapping[str, Any]] = {}
    for port, svc in (data.get("udp") or {}).items():
        if svc is None:
            continue
        if not isinstance(svc, dict) or svc.get("proto") not in UDP_PROTOS:
            raise ConfigError(f"{where}: udp {port}: proto must be one of {sorted(UDP_PROTOS)}")
        udp[int(port)] = svc
    for port, svc in [*tcp.items(), *udp.items()]:
        keys = _origin_keys(svc)
        if not keys:
            raise ConfigError(f"{where}: port {port} serves responses without an origin")
        for key in keys:
            if key not in origins:
                raise ConfigError(f"{where}: port {port}: origin '{key}' is not in origins")
    findings, unverified = _findings(identity, data, makers, leads)
    connected = _connected(where, data.get("connected"), origins, makers, leads)
    return Persona(
        id=stem, kind=kind, hostile=bool(data.get("hostile", False)),
        weight=float(data.get("weight", 1.0)), identity=identity,
        findings=tuple(dict.fromkeys(findings)),
        findings_unverified=unverified,
        serial=str(data.get("serial", "ZOO{{n9}}")),
        mac_oui=data.get("mac_oui"), vars={k: str(v) for k, v in (data.get("vars") or {}).items()},
        tcp=tcp, udp=udp, origins=origins, note=str(data.get("note", "")),
        extra={k: v for k, v in data.items() if k in ("wsd", "ssdp")},
        connected=connected,
    )


def _findings(identity: Mapping[str, Any], data: Mapping[str, Any],
              makers: Mapping[str, list[str]], leads: Mapping[str, Mapping[str, str]] | None
              ) -> tuple[list[str], dict[str, str]]:
    """Expected finding ids (the maker's restrictions plus the listed ones) and the others."""
    maker = identity.get("manufacturer")
    unverified = {**(leads or {}).get(str(maker), {}),
                  **dict(data.get("findings_unverified") or {})}
    findings = [f for f in [*makers.get(str(maker), []), *(data.get("findings") or [])]
                if f not in unverified]
    return list(dict.fromkeys(findings)), unverified


def _connected(where: str, section: Any, origins: Mapping[str, Any],
               makers: Mapping[str, list[str]], leads: Mapping[str, Mapping[str, str]] | None
               ) -> tuple[Mapping[str, Any], ...]:
    """The cameras a recorder persona reports, with the findings expected for each."""
    if not section:
        return ()
    if str(section.get("origin")) not in origins:
        raise ConfigError(f"{where}: connected: origin {section.get('origin')!r} is not in "
                          "origins")
    out = []
    for cam in section.get("cameras") or []:
        identity = {k: (cam.get("identity") or {}).get(k) for k in IDENTITY_KEYS}
        findings, unverified = _findings(identity, cam, makers, leads)
        out.append({"channel": int(cam["channel"]), "address": cam.get("address"),
                    "identity": identity, "findings": findings,
                    "findings_unverified": unverified, "note": str(cam.get("note", ""))})
    return tuple(out)


@lru_cache(maxsize=1)
def load_all() -> dict[str, Persona]:
    """Every servable persona by id, checked; raises ConfigError on the first problem."""
    raw = _read_raw()
    table = raw.get("_restrictions", {})
    makers = {str(k): list(v["findings"]) for k, v in (table.get("makers") or {}).items()}
    # Unconfirmed regimes naming the maker give findings of status lead, not findings.
    leads = {str(k): dict(v.get("leads") or {}) for k, v in (table.get("makers") or {}).items()}
    out: dict[str, Persona] = {}
    for stem in raw:
        if stem.startswith("_") or raw[stem].get("abstract"):
            continue
        out[stem] = _check(stem, _resolve(stem, raw), makers, leads)
    return out


def restriction_table() -> dict[str, list[str]]:
    """Maker -> restriction finding ids, as the zoo derives them (for tests)."""
    table = _read_raw().get("_restrictions", {})
    return {str(k): list(v["findings"]) for k, v in (table.get("makers") or {}).items()}
