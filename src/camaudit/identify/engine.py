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
    decide,
    decide_plain,
    tally,
)
from camaudit.identify.match import Hit, match_observation
from camaudit.identify.rules import SAYABLE, load_rules
from camaudit.model import Device, DeviceType, Evidence, Observation

OEM_SOURCE = "shared/kb/oem.yaml brand -> maker links (via identify/oem_brands.yaml)"


#: Device fields whose decided value other rules read wherever it was found: a model
#: number tells its maker's grammar (rules listing the pseudo-probe ``model``), a MAC its
#: OUI (pseudo-probe ``mac``), whether the device said it in ISAPI, a WS-Discovery scope or
#: a realm.
CHAINED = ("model", "mac")


def _chained_hits(results: dict[str, FieldResult]) -> list[Hit]:
    """Hits of the model-grammar and OUI rules on the decided model and MAC.

    The evidence is the observation that gave the value (its strongest hit), so an
    auditor follows the chain from the maker back to the bytes.
    """
    ruleset = load_rules()
    out: list[Hit] = []
    for key in CHAINED:
        winner = results[key].winner
        source = max((s for s in winner.support.values() if s.hit is not None),
                     key=lambda s: s.weight, default=None) if winner else None
        if winner is None or source is None or source.hit is None:
            continue
        chained = Observation(source.hit.observation.address, None, key, {key: winner.value})
        for hit in match_observation(ruleset, chained):
            out.append(Hit(hit.rule, source.hit.observation, key, hit.value, hit.says))
    return out


def fused(observations: Sequence[Observation]) -> dict[str, FieldResult]:
    """Every rule hit on these observations, fused per device field, with the hits of the
    chained rules on the model and MAC the other hits decide (no other field's outcome
    changes those two, so they are decided first, and everything once, after)."""
    ruleset = load_rules()
    hits: list[Hit] = []
    for obs in observations:
        hits.extend(match_observation(ruleset, obs))
    table = tally(hits)
    chained = _chained_hits({key: decide_plain(table, key) for key in CHAINED})
    if chained:
        seen = {(h.rule.id, id(h.observation)) for h in hits}
        tally([h for h in chained if (h.rule.id, id(h.observation)) not in seen], table)
    return decide(table)


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
                sha = shas.get(id(obs), "")
                if not sha:  # hashed once per observation
                    sha = shas[id(obs)] = obs.sha256
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
    results = fused(observations)
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
