"""assess(device, policies) -> findings. Pure: reads the device, never changes it.

Rules, in the order they run (each finding cites its source; no source, no finding):

restriction    ``device.manufacturer`` is a maker a selected regime (or a policy ban)
               names -> the regime id (``restrict.py``): who made it, how the brand
               is reached (subsidiary, or "via OEM" as equipment produced by the
               maker), the ownership period when the brand changed owner, and whether
               the regime binds the operator ("applies to you") or only names the
               maker. An unconfirmed regime gives a ``lead``; so does a component of
               a named company inside another maker's device (a HiSilicon SoC under
               NDAA 889's component clause). The brand alone never triggers one.
unknown-maker  a camera/recorder/encoder whose manufacturer is unknown. If its brand
               is a confirmed name or OEM label of a maker a confirmed regime (or a
               ban) names, the finding is ``possible`` and high ("confirm the maker");
               otherwise it is open and medium ("cannot rule out covered equipment"),
               and an unconfirmed brand link is named in it as a lead to check.
vulnerability  a record of vulns.yaml for the device's maker (manufacturer, or a brand
               that is itself a maker) whose model and firmware ranges match:
               ``kev:CVE`` (critical) when the CVE is in the KEV catalogue in use, else
               ``cve:CVE`` (CVSS >= 9 high, >= 7 medium, lower low, unknown medium).
               Firmware not read or not comparable -> ``possible``.
analytics      the device's model is a product reported to infer ethnicity, race or
               skin colour -> ``analytics:<id>`` (high), citing the report, EU AI Act
               Art. 5(1)(g) and GDPR Art. 9; a model family match is ``possible``.
               The device's own API, read with the operator's login, names a protected
               trait among the analytics it supports (``knowledge/terms.py``) ->
               ``analytics:stated-<trait>``, status ``enabled`` (high) when a rule using
               it is switched on, else ``offered`` (medium); a GA/T 1400 view-library
               upload setting -> ``analytics:gat1400`` (``offered``/``enabled``, medium).

Then the policy's severity overrides (a lead stays at most medium), and its
allow-list: an active entry marks the finding ``accepted`` (it stays in the
report); an expired one leaves it open and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Literal

from camaudit.assess import restrict
from camaudit.assess.policy import PolicySet
from camaudit.errors import UsageError
from camaudit.knowledge import KnowledgeBase, makers
from camaudit.knowledge.kev import KEV_URL
from camaudit.knowledge.terms import load_terms
from camaudit.knowledge.terms import match as term_match
from camaudit.knowledge.vulns import match
from camaudit.model import SEVERITIES, Device, Finding

#: Device types for which an unknown maker is itself a finding (CONTRACTS.md).
_MAKER_EXPECTED = ("camera", "recorder", "encoder", "surveillance")
_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def _evidence(device: Device, fields: Iterable[str]) -> list[str]:
    """The device's evidence lines for these fields: ``rule -> sha256:... (says)``."""
    prefixes = tuple(f"{f}=" for f in fields)
    return [f"{e.rule} -> {e.observation} ({e.says})" for e in device.evidence
            if e.says.startswith(prefixes)]


def _restricted_makers(policies: PolicySet, kb: KnowledgeBase) -> dict[str, list[str]]:
    """maker id (or normalised banned name) -> the confirmed regimes/bans naming it."""
    out: dict[str, list[str]] = {}
    for rid in sorted(policies.regimes, key=lambda r: (-_RANK[kb.regimes[r].severity], r)):
        if not kb.regimes[rid].confirmed:
            continue  # a lead never makes an unknown maker high
        for mid in kb.regimes[rid].makers:
            out.setdefault(mid, []).append(rid)
    for ban in policies.bans:
        out.setdefault(ban.key, []).append(f"{ban.policy} ban")
    return out


