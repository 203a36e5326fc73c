"""OEM links for identification: which makers a brand shown on a device may come from.

A brand is the name on the box; the same brand buys from several factories,
so a brand alone is only a *hint* of the maker, kept below the fusion
threshold (see ``rules/README.md``). The protocol telltales of a maker (rules)
decide the manufacturer.

The data are derived from the team's sourced knowledge base
(``shared/kb/oem.yaml``: brands -> makers, MAC OUI telltales) and the IEEE
OUI registry copy in netaddr, by :func:`build_brand_table` and
:func:`build_mac_rules`, and bundled as ``oem_brands.yaml`` and
``rules/mac_oui.yaml``; a test regenerates both and fails when they are stale.
When ``camaudit.knowledge`` grows a brand map, this module should read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from camaudit.errors import ConfigError

#: shared/kb/oem.yaml maker ids -> the maker names of docs/CONTRACTS.md.
MAKER_IDS: dict[str, str] = {
    "hikvision": "Hikvision", "dahua": "Dahua", "xiongmai": "Xiongmai", "uniview": "Uniview",
    "tvt": "TVT", "tiandy": "Tiandy", "milesight": "Milesight", "reolink": "Reolink",
    "huawei": "Huawei",
}

#: Weight of the maker hint a brand gives (below the 0.6 threshold on purpose).
HINT_CONFIRMED = 0.3
HINT_UNCONFIRMED = 0.15

#: Camera makers whose own IEEE registrations are used as OUI telltales, with the
#: registrant text as it appears in the IEEE MA-L list (netaddr 1.3.0 copy).
REGISTRY_MAKERS: dict[str, str] = {
    "Axis": "Axis Communications AB",
    "Bosch": "Bosch Security Systems",
    "Mobotix": "Mobotix AG",
    "Vivotek": "Vivotek, Inc.",
    "Reolink": "Reolink Innovation Limited",
    "GeoVision": "GeoVision Inc.",
    "Ubiquiti": "Ubiquiti Inc",
}

KB_SOURCE = ("camaudit shared/kb/oem.yaml (checked 2026-11-23), itself citing the IEEE MA-L "
             "registry copy in netaddr 1.3.0 https://github.com/netaddr/netaddr/blob/master/"
             "netaddr/eui/oui.txt")
IEEE_SOURCE = ("IEEE MA-L registry copy bundled in netaddr 1.3.0 (netaddr/eui/oui.txt, "
               "https://pypi.org/project/netaddr/1.3.0/); canonical "
               "https://standards-oui.ieee.org/oui/oui.txt")


@dataclass(frozen=True)
class BrandLink:
    brand: str
    aliases: tuple[str, ...]
    makers: tuple[str, ...]
    confirmed: bool


def _aliases(name: str) -> list[str]:
    """'LTS (LT Security)' -> ['LTS (LT Security)', 'LTS', 'LT Security']."""
    out = [name]
    base = re.sub(r"\s*\(.*\)\s*", " ", name).strip()
    out.append(base)
    inner = re.findall(r"\(([^)]*)\)", name)
    for text in inner:
        if text[:1].isupper() and not text.lower().startswith("former"):
            out.append(text.strip())
    for part in base.split("/"):
        out.append(part.strip())
    seen: list[str] = []
    for alias in out:
        if alias and alias not in seen and alias.lower() not in {"video", "india", "australia"}:
            seen.append(alias)
    return seen


def build_brand_table(kb: dict[str, Any]) -> list[dict[str, Any]]:
    """The compact brand table derived from a parsed shared/kb/oem.yaml."""
    table = []
    for entry in kb.get("brands") or []:
        makers = [MAKER_IDS[m] for m in entry.get("makers") or [] if m in MAKER_IDS]
        if not makers:
            continue
        table.append({"brand": entry["brand"], "aliases": _aliases(str(entry["brand"])),
                      "makers": makers, "confirmed": bool(entry.get("confirmed"))})
    return table


def _oui_pattern(prefixes: list[str]) -> str:
    parts = sorted({p.upper().replace("-", ":") for p in prefixes})
    alts = "|".join(p.replace(":", "[:-]?") for p in parts)
    return f"^(?:{alts})"


def _registry(oui_txt: str, registrant: str) -> list[str]:
    pat = re.compile(r"^([0-9A-F]{2}-[0-9A-F]{2}-[0-9A-F]{2})\s+\(hex\)\s+(.+?)\s*$", re.M)
    return sorted({m.group(1).replace("-", ":") for m in pat.finditer(oui_txt)
                   if m.group(2) == registrant})


def build_mac_rules(kb: dict[str, Any], oui_txt: str) -> dict[str, Any]:
    """The ``rules/mac_oui.yaml`` document: one rule per maker OUI block."""
    rules: list[dict[str, Any]] = []
    for tell in kb.get("telltales") or []:
        if tell.get("kind") != "mac-oui" or tell.get("maker") not in MAKER_IDS:
            continue
        maker = MAKER_IDS[tell["maker"]]
        slug = re.sub(r"[^a-z0-9]+", "-", str(tell.get("registrant", "")).lower()).strip("-")
        confirmed = tell.get("confirmed", True) is not False
        rules.append(_mac_rule(f"oui-{tell['maker']}-{slug[:24].strip('-')}", maker,
                               list(tell["value"]), 0.7 if confirmed else 0.4,
                               f"{KB_SOURCE}; registrant {tell.get('registrant')!r}",
                               tell.get("note")))
    for maker, registrant in REGISTRY_MAKERS.items():
        prefixes = _registry(oui_txt, registrant)
        if prefixes:
            slug = re.sub(r"[^a-z0-9]+", "-", maker.lower())
            rules.append(_mac_rule(f"oui-{slug}", maker, prefixes, 0.7,
                                   f"{IEEE_SOURCE}; registrant {registrant!r}", None))
    return {"rules": rules}


def _mac_rule(rid: str, maker: str, prefixes: list[str], weight: float, source: str,
              note: Any) -> dict[str, Any]:
    first = sorted(p.upper() for p in prefixes)[0]
    rule: dict[str, Any] = {
        "id": rid, "probe": ["mac", "isapi", "dahua-rpc2", "upnp", "onvif", "dhip", "ubnt"],
        "field": "mac",
        "pattern": _oui_pattern(prefixes), "ignore_case": True,
        "says": {"manufacturer": maker}, "weight": weight, "source": source,
        "checked": "2026-11-25",
        "examples": [
            {"value": f"{first}:12:34:56", "expect": {"manufacturer": maker}},
            {"value": first.replace(":", "").lower() + "123456",
             "expect": {"manufacturer": maker}},
            {"value": "00:00:5e:00:53:01", "expect": None},
        ],
    }
    if isinstance(note, str):
        rule["note"] = note
    return rule


def render_generated(doc: dict[str, Any] | list[Any], what: str) -> str:
    """YAML text of a generated data file, with a do-not-edit header."""
    head = (f"# {what}\n# GENERATED by camaudit.identify.oem from shared/kb/oem.yaml and the "
            "IEEE registry copy in netaddr;\n# do not edit by hand: regenerate "
            "(tests/identify/test_oem.py checks it is current).\n")
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return head + body.replace("'2026-11-25'", "2026-11-25")


@lru_cache(maxsize=1)
def brand_links() -> tuple[BrandLink, ...]:
    """The bundled brand table."""
    try:
        text = (resources.files("camaudit.identify") / "oem_brands.yaml").read_text("utf-8")
        doc = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"oem_brands.yaml: cannot be read: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("brands"), list):
        raise ConfigError("oem_brands.yaml:1: expected a mapping with a 'brands' list")
    return tuple(BrandLink(str(b["brand"]), tuple(b["aliases"]), tuple(b["makers"]),
                           bool(b["confirmed"])) for b in doc["brands"])


@lru_cache(maxsize=256)
def maker_hints(brand: str) -> tuple[tuple[str, float, str], ...]:
    """(maker, weight, why) hints for a brand shown on a device; () when none."""
    key = brand.casefold().strip()
    for link in brand_links():
        if any(a.casefold() == key for a in link.aliases):
            weight = HINT_CONFIRMED if link.confirmed else HINT_UNCONFIRMED
            weight /= len(link.makers)
            why = (f"possible maker via OEM brand {link.brand!r} -> {'/'.join(link.makers)} "
                   f"(shared/kb/oem.yaml, {'confirmed' if link.confirmed else 'unconfirmed'})")
            return tuple((m, weight, why) for m in link.makers)
    return ()


def regenerate(kb_path: Path, oui_path: Path, out_dir: Path) -> None:
    """Write oem_brands.yaml and rules/mac_oui.yaml from the sources (maintainer tool)."""
    kb = yaml.safe_load(kb_path.read_text("utf-8"))
    oui_txt = oui_path.read_text("utf-8", errors="replace")
    (out_dir / "oem_brands.yaml").write_text(render_generated(
        {"source": KB_SOURCE, "brands": build_brand_table(kb)},
        "Brand -> possible maker(s): hints only, never proof of maker."), "utf-8")
    (out_dir / "rules" / "mac_oui.yaml").write_text(render_generated(
        build_mac_rules(kb, oui_txt), "MAC OUI telltales of camera makers."), "utf-8")
