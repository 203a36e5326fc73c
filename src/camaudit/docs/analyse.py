"""A document's pages -> findings, set-aside mentions and the models it names.

Pure (no I/O): the knowledge comes in through the policy set, as for a device.

restricted-maker  a model number whose maker (``models.py``) a selected regime names:
                  the regimes come from :func:`camaudit.assess.assess` on a device built
                  from the document's words (maker, brand, model), so a document and the
                  network agree on ids, severities, leads and sources. One finding per
                  model and line: ``id`` is the most severe regime, ``regimes`` all of them.
                  A maker reached only through an OEM brand is ``possible`` (confirmed
                  link) or a ``lead`` (unconfirmed; low, as every lead).
analytics-claim   a vocabulary claim (``claims.py``) scored as a finding, id
                  ``claim:<term>``; or a model a report names as offering ethnicity
                  analytics (``analytics.yaml``), id ``analytics:<record>``, as for devices.
platform          a platform feature of the vocabulary, id ``platform:<term>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from camaudit.assess import PolicySet, assess
from camaudit.docs.claims import Hit, scan_pages
from camaudit.docs.models import Mention, find_models
from camaudit.docs.pages import Page
from camaudit.docs.vocabulary import Vocabulary
from camaudit.model import SEVERITIES, Device, Finding

_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_SURE = {"open": 0, "possible": 1, "lead": 2}


@dataclass
class DocFinding:
    id: str
    kind: str  # restricted-maker | analytics-claim | platform
    severity: str
    page: int
    line: int
    text: str
    source: str
    status: str = "open"
    model: str | None = None
    manufacturer: str | None = None
    brand: str | None = None
    term: str | None = None
    title: str = ""
    detail: str = ""
    score: float | None = None
    regimes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "severity": self.severity,
                "status": self.status, "page": self.page, "line": self.line,
                "text": self.text, "model": self.model, "manufacturer": self.manufacturer,
                "brand": self.brand, "term": self.term, "source": self.source,
                "title": self.title, "detail": self.detail, "score": self.score,
                "regimes": list(self.regimes)}


@dataclass
class Analysis:
    findings: list[DocFinding]
    set_aside: list[dict[str, Any]]  # vocabulary hits that are not findings, with why
    models: list[dict[str, Any]]  # every model number resolved (or not) to a maker
    language: str | None


def language(pages: list[Page]) -> str | None:
    """'zh', 'en' or 'mixed' by the share of Han characters against Latin words."""
    han = latin = 0
    for page in pages:
        for line in page.lines:
            for ch in line:
                if "\u4e00" <= ch <= "\u9fff":
                    han += 1
                elif ch.isascii() and ch.isalpha():
                    latin += 1
    words = latin / 5  # about five letters to an English word; a Han character is a word
    if han + words < 5:
        return None
    share = han / (han + words)
    return "zh" if share >= 0.8 else "en" if share <= 0.2 else "mixed"


def analyse(pages: list[Page], policies: PolicySet, vocab: Vocabulary) -> Analysis:
    hits = scan_pages(pages, vocab)
    findings = [_from_hit(h) for h in hits if h.severity is not None]
    aside = [{"page": h.page, "line": h.line, "term": h.term.id, "kind": h.term.kind,
              "matched": h.matched, "why": h.why, "score": h.score, "text": h.text}
             for h in hits if h.severity is None]
    mentions = find_models(pages)
    cache: dict[tuple[str, str | None, str | None, str | None], list[Finding]] = {}
    order = {rid: i for i, rid in enumerate(policies.knowledge.regimes)}  # the file's order
    for mention in mentions:
        if mention.manufacturer is None:
            continue
        key = (mention.model, mention.manufacturer, mention.brand, mention.device_type)
        if key not in cache:
            device = Device(address="document", device_type=mention.device_type,  # type: ignore[arg-type]
                            brand=mention.brand, manufacturer=mention.manufacturer,
                            model=mention.model)
            cache[key] = assess(device, policies)
        findings.extend(_from_mention(mention, cache[key], order))
    findings.sort(key=lambda f: (f.page, f.line, -_RANK[f.severity], f.id))
    models = [{"model": m.model, "manufacturer": m.manufacturer, "brand": m.brand,
               "device_type": m.device_type, "page": m.page, "line": m.line,
               "status": m.status, "how": m.how} for m in mentions]
    return Analysis(findings=findings, set_aside=aside, models=models,
                    language=language(pages))


def _from_hit(hit: Hit) -> DocFinding:
    term = hit.term
    prefix = "claim" if term.kind == "analytics-claim" else "platform"
    what = ("a claim of protected-trait analytics" if term.kind == "analytics-claim"
            else "a surveillance-platform feature")
    return DocFinding(
        id=f"{prefix}:{term.id}", kind=term.kind, severity=str(hit.severity), page=hit.page,
        line=hit.line, text=hit.text, source=term.sources[0].url, term=hit.matched,
        score=hit.score, title=f"{term.what} ({hit.matched!r})",
        detail=(f"The document names {hit.matched!r}, {what}: {term.what}. Score "
                f"{hit.score:.2f} (not negated, not a sentence of law or policy). Reported "
                "use: " + "; ".join(s.title for s in term.sources) + "."))


def _from_mention(mention: Mention, found: list[Finding],
                  order: dict[str, int]) -> list[DocFinding]:
    out = []
    restrictions = [f for f in found if f.kind == "restriction"]
    if restrictions:
        def rank(f: Finding) -> tuple[int, int, int, str]:
            return (_SURE.get(f.status, 1), -_RANK[f.severity], order.get(f.id, 999), f.id)
        restrictions.sort(key=rank)
        top = restrictions[0]
        status = max(top.status, mention.status, key=lambda s: _SURE.get(s, 1))
        severity = top.severity if status != "lead" else "low"
        regimes = [f.id for f in restrictions]
        others = len(regimes) - 1
        out.append(DocFinding(
            id=top.id, kind="restricted-maker", severity=severity, status=status,
            page=mention.page, line=mention.line, text=mention.text, source=top.source,
            model=mention.model, manufacturer=mention.manufacturer, brand=mention.brand,
            term=mention.model, regimes=regimes,
            title=(f"{mention.manufacturer} model {mention.model}: {top.title}"
                   + (f" (and {others} more regime{'s' if others > 1 else ''})"
                      if others else "")),
            detail=(f"{mention.model} is {mention.manufacturer} equipment: {mention.how}"
                    + (f" (source: {mention.source})" if mention.source else "")
                    + f". {top.title}. Regimes naming {mention.manufacturer}: "
                    + ", ".join(regimes) + "."
                    + (" Lead, not a finding: the brand's link to the maker is unconfirmed."
                       if status == "lead" else ""))))
    for f in found:
        if f.kind != "analytics":
            continue
        out.append(DocFinding(
            id=f.id, kind="analytics-claim", severity=f.severity, status=f.status,
            page=mention.page, line=mention.line, text=mention.text, source=f.source,
            model=mention.model, manufacturer=mention.manufacturer, brand=mention.brand,
            term=mention.model, title=f.title, detail=f.detail))
    return out
