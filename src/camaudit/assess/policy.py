"""Policies: which regimes and checks apply, plus the operator's own rules.

Built-in sets are YAML files in ``assess/policies/`` (us-federal,
uk-public-sector, au-gov, eu-ai-act, security); ``all`` is their union and the
default. An operator's policy file has the same keys and may add more::

    policy: acme-estates                  # a name for reports
    extends: [us-federal]                 # built-ins (or "all") to include
    regimes: [uk-sensitive-sites-2022]    # more regimes by id
    binding: [uk-sensitive-sites-2022]    # regimes that bind this organisation (see below)
    kev: true                             # CISA KEV findings   (kev:CVE-...)
    cve: false                            # other CVE findings  (cve:CVE-...)
    analytics: true                       # ethnicity analytics (analytics:...)
    unknown_maker: true                   # cameras whose maker is unknown
    ban:                                  # makers this organisation bans
      - {maker: Tiandy, reason: "board decision 2026-03", source: "https://...", severity: high}
    sensitive_sites: [hq, depot-3]        # device.site values; UK findings there are high
    severity: {fcc-22-84: high, kev: critical, unknown-maker: low}
    allow:                                # accepted risk: the finding stays, as "accepted"
      - {address: 192.0.2.10, finding: ndaa-889, reason: "replacement ordered",
         expires: 2027-03-31, approved_by: "J. Smith"}

Several specs combine: regimes and checks are united, bans and allow entries
added, severities of later specs win. Mistakes raise ConfigError
``file:line: what is wrong``.

Scope: a regime binds only some buyers (US federal agencies and contractors, UK
departments, Australian Defence...). ``binding`` lists the regimes that bind the
policy's users; their findings say "applies to you", the others "named by". Each
built-in names what binds its users (us-federal: NDAA 889; uk-public-sector: the UK
statement; au-gov: none, the 2023 removal binds Defence sites only). ``all`` (the
default) and ``extends: [all]`` check every regime but bind none: camaudit does not
know who the operator is. Old regime ids (``us-entity-list-2019``) are still read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from camaudit.errors import ConfigError
from camaudit.knowledge import KnowledgeBase, knowledge, yamlio
from camaudit.knowledge.makers import canonical, maker_id, norm
from camaudit.knowledge.restrictions import RENAMED
from camaudit.model import SEVERITIES

BUILTINS = ("us-federal", "uk-public-sector", "au-gov", "eu-ai-act", "security")
_DIR = Path(__file__).resolve().parent / "policies"
_KEYS = {"policy", "description", "extends", "regimes", "binding", "kev", "cve", "analytics",
         "unknown_maker", "ban", "sensitive_sites", "severity", "allow"}
_BAN_KEYS = {"maker", "reason", "source", "severity", "id"}
_ALLOW_KEYS = {"address", "mac", "serial", "finding", "reason", "expires", "approved_by"}
#: Severity override keys besides finding ids: a kind, or an id prefix (before ':').
_KINDS = {"restriction", "vulnerability", "analytics", "unknown-maker", "kev", "cve", "ban"}


@dataclass(frozen=True)
class Ban:
    """A maker the operator bans; a finding `id` of kind restriction, regime = policy name."""

    id: str
    maker: str  # canonical name if known, else as written
    key: str  # matching key (maker id or normalised name)
    reason: str
    source: str
    severity: str
    policy: str


@dataclass(frozen=True)
class Allow:
    """Accepted risk for one device (by address, MAC or serial) and one finding (or all)."""

    address: str | None
    mac: str | None
    serial: str | None
    finding: str | None  # exact id, "prefix:*", or None for every finding
    reason: str
    expires: date
    approved_by: str | None
    origin: str  # file:line, so an auditor can find the entry

    def covers_finding(self, finding_id: str) -> bool:
        if self.finding is None:
            return True
        if self.finding.endswith("*"):
            return finding_id.startswith(self.finding[:-1])
        return finding_id == self.finding


@dataclass
class PolicySet:
    """Everything assess() needs: the selected checks and the knowledge they rest on."""

    names: list[str] = field(default_factory=list)
    regimes: set[str] = field(default_factory=set)
    #: regime id -> the policy that says it binds its users ("applies to you")
    binding: dict[str, str] = field(default_factory=dict)
    kev: bool = False
    cve: bool = False
    analytics: bool = False
    unknown_maker: bool = False
    bans: list[Ban] = field(default_factory=list)
    sensitive_sites: set[str] = field(default_factory=set)
    severity: dict[str, str] = field(default_factory=dict)
    allow: list[Allow] = field(default_factory=list)
    kb: KnowledgeBase | None = None

    @property
    def knowledge(self) -> KnowledgeBase:
        if self.kb is None:
            self.kb = knowledge()
        return self.kb


def _flag(where: yamlio.Where, node: yamlio.LDict, key: str) -> bool:
    value = node.get(key, False)
    if not isinstance(value, bool):
        raise where.error(node, key, f"{key!r} must be true or false, not {value!r}")
    return value


def _severity(where: yamlio.Where, node: yamlio.LDict, key: str, value: object) -> str:
    if value not in SEVERITIES:
        raise where.error(node, key, f"severity {value!r} is not one of {', '.join(SEVERITIES)}")
    return str(value)


def _regimes(where: yamlio.Where, root: yamlio.LDict, key: str, kb: KnowledgeBase) -> list[str]:
    out = []
    for written in where.strings(root, key):
        rid = RENAMED.get(written, written)
        if rid not in kb.regimes:
            raise where.error(root, key, f"unknown regime {written!r} "
                              f"(known: {', '.join(sorted(kb.regimes))})")
        out.append(rid)
    return out


def _merge(into: PolicySet, doc: object, origin: str, kb: KnowledgeBase,
           seen: tuple[str, ...], *, binds: bool = True) -> None:
    """Add one policy file; `binds` is False under ``all``, which binds nobody."""
    where = yamlio.Where(origin)
    root = where.mapping(doc, None, "a policy file")
    where.check_keys(root, _KEYS, "a policy")
    name = where.string(root, "policy", required=False) or Path(origin).stem
    into.names.append(name)
    for base in where.strings(root, "extends"):
        if base != "all" and base not in BUILTINS:
            raise where.error(root, "extends", f"unknown built-in policy {base!r} "
                              f"(known: all, {', '.join(BUILTINS)})")
        for builtin in BUILTINS if base == "all" else (base,):
            if builtin not in seen:
                _merge(into, yamlio.load(_DIR / f"{builtin}.yaml"), f"{builtin}.yaml", kb,
                       (*seen, builtin), binds=binds and base != "all")
    into.regimes.update(_regimes(where, root, "regimes", kb))
    for rid in _regimes(where, root, "binding", kb):
        into.regimes.add(rid)
        if binds:
            into.binding.setdefault(rid, name)
    into.kev |= _flag(where, root, "kev")
    into.cve |= _flag(where, root, "cve")
    into.analytics |= _flag(where, root, "analytics")
    into.unknown_maker |= _flag(where, root, "unknown_maker")
    into.sensitive_sites |= set(where.strings(root, "sensitive_sites"))
    _bans(into, where, root, name)
    _severities(into, where, root, kb)
    _allows(into, where, root, origin)


def _bans(into: PolicySet, where: yamlio.Where, root: yamlio.LDict, name: str) -> None:
    if root.get("ban") is None:
        return
    bans = root["ban"]
    if not isinstance(bans, yamlio.LList):
        raise where.error(root, "ban", "'ban' must be a list of {maker, reason, source}")
    for i in range(len(bans)):
        node = where.item(bans, i, "a ban")
        where.check_keys(node, _BAN_KEYS, "a ban")
        written = where.string(node, "maker") or ""
        mid = maker_id(written)
        source = where.string(node, "source")
        reason = where.string(node, "reason") or ""
        severity = _severity(where, node, "severity", node.get("severity", "high"))
        slug = mid or re.sub(r"[^a-z0-9]+", "-", written.lower()).strip("-")
        into.bans.append(Ban(
            id=where.string(node, "id", required=False) or f"ban:{slug}",
            maker=canonical(written) or written, key=mid or norm(written), reason=reason,
            source=source or "", severity=severity, policy=name))


def _severities(into: PolicySet, where: yamlio.Where, root: yamlio.LDict,
                kb: KnowledgeBase) -> None:
    if root.get("severity") is None:
        return
    table = root["severity"]
    if not isinstance(table, yamlio.LDict):
        raise where.error(root, "severity", "'severity' must map finding ids to severities")
    for written, value in table.items():
        key = RENAMED.get(written, written)
        known = (key in kb.regimes or key in _KINDS or ":" in key
                 or any(b.id == key for b in into.bans))
        if not known:
            raise where.error(table, written, f"{key!r} is not a finding id, id prefix or kind")
        into.severity[key] = _severity(where, table, written, value)


def _allows(into: PolicySet, where: yamlio.Where, root: yamlio.LDict, origin: str) -> None:
    if root.get("allow") is None:
        return
    entries = root["allow"]
    if not isinstance(entries, yamlio.LList):
        raise where.error(root, "allow", "'allow' must be a list of entries")
    for i in range(len(entries)):
        node = where.item(entries, i, "an allow entry")
        where.check_keys(node, _ALLOW_KEYS, "an allow entry")
        address = where.string(node, "address", required=False)
        mac = where.string(node, "mac", required=False)
        serial = where.string(node, "serial", required=False)
        if not (address or mac or serial):
            raise where.error(node, None, "an allow entry needs address, mac or serial")
        if not node.get("reason"):
            raise where.error(node, None, "an allow entry needs a reason")
        finding = where.string(node, "finding", required=False)
        into.allow.append(Allow(
            address=address, mac=mac.lower() if mac else None, serial=serial,
            finding=RENAMED.get(finding, finding) if finding else None,
            reason=where.string(node, "reason") or "",
            expires=where.day(node, "expires") or date.min,
            approved_by=where.string(node, "approved_by", required=False),
            origin=f"{origin}:{node.line}"))


def load_policies(specs: list[str] | None = None) -> PolicySet:
    """Built-in names or YAML paths -> one PolicySet (default ``["all"]``).

    Raises ConfigError ``file:line: what`` for a bad file, and for a name that
    is neither a built-in nor a readable file.
    """
    kb = knowledge()
    out = PolicySet(kb=kb)
    for spec in specs or ["all"]:
        if spec == "all" or spec in BUILTINS:
            for name in BUILTINS if spec == "all" else (spec,):
                _merge(out, yamlio.load(_DIR / f"{name}.yaml"), f"{name}.yaml", kb, (name,),
                       binds=spec != "all")
            continue
        path = Path(spec)
        if not path.is_file():
            raise ConfigError(f"{spec}: not a built-in policy (all, {', '.join(BUILTINS)}) "
                              "and not a policy file")
        _merge(out, yamlio.load(path), str(path), kb, ())
    out.names = list(dict.fromkeys(out.names))
    return out
