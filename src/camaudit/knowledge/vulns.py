"""Vulnerability records (``data/vulns.yaml``) and the question "is this device affected?".

:func:`match` is pure and cheap (regexes compiled at load): it answers
``affected``, ``possible`` (with the reason: firmware not read, unparsed, of
another version line, or the source gives no range) or None (not affected or
not a model the record names). See the header of ``vulns.yaml`` for the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from camaudit.knowledge import versions, yamlio
from camaudit.knowledge.makers import maker_id
from camaudit.knowledge.paths import data_path

Outcome = Literal["affected", "possible"]
_RANGE_KEYS = {"models", "device_types", "from", "through", "before", "built_from",
               "built_before", "status", "note"}
_RECORD_KEYS = {"cve", "makers", "title", "cvss", "sources", "note", "affected"}


@dataclass(frozen=True)
class Range:
    models: re.Pattern[str]
    device_types: frozenset[str] | None
    from_: versions.Firmware | None = None
    through: versions.Firmware | None = None
    before: versions.Firmware | None = None
    built_from: date | None = None
    built_before: date | None = None
    possible: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Vuln:
    cve: str
    makers: frozenset[str]
    title: str
    cvss: float | None
    source: str  # URL of the first source: what a finding cites
    sources: tuple[str, ...]
    note: str
    ranges: tuple[Range, ...]


@dataclass(frozen=True)
class Match:
    outcome: Outcome
    why: str  # e.g. "firmware V5.4.5 build 170124 built before 2021-06-28"


def _version(where: yamlio.Where, node: yamlio.LDict, key: str) -> versions.Firmware | None:
    text = where.string(node, key, required=False)
    if text is None:
        return None
    fw = versions.parse(text)
    if fw is None:
        raise where.error(node, key, f"{key!r}: cannot read firmware version {text!r}")
    return fw


def _range(where: yamlio.Where, parent: yamlio.LList, index: int) -> Range:
    node = where.item(parent, index, "a range")
    where.check_keys(node, _RANGE_KEYS, "a range")
    pattern = where.string(node, "models")
    try:
        models = re.compile(pattern or "", re.IGNORECASE)
    except re.error as exc:
        raise where.error(node, "models", f"'models' is not a valid regex ({exc})") from exc
    status = where.string(node, "status", required=False) or "affected"
    if status not in ("affected", "possible"):
        raise where.error(node, "status", "'status' must be affected or possible")
    types = where.strings(node, "device_types")
    return Range(models=models, device_types=frozenset(types) if types else None,
                 from_=_version(where, node, "from"), through=_version(where, node, "through"),
                 before=_version(where, node, "before"),
                 built_from=where.day(node, "built_from", required=False),
                 built_before=where.day(node, "built_before", required=False),
                 possible=status == "possible", note=where.string(node, "note", required=False))


def parse_records(doc: Any, origin: str) -> list[Vuln]:
    """Validate a vulns.yaml document; ConfigError names the file and line."""
    where = yamlio.Where(origin)
    root = where.mapping(doc, None, "the document")
    items = root.get("vulnerabilities")
    if not isinstance(items, list):
        raise where.error(root, "vulnerabilities", "'vulnerabilities' must be a list")
    out: list[Vuln] = []
    for i in range(len(items)):
        node = where.item(items, i, "a vulnerability record")
        where.check_keys(node, _RECORD_KEYS, "a vulnerability record")
        cve = where.string(node, "cve") or ""
        if not re.fullmatch(r"CVE-\d{4}-\d{4,19}", cve):
            raise where.error(node, "cve", f"{cve!r} is not CVE-YYYY-NNNN")
        makers = where.strings(node, "makers")
        ids = [maker_id(m) for m in makers]
        if not makers or None in ids:
            raise where.error(node, "makers", f"'makers' must name known makers, got {makers}")
        sources = node.get("sources")
        if not isinstance(sources, list) or not sources:
            raise where.error(node, "sources", "no source, no finding: 'sources' is required")
        urls = tuple(str(s.get("url") or s.get("title")) for s in sources if isinstance(s, dict))
        ranges_node = node.get("affected")
        if not isinstance(ranges_node, yamlio.LList) or not ranges_node:
            raise where.error(node, "affected", "'affected' must be a non-empty list of ranges")
        cvss = node.get("cvss")
        out.append(Vuln(
            cve=cve, makers=frozenset(x for x in ids if x), title=where.string(node, "title") or "",
            cvss=float(cvss) if isinstance(cvss, int | float) else None, source=urls[0],
            sources=urls, note=" ".join(str(node.get("note") or "").split()),
            ranges=tuple(_range(where, ranges_node, j) for j in range(len(ranges_node)))))
    return out


def load_records(path: Path | None = None) -> list[Vuln]:
    p = path or data_path("vulns.yaml")
    return parse_records(yamlio.load(p), p.name if path is None else str(p))


def _check_range(rng: Range, firmware: str | None) -> tuple[str, str]:
    """('in'|'out'|'unknown', why) for one range whose models already matched."""
    bounds = (rng.from_, rng.through, rng.before)
    dates = (rng.built_from, rng.built_before)
    if not any(bounds) and not any(dates):
        return "in", "the source gives no firmware range"
    if not firmware:
        return "unknown", "firmware not read"
    fw = versions.parse(firmware)
    if fw is None:
        return "unknown", f"firmware {firmware!r} unparsed"
    if any(dates):
        if fw.build is None:
            return "unknown", f"build date of firmware {firmware!r} not read"
        if rng.built_from and fw.build < rng.built_from:
            return "out", ""
        if rng.built_before and fw.build >= rng.built_before:
            return "out", ""
    for bound, allowed in ((rng.from_, (0, 1)), (rng.through, (-1, 0)), (rng.before, (-1,))):
        if bound is None:
            continue
        cmp = versions.compare(fw, bound)
        if cmp is None:
            return "unknown", f"firmware {firmware!r} cannot be compared with {bound.raw!r}"
        if cmp not in allowed:
            return "out", ""
    parts = []
    if rng.built_before:
        parts.append(f"built {fw.build} (before {rng.built_before})")
    if rng.from_ or rng.through or rng.before:
        lo = f"from {rng.from_.raw} " if rng.from_ else ""
        hi = (f"through {rng.through.raw}" if rng.through else
              f"before {rng.before.raw}" if rng.before else "")
        parts.append(f"firmware {firmware} in range {lo}{hi}".rstrip())
    return "in", "; ".join(parts)


def match(vuln: Vuln, model: str | None, device_type: str | None,
          firmware: str | None) -> Match | None:
    """Is a device (already known to be of one of `vuln.makers`) affected?"""
    verdicts: list[tuple[str, str]] = []
    for rng in vuln.ranges:
        if rng.device_types is not None and device_type not in rng.device_types:
            continue
        # Without a model only ranges covering every model of the maker can apply.
        if not (rng.models.search(model) if model else rng.models.pattern == "."):
            continue
        state, why = _check_range(rng, firmware)
        if state == "in" and rng.possible:
            state, why = "possible", rng.note or why
        verdicts.append((state, why))
    if not verdicts:
        return None
    for wanted in ("in", "possible"):
        for state, why in verdicts:
            if state == wanted:
                return Match("affected" if state == "in" else "possible", why)
    if any(state == "out" for state, _ in verdicts):
        return None
    return Match("possible", verdicts[0][1])

