"""Protected-trait words of device APIs (``analytics_terms.yaml``) and the matcher, sans-IO.

assess compares the capability and attribute names a device states (``analytics``
observations) with these words. Matching is by whole words, so ``emRace`` and
``SkinColor`` match while ``traceRoute`` or ``isSupportRacm`` do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from camaudit.errors import ConfigError
from camaudit.knowledge import yamlio
from camaudit.knowledge.paths import data_path

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_A-Za-z]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Trait:
    id: str
    trait: str
    words: tuple[tuple[str, ...], ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Terms:
    traits: tuple[Trait, ...]
    platform_id: str
    platform_name: str
    platform_source: str
    checked: str


def words(name: str) -> list[str]:
    """A device's name split into lower-case words (camelCase, digits and separators)."""
    return [w.lower() for w in _CAMEL.findall(name[:256])]


def match(terms: Terms, name: str) -> Trait | None:
    """The protected trait `name` names, if any."""
    found = words(name)
    for trait in terms.traits:
        for phrase in trait.words:
            if _CJK.search(phrase[0]):
                if phrase[0] in name:
                    return trait
                continue
            n = len(phrase)
            if any(tuple(found[i:i + n]) == phrase for i in range(len(found) - n + 1)):
                return trait
    return None


@lru_cache(maxsize=1)
def load_terms() -> Terms:
    """The shipped vocabulary, checked (a trait without words or sources is an error)."""
    path = data_path("analytics_terms.yaml")
    doc = yamlio.load(path)
    traits = []
    for node in doc.get("traits") or []:
        phrases = tuple(tuple(str(w).lower() for w in p) for p in node.get("words") or [])
        sources = tuple(f"{s['what']} ({s['where']})" for s in node.get("sources") or [])
        if not phrases or not sources:
            raise ConfigError(f"{path}:{node.line}: trait {node.get('id')!r} needs words "
                              "and sources")
        traits.append(Trait(str(node["id"]), str(node["trait"]), phrases, sources))
    platform = doc["platform"]
    return Terms(tuple(traits), str(platform["id"]), str(platform["name"]),
                 str(platform["source"]), str(doc.get("checked", "")))
