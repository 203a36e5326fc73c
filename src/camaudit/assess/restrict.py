"""Restriction findings: which regime names the device's maker, whether it binds the
operator, how the brand is reached, when the device was made, and how sure the record is.

Every date, company and scope phrase in the text comes from the knowledge files
(restrictions.yaml, oem.yaml, makers.yaml, readings.yaml) or from the device itself:

- **scope** — a regime in the policy's ``binding`` list "applies to you"; any other is
  "named by" (or "within the rule of", for a regime that names no company), with the
  first sentence of its scope saying whom it binds.
- **route** — a brand restrictions.yaml ties to the maker (subsidiary) is reached as an
  affiliate; a brand oem.yaml says sells the maker's hardware, as equipment produced by
  the maker, which the device's own evidence names.
- **period** — for a brand whose owner changed (readings.yaml), the firmware build date
  places the device before, during or after the ownership: during or before -> open;
  in the dates the sources disagree on, or unknown -> ``possible`` ("depends on
  manufacture date"); after -> ``lead`` (a later tie is an allegation, not a finding).
- **confidence** — a regime with ``confirmed: false`` yields a ``lead`` at low severity
  whose detail says what is missing; so does a component (a HiSilicon SoC inside another
  maker's device) that a regime's component clause may reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from camaudit.assess.policy import PolicySet
from camaudit.knowledge import KnowledgeBase, makers
from camaudit.knowledge.readings import Ownership
from camaudit.knowledge.restrictions import Regime
from camaudit.knowledge.versions import build_date
from camaudit.model import SEVERITIES, Device, Finding, Severity

Status = Literal["open", "possible", "lead"]
#: A lead is listed apart and never outranks this, whatever a policy's severity table says.
LEAD_SEVERITY: Severity = "low"
LEAD_CEILING: Severity = "medium"
_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def cap_lead(finding: Finding) -> None:
    """A lead rests on an unconfirmed record: never above medium (after policy overrides)."""
    if finding.status == "lead" and _RANK[finding.severity] > _RANK[LEAD_CEILING]:
        finding.severity = LEAD_CEILING


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _sure(confirmed: bool) -> str:
    return "confirmed" if confirmed else "unconfirmed"


def route(device: Device, maker_name: str, mid: str, kb: KnowledgeBase) -> str:
    """'manufacturer Hikvision, sold as Annke: ...' — how the brand on the box is reached."""
    brand = device.brand
    if not brand or makers.maker_id(brand) == mid:
        return f"manufacturer {maker_name}"
    owned = [link for link in kb.links_of(brand) if link.company == mid]
    if owned and owned[0].relation.startswith("former-"):
        own = owned[0]
        return (f"manufacturer {maker_name}, sold as {brand}: formerly a {maker_name} "
                f"{own.relation.removeprefix('former-')} per the knowledge file "
                f"({_sure(own.confirmed)}, source {own.source})")
    if owned:
        own = owned[0]
        return (f"manufacturer {maker_name}, sold as {brand}: a {maker_name} brand per the "
                f"knowledge file ({own.relation}, {_sure(own.confirmed)}, source "
                f"{own.source}), so reached as a subsidiary's or affiliate's product and as "
                f"equipment produced by {maker_name}")
    links = [link for link in makers.oem_links(brand) if link.maker_id == mid]
    if not links:
        return (f"manufacturer {maker_name}, sold as {brand} (via OEM: the device's own "
                f"evidence names the maker; camaudit's OEM data has no {brand} entry), reached "
                f"as equipment produced by {maker_name}")
    oem = links[0]
    return (f"manufacturer {maker_name}, sold as {brand} (via OEM: {oem.relation}, "
            f"{_sure(oem.confirmed)}, source {oem.source}), reached as equipment produced "
            f"by {maker_name}, which the device's own evidence names")


def _period_of(own: Ownership, device: Device, maker_name: str) -> tuple[Status, str]:
    relation = own.link.relation.removeprefix("former-")
    disagree = " (its sources disagree on the end)" if own.end[0] != own.end[1] else ""
    head = f"{own.link.name} was a {maker_name} {relation} {own.span}{disagree}"
    built = build_date(device.firmware)
    if built is None:
        return "possible", (f"{head}; whether this device falls in that period depends on "
                            "manufacture date (no firmware build date was read)")
    when = (f"this device's firmware was built {built.isoformat()} (standing in for the "
            "manufacture date, which the device does not report)")
    phase = own.classify(built)
    if phase == "during":
        return "open", f"{head}; {when}: inside that period, a {maker_name} {relation}'s product"
    if phase == "before":
        return "open", (f"{head}; {when}: before that period, so reached only as equipment "
                        f"produced by {maker_name}, which the device's own evidence names")
    if phase == "disputed":
        return "possible", (f"{head}; {when}: in the time its sources disagree on, so it "
                            "depends on when the ownership changed")
    return "lead", (f"{head}; {when}: after that period, where a tie to {maker_name} is an "
                    f"allegation, not a finding. Knowledge file note: {own.link.note}")


def period(device: Device, mid: str, maker_name: str,
           kb: KnowledgeBase) -> tuple[Status, str] | None:
    """Where the device falls in its brand's ownership by `mid`, if that owner changed."""
    if not device.brand:
        return None
    for own in kb.readings.ownership.get(makers.norm(device.brand), []):
        if own.link.company == mid:
            return _period_of(own, device, maker_name)
    return None


