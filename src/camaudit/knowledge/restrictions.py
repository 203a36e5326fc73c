"""Restriction regimes and the companies they name (``restrictions.yaml``); analytics reports.

``restrictions.yaml`` is the researched file of ``shared/kb`` as it is, refreshed with
``camaudit update --from DIR``. Every regime carries its sources and a ``confirmed``
flag; ``confirmed: false`` makes it a lead (its findings have status ``lead``, never high
severity) and its ``note`` says what is missing. Every company carries its sources and
the brands a source ties to it (relation, period, ``confirmed``, note). A file that
drops a source or a ``confirmed`` flag is refused (:func:`check_document`).

camaudit's own reading of each regime, which the source does not give, is kept here
next to its reason (severity when confirmed; the device types it reaches; whether its
text names companies or states a rule that sources tie to them):

============================= ======== ============================================
regime                        severity why / reach
============================= ======== ============================================
ndaa-889                      high     procurement ban on covered equipment incl.
                                       subsidiaries/affiliates; every device type
fcc-covered-list              high     the FCC lists the same equipment as a risk
fcc-22-84                     medium   blocks *new* authorisations; earlier ones stand
us-entity-list-2019-10, -2020 info     export control: no bar on buying or using
us-ns-cmic                    info     securities ban: context only (its scope text)
us-dod-1260h                  medium   DoD contracting ban by listing (a lead today)
us-tx-prohibited-technologies medium   Texas state devices only (a lead today)
uk-sensitive-sites-2022       medium   a rule, names no company; high when the
                                       policy marks the device's site sensitive
au-defence-2023               medium   removal from Defence sites; surveillance only
eu-parliament-hikvision-2021  info     the Parliament's own premises only
============================= ======== ============================================

A regime camaudit has no reading for (a new one in an updated file) loads as ``info``
for every device type. Analytics: a product matches a device when the maker matches
and the model equals the reported model (or an alias); a family written with ``XYZ``
placeholders (``DS-2CD7A2XYZ-JM/RX``) matches any one character per placeholder, and
such a match is reported as *possible*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from camaudit.knowledge import yamlio
from camaudit.knowledge.makers import maker_id, norm
from camaudit.knowledge.paths import data_path, kb_path
from camaudit.model import SURVEILLANCE_TYPES

SURVEILLANCE = SURVEILLANCE_TYPES


@dataclass(frozen=True)
class Reading:
    severity: str
    device_types: frozenset[str] | None  # None: every type
    names_companies: bool = True  # False: the regime states a rule and names no company


#: camaudit's reading of each regime (see the module docstring).
_READING: dict[str, Reading] = {
    "ndaa-889": Reading("high", None),
    "fcc-covered-list": Reading("high", None),
    "fcc-22-84": Reading("medium", None),
    "us-entity-list-2019-10": Reading("info", None),
    "us-entity-list-2020-06": Reading("info", None),
    "us-ns-cmic": Reading("info", None),
    "us-dod-1260h": Reading("medium", None),
    "us-tx-prohibited-technologies": Reading("medium", None),
    "uk-sensitive-sites-2022": Reading("medium", SURVEILLANCE, names_companies=False),
    "au-defence-2023": Reading("medium", SURVEILLANCE),
    "eu-parliament-hikvision-2021": Reading("info", SURVEILLANCE),
}
_DEFAULT = Reading("info", None)
#: Regime ids of earlier camaudit versions, still accepted in policy files.
RENAMED: dict[str, str] = {"us-entity-list-2019": "us-entity-list-2019-10"}
#: Keys of a regime that hold its dates, in the order a reader expects them.
_DATE_KEYS = ("announced", "adopted", "released", "effective")


@dataclass(frozen=True)
class Regime:
    id: str
    name: str
    jurisdiction: str
    kind: str
    effective: str  # every date the record gives, e.g. "adopted 2022-11-11, released ..."
    makers: frozenset[str]
    rule: str | None  # applies_to_rule
    scope: str
    summary: str
    note: str | None
    confirmed: bool
    source: str  # first source URL, or its full citation when it has no URL
    sources: tuple[str, ...]
    severity: str
    device_types: frozenset[str] | None  # None: every type
    names_companies: bool = True
    days: tuple[tuple[str, date], ...] = ()  # the single dates by key, e.g. ("effective", ...)

    def covers(self, device_type: str | None) -> bool:
        """Surveillance-only regimes also reach a device whose type is unknown."""
        return self.device_types is None or device_type is None or device_type in self.device_types

    @property
    def binds(self) -> str:
        """The first sentence of the scope: whom the regime binds, in the source's words."""
        head, dot, _ = self.scope.partition(". ")
        text = head + "." if dot else self.scope
        return text if text.endswith((".", "!", "?")) else text + "."

    def day(self, key: str) -> date | None:
        """The date given for `key` (e.g. "effective"), when it is one date."""
        return dict(self.days).get(key)