def _unknown_maker(device: Device, policies: PolicySet, kb: KnowledgeBase) -> Finding:
    restricted = _restricted_makers(policies, kb)
    evidence = _evidence(device, ("brand", "device_type", "model"))
    brand = device.brand
    own = makers.maker_id(brand)
    if brand and own in restricted:
        name = makers.canonical(brand)
        first = restricted[own][0]
        return Finding(
            id="unknown-maker", kind="unknown-maker", severity="high", status="possible",
            title=f"Maker not confirmed; brand {brand} is {name}'s own name",
            source=kb.regimes[first].source if first in kb.regimes else "camaudit makers.yaml",
            regime=None, evidence=evidence,
            detail=(f"brand {brand} is a {name} name ({name} is named by "
                    f"{', '.join(restricted[own])}) but no evidence confirmed the maker; "
                    "confirm the maker"))
    leads = []
    for link in makers.oem_links(brand):
        key = link.maker_id
        if key not in restricted:
            continue
        said = (f"brand {brand} is sold with {link.maker} hardware per {link.source} "
                f"({link.relation}, {'confirmed' if link.confirmed else 'unconfirmed'}; at "
                f"least some products, not necessarily this one); {link.maker} is named by "
                f"{', '.join(restricted[key])}")
        if not link.confirmed:
            leads.append(f"{said}. A lead to check: {link.note or 'the link is unconfirmed'}")
            continue
        return Finding(
            id="unknown-maker", kind="unknown-maker", severity="high", status="possible",
            title=f"Maker not confirmed; brand {brand} is sold with {link.maker} hardware",
            source=link.source, regime=None, evidence=evidence,
            detail=f"{said}. Confirm the maker")
    what = f"brand {brand}" if brand else "no brand"
    ndaa = kb.regimes.get("ndaa-889")
    covered = f"equipment covered by {ndaa.name}" if ndaa else "covered equipment"
    return Finding(
        id="unknown-maker", kind="unknown-maker", severity="medium",
        title=f"{(device.device_type or 'device').capitalize()} of unknown maker: "
              "cannot rule out covered equipment",
        source=ndaa.source if ndaa else "camaudit makers.yaml", regime=None, evidence=evidence,
        detail=(f"{what}; the maker could not be determined from what the device said, so "
                f"equipment of a restricted maker (e.g. {covered}, sold under many OEM "
                "labels) cannot be ruled out" + "".join(f". {lead}" for lead in leads)))


def _vulnerabilities(device: Device, policies: PolicySet, kb: KnowledgeBase,
                     ids: list[str]) -> list[Finding]:
    records = {r.cve: r for mid in dict.fromkeys(ids) for r in kb.vulns_by_maker.get(mid, [])}
    out = []
    for record in records.values():
        entry = kb.kev.get(record.cve)
        if (entry and not policies.kev) or (not entry and not policies.cve):
            continue
        found = match(record, device.model, device.device_type, device.firmware)
        if found is None:
            continue
        if entry:
            fid, severity, regime = f"kev:{record.cve}", "critical", "kev"
            kev_text = (f" Listed in CISA KEV (catalogue {kb.kev.version}, added "
                        f"{entry.date_added}; {KEV_URL}); required action: "
                        f"{entry.required_action}")
        else:
            fid, regime, kev_text = f"cve:{record.cve}", "cve", ""
            score = record.cvss
            severity = ("medium" if score is None else "high" if score >= 9
                        else "medium" if score >= 7 else "low")
        status: Literal["open", "possible"] = (
            "open" if found.outcome == "affected" else "possible")
        lead = ("" if status == "open" else
                "possibly affected — firmware not read. " if not device.firmware else
                "possibly affected. ")
        out.append(Finding(
            id=fid, kind="vulnerability", severity=severity,  # type: ignore[arg-type]
            status=status, title=f"{record.cve}: {record.title}", source=record.source,
            regime=regime, evidence=_evidence(device, ("manufacturer", "model", "firmware")),
            detail=(f"{lead}{device.model or 'model not read'}, {found.why}.{kev_text} "
                    f"Source says: {record.note}").strip()))
    return out


