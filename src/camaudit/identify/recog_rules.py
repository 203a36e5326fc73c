"""recog fingerprints as camaudit rules: recog's facts mapped onto camaudit's device fields.

One matcher, many rule sets (STYLE 10): each fingerprint of a database that
``recog_map.yaml`` reads becomes a :class:`camaudit.identify.rules.Rule` with
the id ``recog:<database>:<n>``, recog's description as its note and the
pinned commit as its source, so fusion and ``explain`` treat it like our own.

What recog says -> what the rule says:

- ``hw.vendor`` (else ``os.vendor`` when recog names a device, i.e. the OS is
  that device's firmware) -> ``brand`` when the name is an OEM brand of
  ``oem_brands.yaml`` (the maker then comes from telltales, as for any brand),
  else ``manufacturer`` (our spelling when ``knowledge/data/makers.yaml`` knows
  the maker, else recog's own vendor name);
- ``hw.device`` / ``os.device`` -> ``device_type`` through the map's device
  table. recog labels whole product lines ("Hikvision-Webs" is tagged DVR, yet
  Hikvision cameras send it too), so a camera/recorder/encoder label becomes
  ``surveillance`` (gear, role unknown) at the database weight; the role itself
  is said only when the pattern - the device's own words - names it
  ("^Sony Network Camera$"), at ``role_weight`` with the database weight as its
  ``surveillance`` weight. Other device words make ``other``;
- captured ``hw.model`` / ``hw.product`` -> ``model``; captured ``os.version``
  of a device's own OS -> ``firmware``; ``hw.serial_number`` -> ``serial``;
  ``host.mac`` -> ``mac``. Fixed product names ("LaserJet") are families, not
  models, and say nothing.

Fingerprints are weighted by recog's certainty (``certainty`` or a
``*.certainty`` param) when it is below 1.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from camaudit.errors import ConfigError
from camaudit.identify import recog
from camaudit.identify.oem import brand_links
from camaudit.identify.recog import recog_dir
from camaudit.identify.rules import Rule
from camaudit.knowledge import makers

MAP_FILE = Path(__file__).resolve().parent / "recog_map.yaml"
_SURVEILLANCE_ROLES = ("camera", "recorder", "encoder")


@dataclass(frozen=True)
class DatabaseMap:
    probes: tuple[str, ...]
    field: str
    weight: float


@dataclass(frozen=True)
class RecogMap:
    checked: dt.date
    databases: dict[str, DatabaseMap]
    not_read: dict[str, str]
    devices: dict[str, str]
    no_class: frozenset[str]
    role_weight: float
    role_words: dict[str, re.Pattern[str]]
    corrections: dict[tuple[str, str], dict[str, Any]]


def source_line(directory: Path) -> str:
    """'rapid7/recog@<commit>' from a copy's SOURCE file."""
    try:
        text = (directory / "SOURCE").read_text("utf-8")
    except OSError:
        return "rapid7/recog (commit unknown)"
    commit = re.search(r"^commit:\s*(\S+)", text, re.M)
    return f"rapid7/recog@{commit.group(1)[:12] if commit else 'unknown'}"


@lru_cache(maxsize=1)
def load_map(path: Path = MAP_FILE) -> RecogMap:
    try:
        doc: Any = yaml.safe_load(path.read_text("utf-8"))
        dbs = {name: DatabaseMap(tuple(v["probes"]), str(v["field"]), float(v["weight"]))
               for name, v in doc["databases"].items()}
        return RecogMap(
            checked=doc["checked"], databases=dbs, not_read=dict(doc["not_read"]),
            devices=dict(doc["devices"]), no_class=frozenset(doc["no_class"]),
            role_weight=float(doc["role_weight"]),
            role_words={k: re.compile(v) for k, v in doc["role_words"].items()},
            corrections={(c["database"], c["description"]): c for c in doc["corrections"]})
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, re.error) as exc:
        raise ConfigError(f"{path.name}: cannot be read: {exc}") from exc


@lru_cache(maxsize=1)
def _brands() -> dict[str, str]:
    return {alias.casefold(): alias for link in brand_links() for alias in link.aliases}


def _template(fp: recog.Fingerprint, name: str, seen: frozenset[str] = frozenset()) -> str | None:
    """A param as a rule `says` template: '{N}' for a capture, the fixed value (interpolated)."""
    param = fp.param(name)
    if param is None or name in seen:
        return None
    if param.pos > 0:
        return f"{{{param.pos}}}"

    def one(ref: re.Match[str]) -> str:
        inner = _template(fp, ref.group(1), seen | {name})
        return inner if inner is not None else ""
    return re.sub(r"\{([^\s{}]+)\}", one, param.value).strip()


