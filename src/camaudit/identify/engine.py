"""identify(): observations of one host -> one Device, with evidence for every field.

Pure and fast (it runs for every host of a scan of thousands): the rules are
compiled once (:func:`rules.load_rules`), matching is indexed by probe and
field (:mod:`match`), and fusion is a few dictionary passes (:mod:`fusion`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from camaudit.identify.fusion import (
    MAKER_BRAND_RULE,
    OEM_HINT_RULE,
    FieldResult,
    confidence,
    conflicts,
    fuse,
)
from camaudit.identify.match import Hit, match_observation
from camaudit.identify.rules import SAYABLE, load_rules
from camaudit.model import Device, DeviceType, Evidence, Observation

OEM_SOURCE = "shared/kb/oem.yaml brand -> maker links (via identify/oem_brands.yaml)"


def rule_hits(observations: Sequence[Observation]) -> list[Hit]:
    """Every rule hit on these observations, in observation order."""
    ruleset = load_rules()
    hits: list[Hit] = []
    for obs in observations:
        hits.extend(match_observation(ruleset, obs))
    return hits


def _evidence(results: dict[str, FieldResult]) -> list[Evidence]:
    shas: dict[int, str] = {}
    out: list[Evidence] = []
    for key in SAYABLE:
        winner = results[key].winner
        if winner is None:
            continue
        for support in sorted(winner.support.values(), key=lambda s: -s.weight):
            hit = support.hit
            sha = ""
            if hit is not None:
                obs = hit.observation
                sha = shas.setdefault(id(obs), obs.sha256)
            hint = support.rule in (OEM_HINT_RULE, MAKER_BRAND_RULE) or hit is None
            out.append(Evidence(
                rule=support.rule, observation=f"sha256:{sha}" if sha else "",
                says=f"{key}~{winner.value} ({support.note})" if hint
                else f"{key}={winner.value}",
                weight=support.weight,
                source=hit.rule.source if hit is not None and support.rule != OEM_HINT_RULE
                else OEM_SOURCE))
    return out


def identify(address: str, observations: list[Observation]) -> Device:
    """What this host is, from what it said; unknown fields stay None."""
    results = fuse(rule_hits(observations))
    ports = sorted({o.port for o in observations if isinstance(o.port, int) and o.port > 0})
    device_type = results["device_type"].value
    return Device(
        address=address,
        ports=ports,
        mac=results["mac"].value,
        device_type=cast(DeviceType, device_type) if device_type else None,
        brand=results["brand"].value,
        manufacturer=results["manufacturer"].value,
        model=results["model"].value,
        firmware=results["firmware"].value,
        serial=results["serial"].value,
        confidence=confidence(results),
        evidence=_evidence(results),
        conflicts=conflicts(results),
    )
