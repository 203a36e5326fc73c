"""The removal plan: what to replace, in which order, and roughly at what cost.

Every device with an open restriction finding gets a line: its replacement
class and a cost estimate from a cost table. The defaults (``costs.yaml``
beside this module) are placeholder planning figures and say so; an operator
passes their own YAML with ``--costs``, merged over the defaults. Lines are
ordered by severity (then: exploited firmware first, most regimes first), and
totalled per site and per regime. A device under three regimes counts in each
of the three regime totals, so regime totals overlap; the grand total does not.
The report shows the plan a line per site, real maker, model and class
(:attr:`RemovalPlan.groups`) with the addresses behind each line; the plan is
built device by device and keeps a few fields per restricted device, not the
device. ``surveillance`` (equipment whose role is not settled) has its own
cost class like camera, recorder and encoder.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from camaudit.errors import ConfigError
from camaudit.model import DEVICE_TYPES
from camaudit.report.document import (
    DeviceDoc,
    Doc,
    active_findings,
    group_key,
    has_kind,
    is_kev,
    severity_rank,
    worst_severity,
)

COST_CLASSES: tuple[str, ...] = (*DEVICE_TYPES, "unknown")
NO_SITE = "(no site given)"
_TOP_KEYS = {"currency", "basis", "classes"}
_CLASS_KEYS = {"replace_with", "hardware", "labour"}


@dataclass(frozen=True)
class CostClass:
    """Replacement for one class of device, and the cost of one replacement."""

    replace_with: str
    hardware: float
    labour: float

    @property
    def total(self) -> float:
        return self.hardware + self.labour


@dataclass(frozen=True)
class CostTable:
    currency: str
    basis: str
    classes: dict[str, CostClass]
    origin: str  # "built-in defaults" or the operator's file


def _line_of(node: yaml.Node | None, path: list[str]) -> int | None:
    """1-based line of the key at the end of `path` in a composed YAML tree, for messages."""
    line = None
    for key in path:
        if not isinstance(node, yaml.MappingNode):
            break
        pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == key), None)
        if pair is None:
            break
        line, node = pair[0].start_mark.line + 1, pair[1]
    return line


def _read_yaml(text: str, origin: str) -> tuple[dict[str, Any], yaml.Node | None]:
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{origin}{where}: not valid YAML: {exc}") from exc
    if data is None:
        return {}, node
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}:1: a cost table is a mapping with 'classes'")
    return data, node


def _check(data: dict[str, Any], node: yaml.Node | None, origin: str) -> None:
    """Refuse unknown keys and negative or non-numeric costs, naming file and line."""

    def fail(path: list[str], what: str) -> ConfigError:
        line = _line_of(node, path)
        return ConfigError(f"{origin}:{line or 1}: {'.'.join(path)}: {what}")

    for key in data:
        if key not in _TOP_KEYS:
            raise fail([str(key)], f"unknown key (expected one of {', '.join(sorted(_TOP_KEYS))})")
    for key in ("currency", "basis"):
        if key in data and not isinstance(data[key], str):
            raise fail([key], "must be text")
    classes = data.get("classes", {})
    if not isinstance(classes, dict):
        raise fail(["classes"], "must be a mapping of device class to costs")
    for name, entry in classes.items():
        if name not in COST_CLASSES:
            raise fail(["classes", str(name)], f"unknown class (use {', '.join(COST_CLASSES)})")
        if not isinstance(entry, dict):
            raise fail(["classes", name], "must be a mapping with replace_with, hardware, labour")
        for key, value in entry.items():
            path = ["classes", name, str(key)]
            if key not in _CLASS_KEYS:
                raise fail(path, f"unknown key (expected {', '.join(sorted(_CLASS_KEYS))})")
            if key == "replace_with" and not isinstance(value, str):
                raise fail(path, "must be text")
            if key != "replace_with" and (
                isinstance(value, bool) or not isinstance(value, int | float) or value < 0
            ):
                raise fail(path, f"must be a number >= 0, not {value!r}")


def load_cost_table(override: Path | None = None) -> CostTable:
    """The built-in defaults, with the operator's file (if any) merged over them."""
    default_text = resources.files("camaudit.report").joinpath("costs.yaml").read_text("utf-8")
    data, node = _read_yaml(default_text, "costs.yaml (built-in)")
    _check(data, node, "costs.yaml (built-in)")
    origin = "built-in defaults"
    if override is not None:
        try:
            text = override.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{override}: cannot read the cost table: {exc}") from exc
        extra, extra_node = _read_yaml(text, str(override))
        _check(extra, extra_node, str(override))
        if extra.get("classes") and "basis" not in extra:
            # The default basis calls every figure a placeholder; say what changed instead.
            extra["basis"] = (
                f"Figures from {override.name} (which states no basis); classes it does not "
                f"set keep the placeholder defaults: {data['basis']}"
            )
        for name, entry in (extra.pop("classes", None) or {}).items():
            data["classes"][name] = {**data["classes"].get(name, {}), **entry}
        data.update(extra)
        origin = str(override)
    classes = {
        name: CostClass(str(e["replace_with"]), float(e["hardware"]), float(e["labour"]))
        for name, e in data["classes"].items()
    }
    missing = [c for c in COST_CLASSES if c not in classes]
    if missing:
        raise ConfigError(f"{origin}: cost table lacks classes {', '.join(missing)}")
    return CostTable(str(data["currency"]), str(data["basis"]).strip(), classes, origin)


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One device to replace (its position in the document and what the plan needs of it)."""

    device_index: int
    address: str
    site: str
    manufacturer: str | None
    model: str | None
    regimes: tuple[str, ...]
    severity: str
    exploited: bool  # firmware with a CISA KEV entry: replace (or isolate) first
    cost_class: str
    cost: CostClass


@dataclass
class PlanGroup:
    """The devices to replace of one site, real maker, model and class: one line of the plan."""

    site: str
    manufacturer: str | None
    model: str | None
    cost_class: str
    cost: CostClass
    items: list[PlanItem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def total(self) -> float:
        return self.cost.total * len(self.items)

    @property
    def severity(self) -> str:
        return max((i.severity for i in self.items), key=severity_rank, default="info")

    @property
    def exploited(self) -> int:
        return sum(i.exploited for i in self.items)

    @property
    def regimes(self) -> list[str]:
        return list(dict.fromkeys(r for i in self.items for r in i.regimes))


@dataclass
class RemovalPlan:
    """Built device by device (:meth:`add`); keeps a small record per restricted device only."""

    table: CostTable
    items: list[PlanItem] = field(default_factory=list)
    _sorted: bool = True

    def add(self, index: int, device: DeviceDoc) -> None:
        """Add `device` (at `index` in the document) if an open restriction finding names it."""
        if not has_kind(device, "restriction"):
            return
        active = active_findings(device)
        restrictions = [f for f in active if f.get("kind") == "restriction"]
        cost_class = str(device.get("device_type") or "unknown")
        self.items.append(PlanItem(
            device_index=index,
            address=str(device.get("address", "?")),
            site=str(device.get("site") or NO_SITE),
            manufacturer=device.get("manufacturer"),
            model=device.get("model"),
            regimes=tuple(dict.fromkeys(group_key(f) for f in restrictions)),
            severity=worst_severity(restrictions) or "info",
            # As the summary counts it: a KEV finding, unless the firmware was not conclusive.
            exploited=any(f.get("kind") == "vulnerability" and is_kev(f)
                          and f.get("status") != "possible" for f in active),
            cost_class=cost_class,
            cost=self.table.classes.get(cost_class, self.table.classes["unknown"]),
        ))
        self._sorted = False

    def ordered(self) -> list[PlanItem]:
        """Most severe first; within a severity exploited firmware, then most regimes."""
        if not self._sorted:
            self.items.sort(key=lambda i: (-severity_rank(i.severity), not i.exploited,
                                           -len(i.regimes), i.site, _address_key(i.address)))
            self._sorted = True
        return self.items

    @property
    def groups(self) -> list[PlanGroup]:
        """One line per site, maker, model and class: most severe, then costliest first."""
        lines: dict[tuple[str, str, str, str], PlanGroup] = {}
        for item in self.ordered():
            key = (item.site, item.manufacturer or "", item.model or "", item.cost_class)
            line = lines.get(key)
            if line is None:
                line = lines[key] = PlanGroup(item.site, item.manufacturer, item.model,
                                              item.cost_class, item.cost)
            line.items.append(item)
        return sorted(lines.values(), key=lambda g: (
            -severity_rank(g.severity), -g.exploited, g.site, -g.total,
            g.manufacturer or "~", g.model or "~"))

    @property
    def total(self) -> float:
        return sum(i.cost.total for i in self.items)

    @property
    def by_site(self) -> dict[str, float]:
        return self._totals(lambda item: [item.site])

    @property
    def by_regime(self) -> dict[str, float]:
        return self._totals(lambda item: list(item.regimes))

    def count(self, *, site: str | None = None, regime: str | None = None) -> int:
        return sum(
            (site is None or i.site == site) and (regime is None or regime in i.regimes)
            for i in self.items
        )

    def _totals(self, keys: Any) -> dict[str, float]:
        sums: dict[str, float] = defaultdict(float)
        for item in self.items:
            for key in keys(item):
                sums[key] += item.cost.total
        return dict(sorted(sums.items(), key=lambda kv: (-kv[1], kv[0])))


def _address_key(address: str) -> tuple[int, int, str]:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return (9, 0, address)
    return (ip.version, int(ip), "")


def plan_removal(doc: Doc, table: CostTable | None = None) -> RemovalPlan:
    """One line per device with an open restriction finding, most severe first."""
    plan = RemovalPlan(table or load_cost_table())
    for index, device in enumerate(doc.get("devices") or []):
        plan.add(index, device)
    plan.ordered()
    return plan
