"""Who made it: canonical maker names, and which brands sell which maker's hardware.

Used by identify (to name the real maker) and by assess (to explain a finding
"via OEM"). Two questions, two functions:

    >>> from camaudit.knowledge import makers
    >>> makers.canonical("HIKVISION")              # any alias or legal name
    'Hikvision'
    >>> [l.maker for l in makers.oem_links("Annke")]   # brand on the box -> maker(s)
    ['Hikvision']

Names are matched ignoring case, spaces, dots, commas and hyphens. Data:
``data/makers.yaml`` (names, legal names with sources) and ``data/oem.yaml``
(brand -> maker links: relation, `confirmed`, sources; see its header for what
`confirmed` means). A brand entry means "at least some products", never
"every product": the device itself must say who made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from camaudit.knowledge import yamlio
from camaudit.knowledge.paths import data_path, kb_path

__all__ = ["Maker", "OemLink", "all_makers", "canonical", "check_oem", "maker", "maker_id",
           "oem_links"]


@dataclass(frozen=True)
class Maker:
    id: str
    name: str
    legal: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class OemLink:
    """One oem.yaml claim: `brand` sells hardware of `maker` (relation, confirmed, sources)."""

    brand: str
    maker: str  # canonical name, e.g. "Hikvision"
    maker_id: str
    relation: str  # oem | subsidiary | former-subsidiary | reseller
    confirmed: bool
    sources: tuple[str, ...] = ()  # URLs (or titles when a source has no URL)
    period: str | None = None
    note: str | None = None

    @property
    def source(self) -> str:
        return self.sources[0] if self.sources else "oem.yaml (no source)"


@dataclass
class _Registry:
    makers: dict[str, Maker] = field(default_factory=dict)  # id -> Maker
    by_name: dict[str, str] = field(default_factory=dict)  # normalised name -> id
    links: dict[str, list[OemLink]] = field(default_factory=dict)  # normalised brand -> links
    checked: str = ""


_SQUASH = re.compile(r"[\s.,\-_/()]+")


def norm(name: str) -> str:
    """The matching key of a name: case-folded, without spaces and punctuation."""
    return _SQUASH.sub("", name.casefold())


def _source_text(src: object) -> str:
    if isinstance(src, dict):
        return str(src.get("url") or src.get("title") or "")
    return str(src)


@cache
def _registry() -> _Registry:
    reg = _Registry()
    where = yamlio.Where("makers.yaml")
    doc = yamlio.load(data_path("makers.yaml"))
    reg.checked = str(doc.get("checked", ""))
    for node in doc["makers"]:
        m = Maker(id=node["id"], name=node["name"], legal=tuple(node.get("legal", ())),
                  aliases=tuple(node.get("aliases", ())),
                  sources=tuple(_source_text(s) for s in node.get("sources", ())))
        reg.makers[m.id] = m
        for name in (m.id, m.name, *m.legal, *m.aliases):
            key = norm(name)
            if key in reg.by_name and reg.by_name[key] != m.id:
                raise where.error(node, "aliases", f"name {name!r} given to two makers")
            reg.by_name[key] = m.id
    brand_names: dict[str, list[str]] = dict(doc.get("brand_names") or {})
    oem = yamlio.load(kb_path("oem.yaml"))
    for node in oem["brands"]:
        label = node["brand"]
        names = brand_names.get(label, [label])
        for maker_key in node["makers"]:
            mid = reg.by_name.get(norm(maker_key), maker_key)
            mk = reg.makers.get(mid)
            if mk is None:
                raise yamlio.Where("oem.yaml").error(node, "makers", f"unknown maker {maker_key!r}")
            link = OemLink(brand=label, maker=mk.name, maker_id=mk.id,
                           relation=str(node.get("relation", "oem")),
                           confirmed=bool(node.get("confirmed", False)),
                           sources=tuple(_source_text(s) for s in node.get("sources", ())),
                           period=node.get("period"), note=node.get("note"))
            for name in names:
                reg.links.setdefault(norm(name), []).append(link)
    return reg


def check_oem(doc: object, origin: str) -> None:
    """Refuse an oem.yaml whose brand record lacks its sources, its `confirmed` flag or a
    known maker (``file:line: what``), before it replaces the copy in use."""
    where = yamlio.Where(origin)
    root = where.mapping(doc, None, "oem.yaml")
    brands = root.get("brands")
    if not isinstance(brands, list):
        raise where.error(root, None, "missing list 'brands'")
    for i in range(len(brands)):
        node = where.item(brands, i, "a brand")
        label = where.string(node, "brand")
        if not isinstance(node.get("sources"), list) or not node["sources"]:
            raise where.error(node, None, f"brand {label} has no sources")
        if not isinstance(node.get("confirmed"), bool):
            raise where.error(node, None, f"brand {label} has no confirmed: true|false flag")
        for name in where.strings(node, "makers"):
            if maker_id(name) is None:
                raise where.error(node, "makers", f"unknown maker {name!r} (makers.yaml)")


def maker_id(name: str | None) -> str | None:
    """The canonical id (e.g. ``hikvision``) of a maker name, alias or legal name."""
    if not name:
        return None
    return _registry().by_name.get(norm(name))


def canonical(name: str | None) -> str | None:
    """The canonical short name (e.g. ``Hikvision``) of any known spelling; None if unknown."""
    mid = maker_id(name)
    return _registry().makers[mid].name if mid else None


def maker(mid: str) -> Maker | None:
    """The record of a maker id."""
    return _registry().makers.get(mid)


def all_makers() -> list[Maker]:
    return list(_registry().makers.values())


def oem_links(brand: str | None) -> list[OemLink]:
    """The makers whose hardware `brand` is reported to sell (may be empty)."""
    if not brand:
        return []
    return list(_registry().links.get(norm(brand), []))


def forget() -> None:
    """Drop the parsed files (the OEM file in use changed); the next call reads them again."""
    _registry.cache_clear()


def checked() -> str:
    """Date the maker list was last checked."""
    return _registry().checked
