"""What a scan found, counted and grouped for the executive summary.

The HTML report, the PDF and the terminal all start from the same
:class:`Summary`, so the numbers a compliance officer quotes agree everywhere.
It is built device by device (:meth:`Summary.add`), so a report of 50,000
devices never holds them all: it keeps counts, and per group only the
positions of its devices (an ``array`` of ints) and their addresses once.

Findings are grouped by regime (the finding ids of CONTRACTS.md). Inside a
regime, devices that share the finding, real maker, model, site and status
make one row, with a count and the list of their addresses: a restricted
camera model on one site is one row, not one row per camera. Each row keeps
the citations of its findings, because a finding without its source is not
one, and their distinct detail texts (a few; the findings CSV has every
device's). Status values are shown as the document gives them (``open``,
``possible``, ``accepted``, or any other a policy adds).

Leads (status ``lead``: the record they rest on is not confirmed) are kept
apart: grouped the same way in ``Summary.lead_groups`` and counted nowhere
else (not restricted, not in the matrix or the removal plan, not among the
findings). Titles and advice here name no date and no company: those come
from the findings (the knowledge files).
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from dataclasses import dataclass, field

from camaudit.model import SURVEILLANCE_TYPES
from camaudit.report.document import (
    DeviceDoc,
    Doc,
    FindingDoc,
    active_findings,
    findings,
    group_key,
    is_kev,
    is_lead,
    is_oem,
    kind_rank,
    severity_rank,
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
    "analytics": "This equipment offers analytics publicly reported (or stated by its own API, "
    "offered or enabled) to infer race or ethnicity. "
    "Such biometric categorisation is prohibited in the EU (the finding gives the date): make "
    "sure the feature is not licensed or enabled, and record how you checked.",
    "vulnerability": "The firmware found is affected by a published vulnerability. Update the "
    "firmware or isolate the device; a KEV entry means attackers are known to exploit it.",
    "unknown-maker": "camaudit could not tell who made this device. Inspect it physically or ask "
    "the installer; an unknown maker may hide restricted equipment.",
    "inventory": "Your inventory says one thing and the device another. Correct the inventory "
    "or find out why the device differs.",
}

#: Distinct texts kept per row or group (titles, brands, bases); the rest are counted.
TEXT_CAP = 8
#: Distinct finding details shown per row; alike devices mostly share one (the CSV has all).
DETAIL_CAP = 5


def anchor_of(key: str, *, lead: bool = False) -> str:
    """A safe HTML id for a group key (keys come from policies, which an operator may write);
    the leads of a regime have their own (``l-``), apart from its findings (``g-``)."""
    return ("l-" if lead else "g-") + re.sub(r"[^a-z0-9-]+", "-", key.lower()).strip("-")


def _keep(texts: dict[str, None], value: object, cap: int = TEXT_CAP) -> None:
    text = str(value or "").strip()
    if text and len(texts) < cap:
        texts.setdefault(text)


@dataclass
class DeviceSet:
    """Positions of devices in the document (4 bytes each), for counts and address lists."""

    indexes: array[int] = field(default_factory=lambda: array("I"))

    def add(self, index: int) -> None:
        if not self.indexes or self.indexes[-1] != index:  # devices arrive in order
            self.indexes.append(index)

    def __len__(self) -> int:
        return len(self.indexes)


@dataclass
class GroupRow:
    """Devices that share one finding, real maker, model, site and status within a regime."""

    finding_id: str
    manufacturer: str | None
    model: str | None
    site: str | None
    status: str
    severity: str = "info"
    titles: dict[str, None] = field(default_factory=dict)
    brands: dict[str, None] = field(default_factory=dict)
    sources: dict[str, None] = field(default_factory=dict)
    details: dict[str, None] = field(default_factory=dict)
    details_left_out: int = 0  # findings whose detail text is not among `details`
    devices: DeviceSet = field(default_factory=DeviceSet)

    @property
    def count(self) -> int:
        return len(self.devices)

    def add(self, index: int, device: DeviceDoc, finding: FindingDoc) -> None:
        severity = str(finding.get("severity") or "info")
        if severity_rank(severity) > severity_rank(self.severity) or not self.devices:
            self.severity = severity
        _keep(self.titles, finding.get("title"))
        _keep(self.sources, finding.get("source"))
        detail = str(finding.get("detail") or "").strip()
        if detail and detail not in self.details:
            if len(self.details) < DETAIL_CAP:
                self.details[detail] = None
            else:
                self.details_left_out += 1
        if device.get("brand") != device.get("manufacturer"):
            _keep(self.brands, device.get("brand"))
        self.devices.add(index)


@dataclass
class Group:
    """The findings of one regime: rows of alike devices, and every distinct citation."""

    key: str
    kind: str
    lead: bool = False  # a group of leads (Summary.lead_groups), shown apart
    rows: dict[tuple[str, str, str, str, str], GroupRow] = field(default_factory=dict)
    findings: int = 0
    devices: DeviceSet = field(default_factory=DeviceSet)
    bases: dict[str, None] = field(default_factory=dict)
    sources: dict[str, None] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    worst: str = "info"

    @property
    def title(self) -> str:
        return GROUP_TITLES.get(self.key, self.key)

    @property
    def advice(self) -> str:
        return KIND_ADVICE.get(self.kind, "")

    @property
    def anchor(self) -> str:
        return anchor_of(self.key, lead=self.lead)

    @property
    def device_count(self) -> int:
        return len(self.devices)

    @property
    def ordered_rows(self) -> list[GroupRow]:
        """Most severe first, then the largest groups of alike devices."""
        return sorted(self.rows.values(), key=lambda r: (
            -severity_rank(r.severity), -r.count, r.finding_id, r.manufacturer or "~",
            r.model or "~", r.site or "~", r.status))

    def add(self, index: int, device: DeviceDoc, finding: FindingDoc) -> None:
        status = str(finding.get("status") or "open")
        key = (str(finding.get("id")), str(device.get("manufacturer") or ""),
               str(device.get("model") or ""), str(device.get("site") or ""), status)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = GroupRow(
                key[0], device.get("manufacturer"), device.get("model"), device.get("site"),
                status)
        row.add(index, device, finding)
        self.findings += 1
        self.devices.add(index)
        self.statuses[status] += 1
        _keep(self.bases, finding.get("basis"), cap=TEXT_CAP * 2)
        _keep(self.sources, finding.get("source"), cap=10_000)
        if severity_rank(finding.get("severity")) > severity_rank(self.worst):
            self.worst = str(finding.get("severity"))


@dataclass
class MatrixRow:
    """Restricted devices of one real maker and model, and how many fall under each regime."""

    manufacturer: str | None
    model: str | None
    brands: dict[str, None] = field(default_factory=dict)
    sites: dict[str, None] = field(default_factory=dict)
    site_count: int = 0
    regimes: Counter[str] = field(default_factory=Counter)
    devices: DeviceSet = field(default_factory=DeviceSet)

    @property
    def count(self) -> int:
        return len(self.devices)


@dataclass
class Summary:
    """Counts for the executive summary (devices counted once per category), built device by
    device; `addresses` holds each device's address at its position in the document."""

    devices: int = 0
    surveillance: int = 0  # camera, recorder, encoder, vms or surveillance (role not settled)
    by_type: Counter[str] = field(default_factory=Counter)
    by_maker: Counter[str] = field(default_factory=Counter)
    restricted: int = 0
    analytics: int = 0
    vulnerable: int = 0
    kev: int = 0  # confirmed: the firmware read is inside a published affected range
    kev_possible: int = 0  # the model is affected but the firmware was not read or not conclusive
    unknown_maker: int = 0
    white_label: int = 0
    with_findings: int = 0  # devices with a finding that is not a lead
    findings: int = 0  # findings, leads not included
    leads: int = 0  # lead findings: listed apart (lead_groups), counted nowhere else
    lead_devices: int = 0  # devices with at least one lead
    addresses: list[str] = field(default_factory=list)
    rules: dict[str, str | None] = field(default_factory=dict)  # rule -> its source
    _groups: dict[str, Group] = field(default_factory=dict)
    _matrix: dict[tuple[str, str], MatrixRow] = field(default_factory=dict)
    _leads: dict[str, Group] = field(default_factory=dict)

    def add(self, index: int, device: DeviceDoc) -> None:
        """Count one device and its findings; `index` is its position in the document."""
        self.devices += 1
        self.addresses.append(str(device.get("address", "?")))
        device_type = str(device.get("device_type") or "unknown")
        self.by_type[device_type] += 1
        self.surveillance += device_type in SURVEILLANCE_TYPES
        self.by_maker[str(device.get("manufacturer") or "unknown")] += 1
        self.white_label += is_oem(device)
        for item in device.get("evidence") or []:
            rule = str(item.get("rule", ""))
            if rule and (rule not in self.rules or self.rules[rule] is None):
                self.rules[rule] = item.get("source")
        found = [f for f in findings(device) if not is_lead(f)]
        leads = [f for f in findings(device) if is_lead(f)]
        self.findings += len(found)
        self.with_findings += bool(found)
        self.leads += len(leads)
        self.lead_devices += bool(leads)
        for finding in found:
            _group(self._groups, finding).add(index, device, finding)
        for finding in leads:
            _group(self._leads, finding, lead=True).add(index, device, finding)
        active = active_findings(device)  # neither accepted findings nor leads
        kinds = {str(f.get("kind")) for f in active}
        self.restricted += "restriction" in kinds
        self.analytics += "analytics" in kinds
        self.vulnerable += "vulnerability" in kinds
        self.unknown_maker += "unknown-maker" in kinds
        kev_read = _has_kev(active, possible=False)
        self.kev += kev_read
        self.kev_possible += _has_kev(active, possible=True) and not kev_read
        if "restriction" in kinds:
            self._add_to_matrix(index, device, active)

    def _add_to_matrix(self, index: int, device: DeviceDoc, active: list[FindingDoc]) -> None:
        key = (str(device.get("manufacturer") or ""), str(device.get("model") or ""))
        row = self._matrix.get(key)
        if row is None:
            row = self._matrix[key] = MatrixRow(device.get("manufacturer"), device.get("model"))
        row.devices.add(index)
        if device.get("brand") != device.get("manufacturer"):
            _keep(row.brands, device.get("brand"))
        site = str(device.get("site") or "")
        if site and site not in row.sites:
            row.site_count += 1
            _keep(row.sites, site)
        for regime in {group_key(f) for f in active if f.get("kind") == "restriction"}:
            row.regimes[regime] += 1

    @property
    def groups(self) -> list[Group]:
        """Regimes in the order a compliance officer acts on them, worst first within a kind."""
        return sorted(self._groups.values(),
                      key=lambda g: (kind_rank(g.kind), -severity_rank(g.worst), g.key))

    @property
    def matrix(self) -> list[MatrixRow]:
        return sorted(self._matrix.values(),
                      key=lambda r: (-r.count, r.manufacturer or "~", r.model or "~"))

    @property
    def matrix_regimes(self) -> list[str]:
        """Restriction regimes that some device falls under, in the order of the groups."""
        seen = {regime for row in self._matrix.values() for regime in row.regimes}
        return [g.key for g in self.groups if g.key in seen]

    @property
    def lead_groups(self) -> list[Group]:
        """The leads by regime (or finding id), in the order of the findings' groups."""
        return sorted(self._leads.values(),
                      key=lambda g: (kind_rank(g.kind), -severity_rank(g.worst), g.key))


def _group(groups: dict[str, Group], finding: FindingDoc, *, lead: bool = False) -> Group:
    """The group of `finding`'s regime in `groups`, made on its first finding."""
    key = group_key(finding)
    group = groups.get(key)
    if group is None:
        group = groups[key] = Group(key, str(finding.get("kind")), lead=lead)
    return group


def _has_kev(active: list[FindingDoc], *, possible: bool) -> bool:
    return any(is_kev(f) and (f.get("status") == "possible") == possible
               for f in active if f.get("kind") == "vulnerability")


def summarise(doc: Doc) -> Summary:
    """Count devices by class and maker, and group findings by regime, worst first."""
    summary = Summary()
    for index, device in enumerate(doc.get("devices") or []):
        summary.add(index, device)
    return summary