def _captured(fp: recog.Fingerprint, name: str) -> str | None:
    """The template of a param only when it carries captured text."""
    text = _template(fp, name)
    return text if text and re.search(r"\{\d+\}", text) else None


def _vendor(fp: recog.Fingerprint, device: str | None) -> tuple[str, str] | None:
    """(field, value): the brand or maker recog names for the device."""
    name = _template(fp, "hw.vendor")
    if not name and device:
        name = _template(fp, "os.vendor")
    if not name:
        return None
    if "{" in name:  # captured: normalised at match time (a name nobody lists is dropped)
        return ("manufacturer", name)
    brand = _brands().get(name.casefold())
    if brand is not None:
        return ("brand", brand)
    return ("manufacturer", makers.canonical(name) or name)


def _certainty(fp: recog.Fingerprint) -> float:
    values = [float(p.value) for p in fp.params
              if p.name.endswith("certainty") and p.pos == 0
              and re.fullmatch(r"[01](?:\.\d+)?", p.value)]
    return min([1.0, *values])


def to_rule(fp: recog.Fingerprint, where: DatabaseMap, rmap: RecogMap, source: str) -> Rule | None:
    """The camaudit rule for one fingerprint; None when it says nothing about a device."""
    says: dict[str, str] = {}
    weights: dict[str, float] = {}
    scale = _certainty(fp)
    weight = round(where.weight * scale, 3)
    correction = rmap.corrections.get((fp.database, fp.description), {})
    device = _template(fp, "hw.device") or _template(fp, "os.device")
    kind = correction.get("device_type") or (
        None if device is None or device in rmap.no_class else rmap.devices.get(device, "other"))
    surveillance = None
    if kind in _SURVEILLANCE_ROLES and rmap.role_words[kind].search(fp.pattern):
        says["device_type"] = kind  # the device's own string names its role
        weights["device_type"] = rmap.role_weight
        surveillance = weight
    elif kind in _SURVEILLANCE_ROLES:  # recog's label for a product line: gear, role unknown
        says["device_type"] = "surveillance"
        weights["device_type"] = weight
    elif kind is not None:
        says["device_type"] = kind
        weights["device_type"] = weight
    vendor = None if correction.get("vendor", True) is None else _vendor(fp, device)
    if vendor is not None:
        says[vendor[0]] = vendor[1]
    own_os = fp.param("hw.vendor") is None or _template(fp, "os.vendor") == _template(
        fp, "hw.vendor")
    for key, params in (("model", ("hw.model", "hw.product")), ("serial", ("hw.serial_number",)),
                        ("mac", ("host.mac",)), ("firmware", ("os.version",))):
        if key == "firmware" and not (device and own_os):
            continue
        value = next(filter(None, (_captured(fp, p) for p in params)), None)
        if value is not None:
            says[key] = value
    if not says:
        return None
    for key in says:
        weights.setdefault(key, weight)
    return Rule(
        id=fp.id, probes=where.probes, fields=(where.field,), regex=fp.regex, says=says,
        weights=weights, source=f"{source} xml/{fp.database}.xml:{fp.line} ({fp.description})",
        checked=rmap.checked, file=f"recog/{fp.database}.xml", line=fp.line,
        note=fp.description + (f"; camaudit corrects it: {correction['why']}"
                               if correction else ""),
        surveillance=surveillance)


def load_databases(directory: Path | None = None) -> list[recog.Database]:
    """Every database of a recog copy (all of them, read or not)."""
    base = (directory or recog_dir()) / "xml"
    files = sorted(base.glob("*.xml"))
    if not files:
        raise ConfigError(f"{base}: no recog databases (*.xml) here")
    return [recog.load_database(f) for f in files]


@lru_cache(maxsize=2)
def recog_rules(directory: Path | None = None) -> tuple[Rule, ...]:
    """The rules from the databases camaudit reads, compiled once per process."""
    base = directory or recog_dir()
    rmap = load_map()
    source = source_line(base)
    out: list[Rule] = []
    for name, where in rmap.databases.items():
        path = base / "xml" / f"{name}.xml"
        if not path.is_file():
            continue  # an older or newer recog without this database
        for fp in recog.load_database(path).fingerprints:
            rule = to_rule(fp, where, rmap, source)
            if rule is not None:
                out.append(rule)
    return tuple(out)
