"""When the inventory says one thing and the device another: the ``inventory-disagrees`` finding.

An inventory row is a person's claim (``inventory`` observation, source
``claim``). After identification has named the device's maker from what the
device itself said, each claim is checked against it:

- the claimed make is read as a maker name (``knowledge.makers.canonical``,
  any alias or legal name) or as a brand sold by makers
  (``knowledge.makers.oem_links``); it agrees when the identified maker is
  among them, or when it is the brand the device shows;
- a claimed model agrees when, ignoring case, spaces and punctuation, one
  model string contains the other (sheets shorten "DS-2CD2042WD-I" to "2042WD").

A claim about a device whose maker stayed unknown is neither confirmed nor
contradicted: no finding. The finding's source is the inventory itself (file
and row), because that is what the operator must correct or explain; its
evidence lists the claim's observation and the device's maker evidence.
"""

from __future__ import annotations

from camaudit.knowledge import makers
from camaudit.model import Device, Finding, Observation

FINDING_ID = "inventory-disagrees"


def claimed_makers(make: str) -> set[str]:
    """Canonical makers a written make may stand for (itself a maker, or a brand of some)."""
    found = {m for m in (makers.canonical(make),) if m}
    found |= {link.maker for link in makers.oem_links(make)}
    return found


def _models_agree(claimed: str, identified: str) -> bool:
    a, b = makers.norm(claimed), makers.norm(identified)
    return bool(a) and bool(b) and (a in b or b in a)


def _disagreements(device: Device, claim: Observation) -> list[str]:
    reasons: list[str] = []
    make = claim.fields.get("make")
    if isinstance(make, str) and make and device.manufacturer:
        brand_matches = device.brand is not None and makers.norm(make) == makers.norm(
            device.brand)
        candidates = claimed_makers(make)
        if not brand_matches and device.manufacturer not in candidates:
            known = (f"{make!r} stands for {', '.join(sorted(candidates))}" if candidates
                     else f"{make!r} is not a known name or brand of {device.manufacturer}")
            reasons.append(f"make: inventory says {make!r}, the device identifies as "
                           f"{device.manufacturer} ({known})")
    model = claim.fields.get("model")
    if isinstance(model, str) and model and device.model \
            and not _models_agree(model, device.model):
        reasons.append(f"model: inventory says {model!r}, the device reports {device.model!r}")
    return reasons


def inventory_findings(device: Device, observations: list[Observation]) -> list[Finding]:
    """At most one ``inventory-disagrees`` finding for `device`, citing every disagreeing row."""
    reasons: list[str] = []
    sources: list[str] = []
    evidence: list[str] = []
    for claim in observations:
        if claim.probe != "inventory" or claim.source != "claim":
            continue
        found = _disagreements(device, claim)
        if not found:
            continue
        where = f"{claim.fields.get('file', 'inventory')} row {claim.fields.get('row', '?')}"
        sources.append(where)
        reasons += [f"{where}: {r}" for r in found]
        evidence.append(f"inventory claim ({where}) -> sha256:{claim.sha256}")
    if not reasons:
        return []
    evidence += [f"{e.rule} -> {e.observation}" for e in device.evidence
                 if e.says.startswith(("manufacturer", "model")) and e.observation][:8]
    first = reasons[0].split(": ", 1)[1]
    return [Finding(
        id=FINDING_ID, kind="inventory", severity="medium",
        title=f"Inventory disagrees with the device: {first}"[:300],
        source="; ".join(sources)[:1000],
        detail="\n".join(reasons) + "\nThe inventory is a person's claim; the device's own "
               "replies are the evidence above. Correct the inventory or check whether the "
               "device was swapped or relabelled.",
        evidence=evidence)]
