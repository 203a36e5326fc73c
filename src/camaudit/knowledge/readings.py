"""camaudit's reading of restrictions.yaml (``data/readings.yaml``): ownership periods as
dates, and components a regime may reach inside another maker's device.

The researched file states periods and clauses in words; findings need dates to compare
and patterns to match. This reading adds no fact: each date it gives must be written in
the record it reads, and each clause quoted must be in the regime's scope, or loading
fails (so an updated knowledge file that changes a period is noticed, not misread).
A Lorex firmware built 2020-06-05 is ``during`` Dahua's ownership (2018-02-06 until
2022-11-24 or 2023); one built in mid-2023 is ``disputed``; one built in 2024 ``after``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from camaudit.knowledge import yamlio
from camaudit.knowledge.makers import norm
from camaudit.knowledge.paths import data_path
from camaudit.knowledge.restrictions import BrandLink, Company, Regime, cite

Phase = Literal["before", "during", "disputed", "after"]


def _bounds(value: Any) -> tuple[date, date, str]:
    """(earliest day, latest day, as written) of a date or a year."""
    if isinstance(value, date):
        return value, value, value.isoformat()
    text = str(value)
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        return date(year, 1, 1), date(year, 12, 31), text
    return date.fromisoformat(text), date.fromisoformat(text), text


@dataclass(frozen=True)
class Ownership:
    """When `link.company` owned `link.name`; two bounds when the sources disagree."""

    link: BrandLink
    start: tuple[date, date]  # earliest, latest possible first day
    end: tuple[date, date]  # earliest, latest possible last day
    starts: str  # as the knowledge file writes it: "2018-02-06"
    ends: str  # "2022-11-24 or 2023"

    def classify(self, day: date) -> Phase:
        if day < self.start[0]:
            return "before"
        if day > self.end[1]:
            return "after"
        if self.start[1] <= day <= self.end[0]:
            return "during"
        return "disputed"

    @property
    def span(self) -> str:
        """'from 2018-02-06 until 2022-11-24 or 2023' in the file's own dates."""
        return f"from {self.starts} until {self.ends}"


@dataclass(frozen=True)
class Component:
    """A part inside another maker's device that a regime may reach (a lead, never more)."""

    id: str
    link: BrandLink
    regime: str
    clause: str
    model: re.Pattern[str] | None
    evidence: tuple[str, ...]
    source: str
    sources: tuple[str, ...]

    def telltale(self, model: str | None, evidence_sources: list[str]) -> str | None:
        """What in the device shows the component, or None."""
        if model and self.model is not None and self.model.search(model):
            return f"model {model} is a {self.link.name} part number"
        for text in evidence_sources:
            for needle in self.evidence:
                if needle.casefold() in text.casefold():
                    return f"an identification rule's source says '{needle}' ({text})"
        return None


@dataclass(frozen=True)
class Readings:
    ownership: dict[str, list[Ownership]]  # normalised brand -> periods
    components: list[Component]
    checked: str


def _link(where: yamlio.Where, node: yamlio.LDict, companies: dict[str, Company]) -> BrandLink:
    company = companies.get(str(node.get("company")))
    brand = norm(str(node.get("brand")))
    links = [b for b in company.brands if norm(b.name) == brand] if company else []
    if not links:
        raise where.error(node, "brand", f"restrictions.yaml ties no brand {node.get('brand')!r} "
                          f"to company {node.get('company')!r}")
    return links[0]


def _ownership(where: yamlio.Where, node: yamlio.LDict, link: BrandLink) -> Ownership:
    said = f"{link.period or ''} {link.note or ''}"
    parts = []
    for key in ("from", "until"):
        raw = node.get(key)
        values = list(raw) if isinstance(raw, list) else [raw]
        if not values or values[0] is None or len(values) > 2:
            raise where.error(node, key, f"{key!r} must be a date, a year or two of them")
        bounds = [_bounds(v) for v in values]
        for _, _, text in bounds:
            if text not in said:
                raise where.error(node, key, f"{text} is not in restrictions.yaml's period or "
                                  f"note of {link.name}: the reading no longer matches the file")
        parts.append((bounds[0][0], bounds[-1][1], " or ".join(b[2] for b in bounds)))
    (s0, s1, starts), (e0, e1, ends) = parts
    return Ownership(link=link, start=(s0, s1), end=(e0, e1), starts=starts, ends=ends)


def load_readings(companies: dict[str, Company], regimes: dict[str, Regime]) -> Readings:
    """The reading, checked against the knowledge file in use."""
    doc = yamlio.load(data_path("readings.yaml"))
    where = yamlio.Where("readings.yaml")
    ownership: dict[str, list[Ownership]] = {}
    for node in doc.get("ownership") or []:
        link = _link(where, node, companies)
        ownership.setdefault(norm(link.name), []).append(_ownership(where, node, link))
    components = []
    for node in doc.get("components") or []:
        link = _link(where, node, companies)
        regime = regimes.get(str(node.get("regime")))
        if regime is None:
            raise where.error(node, "regime", f"unknown regime {node.get('regime')!r}")
        clause = " ".join(str(node.get("clause", "")).split())
        if not clause or clause not in regime.scope:
            raise where.error(node, "clause", f"the clause is not in the scope of {regime.id}")
        sources = tuple(cite(s) for s in node.get("sources") or [])
        if not sources:
            raise where.error(node, None, "a component reading needs its sources")
        pattern = node.get("model")
        components.append(Component(
            id=str(node["id"]), link=link, regime=regime.id, clause=clause,
            model=re.compile(pattern, re.IGNORECASE) if pattern else None,
            evidence=tuple(str(e) for e in node.get("evidence") or ()), source=sources[0],
            sources=sources))
    return Readings(ownership=ownership, components=components,
                    checked=str(doc.get("checked", "")))
