"""Model numbers in a document, resolved to their maker with identify's own rules.

A token that looks like a model number (letters and digits, usually with hyphens) is
matched against the model-number grammars of ``identify/rules/model.yaml`` and
``models_more.yaml`` — the same rules that read a model a device reports — through
:func:`camaudit.identify.match.match_fields`. The maker comes from, in order:

1. the grammar itself (``DS-2CD…`` is a Hikvision camera; ``DH-IPC-…`` Dahua): open;
2. a maker named just before the model ("Dahua IPC-HFW2431S", "海康威视 DS-…"): open;
3. a brand named just before it, or given by the grammar ("LTS CMIP…", "Amcrest
   IP8M-…"), through the OEM links of ``oem.yaml``: *possible* when the link is
   confirmed (a brand sells at least some of the maker's hardware, not necessarily
   this model), a *lead* when it is not.

Nothing else names a maker: a brand or maker named without a model is not a finding
(a compliance clause names them too), and a model no grammar knows and no name
precedes stays unknown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from camaudit.docs.pages import Page
from camaudit.identify.match import match_fields
from camaudit.identify.rules import Rule, load_rules
from camaudit.knowledge import makers

GRAMMAR_FILES = ("model.yaml", "models_more.yaml")
_FIELDS = ("model", "model_name")
_SPLIT = re.compile(r"[\s\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
                    r",;:\"'“”‘’<>\[\]{}=*#]+")
_TRIM = "()[]{}.,;:!?*"
_HAN_TAIL = re.compile(r"[\u4e00-\u9fff]{2,12}$")
_WORD_TAIL = re.compile(r"([A-Za-z][A-Za-z0-9&.\-]*(?:\s+[A-Za-z][A-Za-z0-9&.\-]*){0,2})\s*$")
#: A bare model number: capitals and digits, a digit in it, hyphen/slash-joined parts.
_MODEL_SHAPE = re.compile(r"^[A-Z][A-Z0-9]*\d[A-Z0-9]*(?:[-/][A-Z0-9()+]+)*$")
_NOT_MODEL = re.compile(r"(?i)^(?:ISO|IEC|EN|GB|GA|NDAA|FCC|CVE|RFC|IEEE|UTF|USD|EUR|RMB|"
                        r"COVID|H\.?26[45]|MPEG|IP6\d|IK\d+|POE|ONVIF|HTTP|PAGE|NO)\b")


@dataclass(frozen=True)
class Mention:
    """A model number at one place, and the maker it resolves to (or None)."""

    model: str
    page: int
    line: int
    text: str  # the line
    manufacturer: str | None
    brand: str | None
    device_type: str | None
    how: str  # how the maker was found (or why not)
    status: str  # open | possible | lead (how sure the maker is)
    source: str  # the rule's or the OEM link's source


@cache
def grammars() -> tuple[Rule, ...]:
    """The model-number rules of identify that read a `model` field."""
    rules = load_rules(recog=False).rules
    return tuple(r for r in rules if r.file in GRAMMAR_FILES
                 and any(f in r.fields for f in _FIELDS))


def tokens(line: str) -> Iterator[tuple[int, str]]:
    """(offset, token) of every model-shaped word of a normalised line."""
    pos = 0
    for piece in _SPLIT.split(line):
        at = line.find(piece, pos) if piece else pos
        pos = at + len(piece)
        word = piece.strip(_TRIM)
        if "|" in word and "-" in word:
            word = word.replace("|", "I")  # OCR reads a final I as |
        if not (5 <= len(word) <= 40) or not re.search(r"\d", word):
            continue
        if not re.search(r"[A-Za-z]", word) or "@" in word or "://" in word:
            continue
        yield at + piece.find(word[:1]), word


def _says(word: str) -> tuple[dict[str, str], Rule | None]:
    """What the grammars say about `word` (manufacturer, brand, device_type)."""
    said: dict[str, str] = {}
    first: Rule | None = None
    values = {name: word for name in _FIELDS}
    for rule in grammars():
        found = match_fields(rule, dict(values))
        if found is None:
            continue
        for key in ("manufacturer", "brand", "device_type"):
            if key in found[2] and key not in said:
                said[key] = found[2][key]
                if key in ("manufacturer", "brand") and first is None:
                    first = rule
        if first is None:
            first = rule
    return said, first


def _name_before(line: str, at: int) -> tuple[str | None, str | None]:
    """(maker, brand) named right before offset `at`: the 1-3 words or Han run before it."""
    before = line[:at].rstrip(" :-–(（|")
    candidates: list[str] = []
    han = _HAN_TAIL.search(before)
    if han:
        run = han.group(0)
        candidates += [run[-n:] for n in range(len(run), 1, -1)]
    words = _WORD_TAIL.search(before)
    if words:
        parts = words.group(1).split()
        candidates += [" ".join(parts[-n:]) for n in range(len(parts), 0, -1)]
    for name in candidates:
        own = makers.canonical(name)
        if any(link.maker != own for link in makers.oem_links(name)):
            return None, name  # a label (Amcrest) of another maker's hardware (Dahua)
        if own:
            return own, None
    return None, None


_Resolved = tuple[str | None, str | None, str | None, str, str, str]


def _resolve(word: str, line: str, at: int) -> list[_Resolved]:
    """[(manufacturer, brand, device_type, how, status, source)] for a model token."""
    said, rule = _says(word)
    device_type = said.get("device_type")
    maker_before, brand_before = _name_before(line, at)
    if said.get("manufacturer"):
        where = f"{rule.file} {rule.id}" if rule else "model grammar"
        return [(said["manufacturer"], brand_before, device_type,
                 f"the model-number grammar of {said['manufacturer']} ({where})", "open",
                 rule.source if rule else "")]
    if rule is None and not (maker_before or brand_before):
        return []
    if (rule is None and not _MODEL_SHAPE.match(word)) or _NOT_MODEL.match(word):
        return []
    if maker_before:
        return [(maker_before, None, device_type, f"{maker_before} is named before the model",
                 "open", "the document")]
    brand = said.get("brand") or brand_before
    if not brand:
        return [(None, None, device_type, "model grammar names no maker", "open",
                 rule.source if rule else "")]
    links = makers.oem_links(brand)
    if not links:
        return [(None, brand, device_type, f"brand {brand}: no OEM link known", "open", "")]
    out: list[_Resolved] = []
    for link in links:
        sure = "confirmed" if link.confirmed else "unconfirmed"
        out.append((link.maker, brand, device_type,
                    f"brand {brand} sells {link.maker} hardware per oem.yaml ({link.relation}, "
                    f"{sure}; at least some products, not necessarily this model)",
                    "possible" if link.confirmed else "lead", link.source))
    return out


def find_models(pages: list[Page]) -> list[Mention]:
    """Every model number the grammars or a preceding name resolve, page by page."""
    from camaudit.docs.claims import normalise

    out: list[Mention] = []
    seen: set[tuple[str, int, int, str | None]] = set()
    for page in pages:
        if page.not_read:
            continue
        for index, raw in enumerate(page.lines):
            line = normalise(raw)
            if not re.search(r"\d", line):
                continue
            for at, word in tokens(line):
                model = unicodedata.normalize("NFKC", word)
                for maker, brand, device_type, how, status, source in _resolve(model, line, at):
                    key = (model, page.number, index, maker)
                    if key in seen:
                        continue
                    seen.add(key)
                    out.append(Mention(model=model, page=page.number, line=page.start + index,
                                       text=line[:240], manufacturer=maker, brand=brand,
                                       device_type=device_type, how=how, status=status,
                                       source=source))
    return out