def _analytics(device: Device, kb: KnowledgeBase, ids: list[str]) -> list[Finding]:
    if not device.model:
        return []
    out: dict[str, Finding] = {}
    ai_act = kb.legal.get("eu-ai-act-art5-1g", "")
    gdpr = kb.legal.get("gdpr-art9", "")
    regime = kb.regimes.get("eu-ai-act-art5-1g")
    since = regime.day("effective") if regime else None
    from_day = f" from {since.isoformat()}" if since else ""
    for product in kb.analytics:
        if product.maker not in ids or not product.pattern.search(device.model):
            continue
        fid = f"analytics:{product.id}"
        if fid in out and out[fid].status == "open":
            continue
        status = "possible" if product.family else "open"
        out[fid] = Finding(
            id=fid, kind="analytics", severity="high", status=status,  # type: ignore[arg-type]
            title=f"{device.model} is reported to offer ethnicity/race analytics",
            source=product.source, regime="eu-ai-act",
            evidence=_evidence(device, ("manufacturer", "model")),
            detail=(f"{product.model}: {product.capability} (reported {product.reported}, "
                    f"{product.source}"
                    + (f"; the report names a model family, {device.model} is in it"
                       if product.family else "")
                    + f"). EU AI Act Art. 5(1)(g) prohibits such biometric categorisation"
                    f"{from_day} ({ai_act}); GDPR Art. 9 restricts processing that "
                    f"reveals racial or ethnic origin ({gdpr})."))
    return list(out.values())


def _stated(device: Device, kb: KnowledgeBase) -> list[Finding]:
    """Protected-trait analytics the device's own API states (read with the operator's login).

    Each name the device lists (``offered``) is matched whole-word against the vocabulary;
    ``enabled`` when the same name is among those switched on.
    """
    if not device.analytics:
        return []
    vocabulary = load_terms()
    hits: dict[str, dict[str, list[str]]] = {}  # trait -> status -> "'name' (where)"
    evidence: dict[str, list[str]] = {}  # trait (or the platform) -> "where -> sha256:..."
    platform: dict[str, list[str]] = {}
    for doc in device.analytics:
        where = f"{doc.get('api')} {doc.get('endpoint')}" + (
            f" channel {doc['channel']}" if doc.get("channel") else "")
        cite = f"device API {where} -> {doc.get('observation')}"
        enabled = set(_names(doc.get("enabled")))
        for name in _names(doc.get("offered")):
            trait = term_match(vocabulary, name)
            if trait is not None:
                state = "enabled" if name in enabled else "offered"
                hits.setdefault(trait.id, {}).setdefault(state, []).append(f"{name!r} ({where})")
                _keep(evidence.setdefault(trait.id, []), cite)
        for setting in _names(doc.get("platform")):
            state = "enabled" if setting.lower().endswith(("=true", "=1", "=on")) else "offered"
            platform.setdefault(state, []).append(f"{setting!r} ({where})")
            _keep(evidence.setdefault("", []), cite)
    law = _law(kb)
    out = []
    for trait in vocabulary.traits:
        if trait.id not in hits:
            continue
        found = hits[trait.id]
        status = "enabled" if "enabled" in found else "offered"
        said = "; ".join(f"{state}: {', '.join(items[:8])}" for state, items in found.items())
        out.append(Finding(
            id=f"analytics:stated-{trait.id}", kind="analytics",
            severity="high" if status == "enabled" else "medium",
            status=status,  # type: ignore[arg-type]
            title=(f"The device's own API states {trait.trait} analytics "
                   f"({'switched on' if status == 'enabled' else 'offered, not switched on'})"),
            source=trait.sources[0], regime="eu-ai-act", evidence=evidence[trait.id],
            detail=(f"Read with the operator's login: {said}. The words and where each comes "
                    f"from: knowledge/data/analytics_terms.yaml ({trait.id}). camaudit reads "
                    f"what the equipment says it can do; it analyses no one. {law}"),
            basis="; ".join(trait.sources)))
    if platform:
        status = "enabled" if "enabled" in platform else "offered"
        said = "; ".join(f"{state}: {', '.join(items[:8])}" for state, items in platform.items())
        out.append(Finding(
            id=f"analytics:{vocabulary.platform_id}", kind="analytics", severity="medium",
            status=status,  # type: ignore[arg-type]
            title=f"{vocabulary.platform_name} settings on the device ({status})",
            source=vocabulary.platform_source, regime="eu-ai-act", evidence=evidence[""],
            detail=(f"Read with the operator's login: {said}. A device uploading to a "
                    f"GA/T 1400 view library sends the person attributes GA/T 1400.3 defines "
                    f"(ethnicity and skin colour among them) to that platform. {law}")))
    return out


def _keep(items: list[str], item: str) -> None:
    if item not in items and len(items) < 16:
        items.append(item)


