"""All knowledge in one read-only object, loaded once per process.

:func:`knowledge` returns the cached :class:`KnowledgeBase`; :func:`reload`
drops the cache after ``camaudit update`` wrote a newer feed. Parsed data files
stay cached per process; the ones ``update --from DIR`` may replace (restrictions,
oem) are parsed again when the copy in use changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache

from camaudit.knowledge import kev, makers, readings, restrictions, yamlio
from camaudit.knowledge.paths import KB_FILES, data_path, kb_path
from camaudit.knowledge.vulns import Vuln, load_records


@dataclass
class KnowledgeBase:
    regimes: dict[str, restrictions.Regime]
    companies: dict[str, restrictions.Company]
    readings: readings.Readings
    analytics: list[restrictions.AnalyticsProduct]
    legal: dict[str, str]  # eu-ai-act-art5-1g / gdpr-art9 -> citation URL
    vulns: list[Vuln]
    kev: kev.Catalogue
    versions: dict[str, str]
    vulns_by_maker: dict[str, list[Vuln]] = field(default_factory=dict)
    brand_links: dict[str, list[restrictions.BrandLink]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for record in self.vulns:
            for mid in record.makers:
                self.vulns_by_maker.setdefault(mid, []).append(record)
        self.brand_links = restrictions.brand_links(self.companies)

    def links_of(self, brand: str | None) -> list[restrictions.BrandLink]:
        """What restrictions.yaml ties `brand` to (subsidiary, former subsidiary...)."""
        return list(self.brand_links.get(makers.norm(brand), [])) if brand else []


_lock = threading.Lock()
_cached: KnowledgeBase | None = None
_signature: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class _Static:
    regimes: dict[str, restrictions.Regime]
    companies: dict[str, restrictions.Company]
    readings: readings.Readings
    analytics: list[restrictions.AnalyticsProduct]
    legal: dict[str, str]
    records: list[Vuln]
    checked: dict[str, str]


@cache
def _static() -> _Static:
    regimes, restr_checked = restrictions.load_regimes()
    by_id = {r.id: r for r in regimes}
    companies = restrictions.load_companies()
    reading = readings.load_readings(companies, by_id)
    analytics, legal, analytics_checked = restrictions.load_analytics()
    checked = {
        "vulns": str(yamlio.load(data_path("vulns.yaml")).get("checked", "")),
        "restrictions": restr_checked,
        "oem": str(yamlio.load(kb_path("oem.yaml")).get("checked", "")),
        "makers": makers.checked(),
        "analytics": analytics_checked,
        "readings": reading.checked,
    }
    return _Static(regimes=by_id, companies=companies, readings=reading, analytics=analytics,
                   legal=legal, records=load_records(), checked=checked)


def _kb_signature() -> tuple[tuple[str, int], ...]:
    """Which copies of the replaceable knowledge files are in use (path and mtime)."""
    out = []
    for name in KB_FILES:
        path = kb_path(name)
        try:
            out.append((str(path), path.stat().st_mtime_ns))
        except OSError:
            out.append((str(path), 0))
    return tuple(out)


def _build() -> KnowledgeBase:
    static = _static()
    catalogue = kev.current()
    versions = {"kev": catalogue.label, **static.checked}
    return KnowledgeBase(regimes=static.regimes, companies=static.companies,
                         readings=static.readings, analytics=static.analytics,
                         legal=static.legal, vulns=static.records, kev=catalogue,
                         versions=versions)


def knowledge() -> KnowledgeBase:
    """The knowledge base (loaded on first use; thread-safe)."""
    global _cached, _signature
    with _lock:
        if _cached is None:
            if not _signature:
                _signature = _kb_signature()
            _cached = _build()
        return _cached


def reload() -> None:
    """Forget the cached knowledge (after an update); the next use loads it again.

    The parsed restrictions and OEM files are dropped too when another copy of them is
    in use now (an `update --from DIR`, or another user data directory).
    """
    global _cached, _signature
    with _lock:
        _cached = None
        signature = _kb_signature()
        if signature != _signature:
            _static.cache_clear()
            makers.forget()
            _signature = signature


def kb_versions() -> dict[str, str]:
    """Each data set and the date (or catalogue version) it reflects, for reports."""
    return dict(knowledge().versions)