def scope(regime: Regime, policies: PolicySet) -> tuple[str, str]:
    """(title phrase, detail sentence) saying whether `regime` binds the operator."""
    verb = "named by" if regime.names_companies else "within the rule of"
    policy = policies.binding.get(regime.id)
    if policy:
        return (f"under {regime.name} (binds you: policy {policy})",
                f"Applies to you: policy {policy} says this regime binds its users. "
                f"{regime.binds}")
    names = ", ".join(policies.names) or "none"
    return (f"{verb} {regime.name}",
            f"{verb.capitalize()} it, not prohibited for you: {regime.binds} Your policies "
            f"({names}) do not say that it binds you.")


def basis(regime: Regime, policies: PolicySet) -> str:
    """What the regime says and whom it binds: the same text for every device it reaches."""
    text = f"{regime.name} ({regime.jurisdiction} {regime.kind}; {regime.effective})."
    if regime.summary:
        text += f" {_sentence(regime.summary)}"
    text += f" Scope: {_sentence(regime.scope)}"
    if regime.rule and not regime.names_companies:
        text += f" Its rule: {regime.rule}; it names no company."
    if regime.note and regime.confirmed:
        text += f" Note: {_sentence(regime.note)}"
    policy = policies.binding.get(regime.id)
    text += (f" Binds you under policy {policy}." if policy else
             " Your policies do not say that it binds you.")
    return text


@dataclass(frozen=True)
class Reach:
    """What every restriction finding of one device says alike, worked out once."""

    route: str
    period: tuple[Status, str] | None
    evidence: tuple[str, ...]


def reach(device: Device, maker_name: str, mid: str, kb: KnowledgeBase) -> Reach:
    """How the device's maker `mid` is reached, and where it falls in a brand's ownership."""
    return Reach(route(device, maker_name, mid, kb), period(device, mid, maker_name, kb),
                 tuple(_evidence(device, ("manufacturer", "brand"))))


def restriction(device: Device, regime: Regime, maker_name: str, mid: str,
                policies: PolicySet, sensitive: bool, reached: Reach | None = None) -> Finding:
    """The finding for a device whose maker `regime` names (or whose rule reaches it);
    `reached`: :func:`reach` of the device, when it is already known."""
    if reached is None:
        reached = reach(device, maker_name, mid, policies.knowledge)
    severity = regime.severity
    parts = [reached.route]
    status: Status = "open"
    found = reached.period
    if found is not None:
        status, text = found
        parts.append(text)
    if not regime.names_companies:
        parts.append(f"The regime names no company: camaudit's knowledge file lists {maker_name} "
                     "under its rule")
    if regime.id == "uk-sensitive-sites-2022":
        if sensitive:
            severity = "high"
            parts.append(f"Site {device.site!r} is marked sensitive by the policy")
        else:
            parts.append("Applies on sensitive sites: mark them in a policy (sensitive_sites)")
    if not regime.confirmed:
        status = "lead"
        parts.insert(0, "Lead, not a finding: the knowledge file does not confirm this "
                        f"regime's record. Missing: {regime.note or 'not stated'}")
    title, applies = scope(regime, policies)
    if status == "lead":
        severity = LEAD_SEVERITY
    return Finding(
        id=regime.id, kind="restriction", severity=severity,  # type: ignore[arg-type]
        status=status, title=f"{maker_name} equipment {title}", source=regime.source,
        regime=regime.id, detail=". ".join(parts) + f". {applies}",
        basis=basis(regime, policies), evidence=list(reached.evidence))


def component_leads(device: Device, policies: PolicySet, mid: str | None,
                    have: set[str]) -> list[Finding]:
    """Leads for parts of a named company inside another maker's device (component clause)."""
    kb = policies.knowledge
    out = []
    for part in kb.readings.components:
        regime = kb.regimes[part.regime]
        if regime.id not in policies.regimes or regime.id in have or mid == part.link.company:
            continue
        told = part.telltale(device.model, [e.source or "" for e in device.evidence])
        if told is None:
            continue
        owner = makers.maker(part.link.company)
        company = owner.name if owner else part.link.company
        maker = device.manufacturer or "unknown"
        out.append(Finding(
            id=regime.id, kind="restriction", severity=LEAD_SEVERITY, status="lead",
            title=(f"{part.link.name} part inside a {maker} device: a lead under "
                   f"{regime.name}, not {company} equipment"),
            source=regime.source, regime=regime.id,
            detail=(f"Lead, not a finding: {told} (source {part.source}). The knowledge file "
                    f"ties {part.link.name} to {company} ({part.link.relation}, "
                    f"{_sure(part.link.confirmed)}, source {part.link.source}). {regime.name}: "
                    f"\"{part.clause}\" Whether this part is such a component of this device "
                    f"is for the operator to settle; the device's maker is {maker}. Missing: "
                    f"{part.link.note or 'not stated'}. {scope(regime, policies)[1]}"),
            basis=basis(regime, policies),
            evidence=_evidence(device, ("model", "manufacturer", "device_type"))))
    return out


def _evidence(device: Device, fields: tuple[str, ...]) -> list[str]:
    """The device's evidence lines for these fields: ``rule -> sha256:... (says)``."""
    prefixes = tuple(f"{f}=" for f in fields)
    return [f"{e.rule} -> {e.observation} ({e.says})" for e in device.evidence
            if e.says.startswith(prefixes)]
