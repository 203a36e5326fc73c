"""Restriction regimes (``data/restrictions.yaml``) and analytics reports (``data/analytics.yaml``).

A regime names makers (by id), says where and since when it applies, and what
a finding must cite. camaudit-specific reading of each regime — which device
types it reaches and the severity it carries by default — is kept here, next
to the reason, because it is our interpretation, not the source's:

================== ========= ===========================================================
regime             severity  why / reach
================== ========= ===========================================================
ndaa-889           high      federal procurement ban incl. "video surveillance and
                             telecommunications equipment" and subsidiaries/affiliates;
                             every device type of a named maker
fcc-covered-list   high      the FCC lists the same equipment as an unacceptable risk
fcc-22-84          medium    blocks *new* authorisations from 2023-02-06; equipment
                             authorised before is not revoked
us-entity-list-2019 info     export control; does not forbid buying or operating (scope
                             text of the regime) but is a human-rights finding
uk-sensitive-sites medium    "visible surveillance equipment" on sensitive sites; high
  -2022                      when the policy marks the device's site as sensitive
au-defence-2023    medium    removal from Defence sites; surveillance devices only
================== ========= ===========================================================

Analytics: a product matches a device when the maker matches and the model
equals the reported model (or an alias); a family written with ``XYZ``
placeholders (``DS-2CD7A2XYZ-JM/RX``) matches any one character per
placeholder, and such a match is reported as *possible*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from camaudit.knowledge import yamlio
from camaudit.knowledge.makers import maker_id
from camaudit.knowledge.paths import data_path
from camaudit.model import SURVEILLANCE_TYPES

SURVEILLANCE = SURVEILLANCE_TYPES

#: camaudit's reading of each regime (see the module docstring).
_READING: dict[str, tuple[str, frozenset[str] | None]] = {
    "ndaa-889": ("high", None),
    "fcc-covered-list": ("high", None),
    "fcc-22-84": ("medium", None),
    "us-entity-list-2019": ("info", None),
    "uk-sensitive-sites-2022": ("medium", SURVEILLANCE),
    "au-defence-2023": ("medium", SURVEILLANCE),
}


@dataclass(frozen=True)
class Regime:
    id: str
    name: str
    jurisdiction: str
    kind: str
    effective: str  # as the source gives it: a date, or "part_a: ..., part_b: ..."
    makers: frozenset[str]
    rule: str | None  # applies_to_rule, when the regime names a rule rather than companies
    scope: str
    note: str | None
    source: str  # first source URL, or its full citation when it has no URL
    sources: tuple[str, ...]
    severity: str
    device_types: frozenset[str] | None  # None: every type

    def covers(self, device_type: str | None) -> bool:
        """Surveillance-only regimes also reach a device whose type is unknown."""
        return self.device_types is None or device_type is None or device_type in self.device_types


@dataclass(frozen=True)
class AnalyticsProduct:
    id: str  # analytics:<id> is the finding id
    maker: str  # maker id
    model: str
    pattern: re.Pattern[str]
    family: bool  # the model is a family with placeholders -> "possible"
    capability: str
    reported: str
    source: str
    sources: tuple[str, ...]


def _cite(src: Any) -> str:
    if isinstance(src, dict):
        if src.get("url"):
            return str(src["url"])
        return str(src.get("title", "")) + (f" ({src['note']})" if src.get("note") else "")
    return str(src)


def _effective(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def load_regimes() -> tuple[list[Regime], str]:
    """The regimes that name makers, and the date restrictions.yaml was checked."""
    doc = yamlio.load(data_path("restrictions.yaml"))
    where = yamlio.Where("restrictions.yaml")
    out = []
    for node in doc["regimes"]:
        rid = node["id"]
        if rid not in _READING:
            continue  # eu-ai-act-art5-1g is applied through analytics records
        severity, types = _READING[rid]
        makers = set()
        for name in node.get("applies_to", []):
            mid = maker_id(name)
            if mid is None:
                raise where.error(node, "applies_to", f"unknown company {name!r}")
            makers.add(mid)
        sources = tuple(_cite(s) for s in node["sources"])
        out.append(Regime(
            id=rid, name=node["name"], jurisdiction=node["jurisdiction"], kind=node["kind"],
            effective=_effective(node.get("effective")), makers=frozenset(makers),
            rule=node.get("applies_to_rule"), scope=" ".join(str(node.get("scope", "")).split()),
            note=node.get("note"), source=sources[0],
            sources=sources, severity=severity, device_types=types))
    return out, str(doc.get("checked", ""))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _model_pattern(maker: str, model: str) -> tuple[re.Pattern[str], bool]:
    """Dahua reports write "DH-IPC-..."; Dahua devices may drop the DH-/DHI- prefix."""
    family = "XYZ" in model
    if maker != "dahua":
        body = re.escape(model).replace("XYZ", "[0-9A-Z]{3}")
        return re.compile(f"^{body}$", re.IGNORECASE), family
    body = re.escape(re.sub(r"^DHI?-", "", model)).replace("XYZ", "[0-9A-Z]{3}")
    return re.compile(f"^(?:DHI?-)?{body}$", re.IGNORECASE), family


def load_analytics() -> tuple[list[AnalyticsProduct], dict[str, str], str]:
    """Reported products, the legal basis (id -> citation URL) and the checked date."""
    doc = yamlio.load(data_path("analytics.yaml"))
    legal = {node["id"]: _cite(node["sources"][0]) for node in doc["legal_basis"]}
    out = []
    for node in doc["products"]:
        mid = maker_id(node["maker"]) or node["maker"]
        sources = tuple(_cite(s) for s in node["sources"])
        for model in (node["model"], *node.get("aliases", [])):
            pattern, family = _model_pattern(mid, model)
            out.append(AnalyticsProduct(
                id=_slug(f"{mid}-{node['model']}"), maker=mid, model=model, pattern=pattern,
                family=family, capability=node["capability"], reported=str(node["reported"]),
                source=sources[0], sources=sources))
    return out, legal, str(doc.get("checked", ""))