@dataclass(frozen=True)
class BrandLink:
    """A brand a source ties to a named company (``companies[].brands``)."""

    name: str
    company: str  # company (= maker) id
    relation: str  # subsidiary | subsidiary-brand | former-subsidiary
    period: str | None
    confirmed: bool
    note: str | None
    source: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Company:
    id: str
    names: tuple[str, ...]
    sources: tuple[str, ...]
    brands: tuple[BrandLink, ...]
    note: str | None


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


def cite(src: Any) -> str:
    """A source as a finding cites it: its URL, or its title (and note) when it has none."""
    if isinstance(src, dict):
        if src.get("url"):
            return str(src["url"])
        return str(src.get("title", "")) + (f" ({src['note']})" if src.get("note") else "")
    return str(src)


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


def _dates(node: yamlio.LDict) -> tuple[str, list[tuple[str, date]]]:
    """Every date of a regime as text, and its single dates by key."""
    parts, days = [], []
    for key in _DATE_KEYS:
        value = node.get(key)
        if isinstance(value, dict):
            inner = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items())
            parts.append(f"{key}: {inner}")
        elif value is not None:
            parts.append(f"{key} {value}")
            if isinstance(value, date):
                days.append((key, value))
    return ", ".join(parts), days


def _sources(where: yamlio.Where, node: yamlio.LDict, what: str) -> tuple[str, ...]:
    """The cited sources of a record; a record without one is refused."""
    items = node.get("sources")
    if not isinstance(items, list) or not items:
        raise where.error(node, "sources" if "sources" in node else None,
                          f"{what} has no sources (every record must cite one)")
    out = tuple(cite(s) for s in items)
    if not all(out):
        raise where.error(node, "sources", f"{what} has a source without url or title")
    return out


def _confirmed(where: yamlio.Where, node: yamlio.LDict, what: str) -> bool:
    value = node.get("confirmed")
    if not isinstance(value, bool):
        raise where.error(node, "confirmed" if "confirmed" in node else None,
                          f"{what} has no confirmed: true|false flag")
    return value


def check_document(doc: Any, origin: str) -> yamlio.LDict:
    """`doc` if it is a restrictions file whose every record cites sources and says
    whether it is confirmed (regimes and brand links); else ConfigError ``file:line``."""
    where = yamlio.Where(origin)
    root = where.mapping(doc, None, "restrictions.yaml")
    for key in ("regimes", "companies"):
        if not isinstance(root.get(key), list):
            raise where.error(root, None, f"missing list {key!r}")
    for i in range(len(root["regimes"])):
        node = where.item(root["regimes"], i, "a regime")
        rid = where.string(node, "id")
        _sources(where, node, f"regime {rid}")
        _confirmed(where, node, f"regime {rid}")
    for i in range(len(root["companies"])):
        node = where.item(root["companies"], i, "a company")
        cid = where.string(node, "id")
        _sources(where, node, f"company {cid}")
        for j in range(len(node.get("brands") or [])):
            brand = where.item(node["brands"], j, "a brand")
            label = f"brand {where.string(brand, 'name')} of {cid}"
            _sources(where, brand, label)
            _confirmed(where, brand, label)
    return root


