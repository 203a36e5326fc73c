"""What a scan found, counted and grouped for the executive summary.

The HTML report, the terminal and the PDF all start from the same
:class:`Summary`, so the numbers a compliance officer quotes agree everywhere.
Findings are grouped by regime (the finding ids of CONTRACTS.md); each group
keeps the citations of its findings, because a finding without its source is
not one. Leads (status ``lead``: the record they rest on is not confirmed) are
kept apart in ``Summary.leads`` and counted nowhere else. Titles and advice here
name no date and no company: those come from the findings (the knowledge files).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from camaudit.report.document import (
    DeviceDoc,
    Doc,
    FindingDoc,
    active_findings,
    group_key,
    has_kind,
    is_kev,
    is_lead,
    is_oem,
    iter_findings,
    kind_rank,
    severity_rank,
    worst_severity,
)

#: Headings for the regime ids of CONTRACTS.md; the citation itself comes from each finding.
GROUP_TITLES: dict[str, str] = {
    "ndaa-889": "US NDAA section 889 / FAR 52.204-25",
    "fcc-covered-list": "FCC Covered List",
    "fcc-22-84": "FCC 22-84: no new equipment authorisations",
    "us-entity-list-2019-10": "US Entity List (Xinjiang additions, first tranche)",
    "us-entity-list-2020-06": "US Entity List (Xinjiang additions, second tranche)",
    "us-ns-cmic": "US NS-CMIC list (securities)",
    "us-dod-1260h": "US DoD 1260H list",
    "us-tx-prohibited-technologies": "Texas prohibited technologies (state devices)",
    "uk-sensitive-sites-2022": "UK statement on surveillance equipment at sensitive sites",
    "au-defence-2023": "Australia: Defence removal of surveillance devices",
    "eu-parliament-hikvision-2021": "European Parliament: removal from its premises",
    "eu-ai-act-art5-1g": "EU AI Act Art. 5(1)(g): ethnicity and race analytics",
    "analytics": "Analytics that infer race or ethnicity",
    "kev": "Known exploited vulnerabilities (CISA KEV)",
    "cve": "Other published vulnerabilities (CVE)",
    "unknown-maker": "Maker could not be determined",
    "inventory-disagrees": "Inventory disagrees with the device",
}

#: Plain words per finding kind: what it means and what to do about it.
KIND_ADVICE: dict[str, str] = {
    "restriction": "The real maker of this equipment is named by a procurement, authorisation "
    "or removal rule (or falls within its rule). Each finding says whether the rule binds you "
    "under your policy (\"applies to you\") or only names the maker (\"named by\"); check "
    "the scope against your organisation and use, then plan the replacement below.",
    "analytics": "This equipment offers analytics publicly reported to infer race or ethnicity. "
    "Such biometric categorisation is prohibited in the EU (the finding gives the date): make "
    "sure the feature is not licensed or enabled, and record how you checked.",
    "vulnerability": "The firmware found is affected by a published vulnerability. Update the "
    "firmware or isolate the device; a KEV entry means attackers are known to exploit it.",
    "unknown-maker": "camaudit could not tell who made this device. Inspect it physically or ask "
    "the installer; an unknown maker may hide restricted equipment.",
    "inventory": "Your inventory says one thing and the device another. Correct the inventory "
    "or find out why the device differs.",
}


@dataclass(frozen=True)
class FindingRow:
    """One finding on one device, with the device's position in the document."""

    device_index: int
    device: DeviceDoc
    finding: FindingDoc


@dataclass
class Group:
    """The findings of one regime, with every distinct citation they rest on."""

    key: str
    kind: str
    rows: list[FindingRow] = field(default_factory=list)

    @property
    def title(self) -> str:
        return GROUP_TITLES.get(self.key, self.key)

    @property
    def advice(self) -> str:
        return KIND_ADVICE.get(self.kind, "")

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(str(r.finding.get("source", "")) for r in self.rows))

    @property
    def worst(self) -> str:
        return worst_severity([r.finding for r in self.rows]) or "info"

    @property
    def device_count(self) -> int:
        return len({r.device_index for r in self.rows})


@dataclass
class Summary:
    """Counts for the executive summary; devices are counted once per category."""

    devices: int
    by_type: Counter[str]
    by_maker: Counter[str]
    restricted: int
    analytics: int
    vulnerable: int
    kev: int  # confirmed: the firmware read is inside a published affected range
    kev_possible: int  # the model is affected but the firmware was not read or not conclusive
    unknown_maker: int
    white_label: int
    groups: list[Group]
    leads: list[FindingRow] = field(default_factory=list)  # status lead: listed apart

    @property
    def findings(self) -> int:
        return sum(len(g.rows) for g in self.groups)

    @property
    def lead_groups(self) -> list[Group]:
        """The leads by regime (or finding id), in the order they were sorted."""
        groups: dict[str, Group] = {}
        for row in self.leads:
            key = group_key(row.finding)
            groups.setdefault(key, Group(key, str(row.finding.get("kind")))).rows.append(row)
        return list(groups.values())


def _device_has_kev(device: DeviceDoc, *, possible: bool) -> bool:
    return any(is_kev(f) and (f.get("status") == "possible") == possible
               for f in active_findings(device) if f.get("kind") == "vulnerability")


def summarise(doc: Doc) -> Summary:
    """Count devices by class and maker, and group findings by regime, worst first."""
    devices: list[DeviceDoc] = list(doc.get("devices") or [])
    groups: dict[str, Group] = {}
    leads: list[FindingRow] = []
    for index, device, finding in iter_findings(doc):
        if is_lead(finding):
            leads.append(FindingRow(index, device, finding))
            continue
        key = group_key(finding)
        group = groups.setdefault(key, Group(key, str(finding.get("kind"))))
        group.rows.append(FindingRow(index, device, finding))
    for group in groups.values():
        group.rows.sort(key=lambda r: (-severity_rank(r.finding.get("severity")), r.device_index))
    ordered = sorted(
        groups.values(), key=lambda g: (kind_rank(g.kind), -severity_rank(g.worst), g.key)
    )
    return Summary(
        devices=len(devices),
        by_type=Counter(str(d.get("device_type") or "unknown") for d in devices),
        by_maker=Counter(str(d.get("manufacturer") or "unknown") for d in devices),
        restricted=sum(has_kind(d, "restriction") for d in devices),
        analytics=sum(has_kind(d, "analytics") for d in devices),
        vulnerable=sum(has_kind(d, "vulnerability") for d in devices),
        kev=sum(_device_has_kev(d, possible=False) for d in devices),
        kev_possible=sum(_device_has_kev(d, possible=True)
                         and not _device_has_kev(d, possible=False) for d in devices),
        unknown_maker=sum(has_kind(d, "unknown-maker") for d in devices),
        white_label=sum(is_oem(d) for d in devices),
        groups=ordered,
        leads=sorted(leads, key=lambda r: (group_key(r.finding), r.device_index)),
    )