def _names(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _law(kb: KnowledgeBase) -> str:
    regime = kb.regimes.get("eu-ai-act-art5-1g")
    since = regime.day("effective") if regime else None
    return (f"EU AI Act Art. 5(1)(g) prohibits biometric categorisation inferring race"
            f"{' from ' + since.isoformat() if since else ''} "
            f"({kb.legal.get('eu-ai-act-art5-1g', '')}); GDPR Art. 9 restricts processing "
            f"that reveals racial or ethnic origin ({kb.legal.get('gdpr-art9', '')}).")


def _override(finding: Finding, policies: PolicySet) -> None:
    table = policies.severity
    for key in (finding.id, finding.id.split(":", 1)[0], finding.kind):
        if key in table:
            finding.severity = table[key]  # type: ignore[assignment]
            return


def _allow(device: Device, finding: Finding, policies: PolicySet, today: date) -> None:
    mac = device.mac.lower() if device.mac else None
    for entry in policies.allow:
        if not ((entry.address and entry.address == device.address)
                or (entry.mac and entry.mac == mac)
                or (entry.serial and entry.serial == device.serial)):
            continue
        if not entry.covers_finding(finding.id):
            continue
        by = f", approved by {entry.approved_by}" if entry.approved_by else ""
        if today <= entry.expires:
            finding.status = "accepted"
            finding.accepted_reason = (f"{entry.reason} (allowed until {entry.expires}{by}; "
                                       f"{entry.origin})")
            return
        finding.detail += (f" Allow-list entry expired on {entry.expires} "
                           f"({entry.reason}{by}; {entry.origin}).")


def assess(device: Device, policies: PolicySet, *, today: date | None = None) -> list[Finding]:
    """The findings for one device under `policies`, most severe first."""
    kb = policies.knowledge
    today = today or date.today()
    findings: list[Finding] = []
    mid = makers.maker_id(device.manufacturer)
    brand_mid = makers.maker_id(device.brand)
    if mid:
        name = makers.canonical(device.manufacturer) or device.manufacturer or mid
        sensitive = device.site is not None and device.site in policies.sensitive_sites
        reached: restrict.Reach | None = None
        for rid in sorted(policies.regimes):
            regime = kb.regimes[rid]
            if mid in regime.makers and regime.covers(device.device_type):
                reached = reached or restrict.reach(device, name, mid, kb)
                findings.append(restrict.restriction(device, regime, name, mid, policies,
                                                     sensitive, reached))
    findings.extend(restrict.component_leads(device, policies, mid, {f.id for f in findings}))
    if device.manufacturer:
        key = mid or makers.norm(device.manufacturer)
        for ban in policies.bans:
            if ban.key == key:
                findings.append(Finding(
                    id=ban.id, kind="restriction", severity=ban.severity,  # type: ignore[arg-type]
                    title=f"{ban.maker} equipment is banned by policy {ban.policy}",
                    source=ban.source, regime=ban.policy,
                    detail=(f"{restrict.route(device, ban.maker, mid or key, kb)}. "
                            f"Reason: {ban.reason}"),
                    evidence=_evidence(device, ("manufacturer", "brand"))))
    elif policies.unknown_maker and device.device_type in _MAKER_EXPECTED:
        findings.append(_unknown_maker(device, policies, kb))
    ids = [x for x in (mid, brand_mid) if x]
    if ids and (policies.kev or policies.cve):
        findings.extend(_vulnerabilities(device, policies, kb, ids))
    if ids and policies.analytics:
        findings.extend(_analytics(device, kb, ids))
    if policies.analytics:
        findings.extend(_stated(device, kb))
    for finding in findings:
        _override(finding, policies)
        restrict.cap_lead(finding)
        _allow(device, finding, policies, today)
    findings.sort(key=lambda f: (-_RANK[f.severity], f.id))
    return findings


def exceeds(findings: Iterable[Finding], fail_on: str) -> bool:
    """True if an open or possible finding is at least `fail_on` severe (for --fail-on).

    Accepted findings and leads (unconfirmed records, listed apart) never fail a run.
    """
    if fail_on not in _RANK:
        raise UsageError(f"--fail-on must be one of {', '.join(SEVERITIES[1:])}, not {fail_on!r}")
    floor = _RANK[fail_on]
    return any(f.status in ("open", "possible", "offered", "enabled")
               and _RANK[f.severity] >= floor
               for f in findings)