def _load_doc(doc: yamlio.LDict | None, origin: str) -> tuple[yamlio.LDict, yamlio.Where]:
    """The given (already checked) document, else the copy in use, checked."""
    if doc is not None:
        return doc, yamlio.Where(origin)
    path = kb_path("restrictions.yaml")
    return check_document(yamlio.load(path), path.name), yamlio.Where(path.name)


def load_regimes(doc: yamlio.LDict | None = None,
                 origin: str = "restrictions.yaml") -> tuple[list[Regime], str]:
    """Every regime of restrictions.yaml (or of `doc`), and the date it was checked."""
    doc, where = _load_doc(doc, origin)
    companies = {str(c["id"]) for c in doc["companies"]}
    out = []
    for node in doc["regimes"]:
        rid = str(node["id"])
        reading = _READING.get(rid, _DEFAULT)
        makers = set()
        for name in node.get("applies_to") or []:
            mid = maker_id(name)
            if mid is None or name not in companies:
                raise where.error(node, "applies_to", f"unknown company {name!r} (companies "
                                  "of this file and makers.yaml must both list it)")
            makers.add(mid)
        effective, days = _dates(node)
        sources = _sources(where, node, f"regime {rid}")
        out.append(Regime(
            id=rid, name=_text(node["name"]), jurisdiction=str(node["jurisdiction"]),
            kind=str(node["kind"]), effective=effective, makers=frozenset(makers),
            rule=_text(node.get("applies_to_rule")) or None, scope=_text(node.get("scope")),
            summary=_text(node.get("summary")), note=_text(node.get("note")) or None,
            confirmed=bool(node["confirmed"]), source=sources[0], sources=sources,
            severity=reading.severity, device_types=reading.device_types,
            names_companies=reading.names_companies, days=tuple(days)))
    return out, str(doc.get("checked", ""))


def load_companies(doc: yamlio.LDict | None = None,
                   origin: str = "restrictions.yaml") -> dict[str, Company]:
    """The companies the regimes name, with the brands a source ties to each."""
    doc, where = _load_doc(doc, origin)
    out = {}
    for node in doc["companies"]:
        cid = str(node["id"])
        if maker_id(cid) != cid:
            raise where.error(node, "id", f"company {cid!r} is not a maker id of makers.yaml")
        brands = []
        for b in node.get("brands") or []:
            sources = _sources(where, b, f"brand {b['name']}")
            brands.append(BrandLink(
                name=str(b["name"]), company=cid, relation=str(b.get("relation", "")),
                period=_text(b.get("period")) or None, confirmed=bool(b["confirmed"]),
                note=_text(b.get("note")) or None, source=sources[0], sources=sources))
        out[cid] = Company(id=cid, names=tuple(str(n) for n in node.get("names") or ()),
                           sources=_sources(where, node, f"company {cid}"),
                           brands=tuple(brands), note=_text(node.get("note")) or None)
    return out


def brand_links(companies: dict[str, Company]) -> dict[str, list[BrandLink]]:
    """Normalised brand name -> the company links of that brand."""
    out: dict[str, list[BrandLink]] = {}
    for company in companies.values():
        for link in company.brands:
            out.setdefault(norm(link.name), []).append(link)
    return out


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
    legal = {node["id"]: cite(node["sources"][0]) for node in doc["legal_basis"]}
    out = []
    for node in doc["products"]:
        mid = maker_id(node["maker"]) or node["maker"]
        sources = tuple(cite(s) for s in node["sources"])
        for model in (node["model"], *node.get("aliases", [])):
            pattern, family = _model_pattern(mid, model)
            out.append(AnalyticsProduct(
                id=_slug(f"{mid}-{node['model']}"), maker=mid, model=model, pattern=pattern,
                family=family, capability=node["capability"], reported=str(node["reported"]),
                source=sources[0], sources=sources))
    return out, legal, str(doc.get("checked", ""))

