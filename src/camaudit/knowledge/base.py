"""All knowledge in one read-only object, loaded once per process.

:func:`knowledge` returns the cached :class:`KnowledgeBase`; :func:`reload`
drops the cache after ``camaudit update`` wrote a newer feed. Parsed data files
that an update cannot change (makers, oem, regimes) stay cached per process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache

from camaudit.knowledge import kev, makers, restrictions, yamlio
from camaudit.knowledge.paths import data_path
from camaudit.knowledge.vulns import Vuln, load_records


@dataclass
class KnowledgeBase:
    regimes: dict[str, restrictions.Regime]
    analytics: list[restrictions.AnalyticsProduct]
    legal: dict[str, str]  # eu-ai-act-art5-1g / gdpr-art9 -> citation URL
    vulns: list[Vuln]
    kev: kev.Catalogue
    versions: dict[str, str]
    vulns_by_maker: dict[str, list[Vuln]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for record in self.vulns:
            for mid in record.makers:
                self.vulns_by_maker.setdefault(mid, []).append(record)


_lock = threading.Lock()
_cached: KnowledgeBase | None = None


@cache
def _static() -> tuple[list[restrictions.Regime], str, list[restrictions.AnalyticsProduct],
                       dict[str, str], str, list[Vuln], str, str]:
    regimes, restr_checked = restrictions.load_regimes()
    analytics, legal, analytics_checked = restrictions.load_analytics()
    records = load_records()
    oem_checked = str(yamlio.load(data_path("oem.yaml")).get("checked", ""))
    vulns_checked = str(yamlio.load(data_path("vulns.yaml")).get("checked", ""))
    return (regimes, restr_checked, analytics, legal, analytics_checked, records, oem_checked,
            vulns_checked)


def _build() -> KnowledgeBase:
    (regimes, restr_checked, analytics, legal, analytics_checked, records, oem_checked,
     vulns_checked) = _static()
    catalogue = kev.current()
    versions = {
        "kev": catalogue.label,
        "vulns": vulns_checked,
        "restrictions": restr_checked,
        "oem": oem_checked,
        "makers": makers.checked(),
        "analytics": analytics_checked,
    }
    return KnowledgeBase(regimes={r.id: r for r in regimes}, analytics=analytics, legal=legal,
                         vulns=records, kev=catalogue, versions=versions)


def knowledge() -> KnowledgeBase:
    """The knowledge base (loaded on first use; thread-safe)."""
    global _cached
    with _lock:
        if _cached is None:
            _cached = _build()
        return _cached


def reload() -> None:
    """Forget the cached knowledge (after an update); the next use loads it again."""
    global _cached
    with _lock:
        _cached = None


def kb_versions() -> dict[str, str]:
    """Each data set and the date (or catalogue version) it reflects, for reports."""
    return dict(knowledge().versions)
