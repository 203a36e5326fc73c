"""The words a document is searched for (``data/vocabulary.yaml``), each with its sources.

Loaded and checked once: every term cites sources the file defines, every source has a
URL, every pattern compiles. A wrong file is a ConfigError ``file:line: what``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from camaudit.knowledge import yamlio

PATH = Path(__file__).with_name("data") / "vocabulary.yaml"
SEVERITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class Source:
    id: str
    url: str
    title: str


@dataclass(frozen=True)
class Term:
    id: str
    kind: str  # analytics-claim | platform
    what: str
    patterns: tuple[re.Pattern[str], ...]
    sources: tuple[Source, ...]
    strong: bool = False
    severity: str = "high"  # platform terms: their fixed severity
    needs_context: tuple[re.Pattern[str], ...] = ()  # spellings that need platform context


@dataclass(frozen=True)
class Vocabulary:
    checked: str
    claims: tuple[Term, ...]
    platform: tuple[Term, ...]
    context: re.Pattern[str]
    platform_context: re.Pattern[str]
    negation: re.Pattern[str]
    negation_after: re.Pattern[str]
    regulatory: re.Pattern[str]
    sources: dict[str, Source]


def _compile(where: yamlio.Where, node: yamlio.LDict, key: str) -> list[re.Pattern[str]]:
    out = []
    for text in where.strings(node, key):
        try:
            out.append(re.compile(text, re.IGNORECASE))
        except re.error as exc:
            raise where.error(node, key, f"pattern {text!r} does not compile: {exc}") from exc
    return out


def _union(where: yamlio.Where, doc: yamlio.LDict, key: str) -> re.Pattern[str]:
    items = _compile(where, doc, key)
    if not items:
        raise where.error(doc, key, f"{key!r} needs at least one pattern")
    return re.compile("|".join(f"(?:{p.pattern})" for p in items), re.IGNORECASE)


def parse(doc: object, origin: str) -> Vocabulary:
    where = yamlio.Where(origin)
    root = where.mapping(doc, None, "the vocabulary")
    sources: dict[str, Source] = {}
    for sid, node in where.mapping(root.get("sources"), "sources", "sources").items():
        node = where.mapping(node, None, f"source {sid}")
        url = where.string(node, "url") or ""
        if not url.startswith(("https://", "http://")):
            raise where.error(node, "url", f"source {sid} needs an http(s) URL")
        sources[str(sid)] = Source(str(sid), url, where.string(node, "title") or "")
    terms: dict[str, list[Term]] = {"claims": [], "platform": []}
    for key, kind in (("claims", "analytics-claim"), ("platform", "platform")):
        items = root.get(key)
        if not isinstance(items, list) or not items:
            raise where.error(root, key, f"missing list {key!r}")
        for i in range(len(items)):
            node = where.item(items, i, "a term")
            tid = where.string(node, "id") or ""
            cited = []
            for sid in where.strings(node, "sources"):
                if sid not in sources:
                    raise where.error(node, "sources", f"term {tid} cites unknown source {sid!r}")
                cited.append(sources[sid])
            if not cited:
                raise where.error(node, None, f"term {tid} has no sources (every term cites one)")
            patterns = _compile(where, node, "patterns")
            if not patterns:
                raise where.error(node, None, f"term {tid} has no patterns")
            severity = where.string(node, "severity", required=kind == "platform") or "high"
            if severity not in SEVERITIES:
                raise where.error(node, "severity", f"severity must be one of {SEVERITIES}")
            terms[key].append(Term(
                id=tid, kind=kind, what=where.string(node, "what") or tid,
                patterns=tuple(patterns), sources=tuple(cited),
                strong=bool(node.get("strong", False)), severity=severity,
                needs_context=tuple(_compile(where, node, "needs_context"))))
    return Vocabulary(
        checked=str(root.get("checked", "")), claims=tuple(terms["claims"]),
        platform=tuple(terms["platform"]), context=_union(where, root, "context"),
        platform_context=_union(where, root, "platform_context"),
        negation=_union(where, root, "negation"),
        negation_after=_union(where, root, "negation_after"),
        regulatory=_union(where, root, "regulatory"), sources=sources)


@cache
def vocabulary() -> Vocabulary:
    """The shipped vocabulary, parsed once."""
    return parse(yamlio.load(PATH), PATH.name)
