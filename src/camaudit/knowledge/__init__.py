"""Knowledge: who makes what, which laws name them, which firmware is exploited.

Data files ship in ``knowledge/data/`` (each record with its public source and
the date it was checked) and work offline; ``camaudit update --from FILE|URL``
refreshes the KEV catalogue, and ``--from DIR`` the restriction and OEM files (a
copy of shared/kb), into the user data directory (``paths.py``).

    makers.py        canonical maker names, legal names, brand -> maker OEM links
    versions.py      vendor firmware strings -> comparable versions (sans-IO)
    kev.py           the CISA KEV catalogue: parse, check, newest of shipped/updated
    vulns.py         affected models/firmware per CVE (vulns.yaml) and the matcher
    restrictions.py  restriction regimes (confirmed or not), the companies they name and
                     the brands tied to them; reported ethnicity-analytics products
    terms.py         protected-trait words of device APIs (analytics_terms.yaml), whole-word
                     matcher: what a device states it can analyse, never a person
    readings.py      camaudit's reading of restrictions.yaml: ownership periods as dates,
                     components a regime may reach (each checked against the file)
    base.py          everything loaded once: ``knowledge()``, ``kb_versions()``
    update.py        fetch + check + store a feed for ``camaudit update``
    yamlio.py        YAML with line numbers; errors as ``file:line: what``
"""

from __future__ import annotations

from camaudit.knowledge import makers
from camaudit.knowledge.base import KnowledgeBase, kb_versions, knowledge, reload

__all__ = ["KnowledgeBase", "kb_versions", "knowledge", "makers", "reload"]
