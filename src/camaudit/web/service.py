"""What the console's routes call: the CLI's own functions, limited to the reader's sites.

Routes parse and render; this module assembles: the camaudit/1 document of a scan (or of
the devices a reader may see), the removal plan with its statuses and the console's unit
costs, findings by regime, the diff, ``explain`` lines and evidence bundles. Every
function takes ``sites`` (None: every site) and passes it to the store's reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from camaudit.errors import UsageError
from camaudit.model import Device, Observation
from camaudit.output import build_document
from camaudit.report.diff import ScanDiff, diff_documents
from camaudit.report.removal import CostClass, CostTable, PlanItem, load_cost_table, plan_removal
from camaudit.report.summary import Summary, summarise
from camaudit.store import Store
from camaudit.store import inventory as inv
from camaudit.store.console import Console, RemovalMark

Sites = inv.Sites
T = TypeVar("T")


@functools.cache
def policy_filter(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(regimes, finding-id prefixes) a built-in policy checks, for the inventory filter."""
    from camaudit.assess.policy import BUILTINS, load_policies

    if name not in (*BUILTINS, "all"):
        raise UsageError(f"policy must be one of all, {', '.join(BUILTINS)}")
    policies = load_policies([name])
    prefixes = [p for p, on in (("kev:", policies.kev), ("cve:", policies.cve),
                                ("analytics:", policies.analytics),
                                ("unknown-maker", policies.unknown_maker)) if on]
    regimes = sorted(policies.regimes | {b.id for b in policies.bans})
    return tuple(regimes), tuple(prefixes)


def make_filter(params: dict[str, str]) -> inv.DeviceFilter:
    """A DeviceFilter from query parameters (unknown names are ignored)."""
    names = {f.name for f in dataclasses.fields(inv.DeviceFilter) if f.type == "str"}
    values: dict[str, Any] = {k: v.strip()[:200] for k, v in params.items()
                              if k in names and v.strip()}
    policy = params.get("policy", "").strip()
    if policy:
        values["policy_regimes"], values["policy_prefixes"] = policy_filter(policy)
    return inv.DeviceFilter(**values)


def scan_or_404(store: Store, scan_id: int, sites: Sites) -> dict[str, Any]:
    """The scan, if the reader may see it (else the same error as a missing one)."""
    if not inv.scan_visible(store, scan_id, sites=sites):
        raise LookupError(f"no scan {scan_id}")
    return store.scan(scan_id)


def document(store: Store, scan_id: int, devices: list[Device], sites: Sites) -> dict[str, Any]:
    """The camaudit/1 document of these devices (out-of-scope refusals: unlimited readers)."""
    refused = store.refusals(scan_id) if sites is None else []
    return build_document(store.scan(scan_id), devices, refused)


def scan_document(store: Store, scan_id: int, sites: Sites,
                  flt: inv.DeviceFilter | None = None) -> dict[str, Any]:
    devices = inv.query_devices(store, scan_id, flt or inv.DeviceFilter(), sites=sites,
                                limit=None).devices
    return document(store, scan_id, devices, sites)


def cost_table(console: Console) -> CostTable:
    """The built-in placeholder table with the figures set in the console merged over it."""
    table = load_cost_table(None)
    set_here = console.unit_costs()
    if not set_here:
        return table
    classes = dict(table.classes)
    for name, row in set_here.items():
        classes[name] = CostClass(row["replace_with"], float(row["hardware"]),
                                  float(row["labour"]))
    basis = ("Figures for " + ", ".join(sorted(set_here)) + " set in the console (who and "
             "when: the audit log); other classes keep the placeholder defaults: "
             + table.basis)
    return dataclasses.replace(table, classes=classes, basis=basis, origin="console")


@dataclass
class RemovalRow:
    item: PlanItem
    device: dict[str, Any]  # the plan item's camaudit/1 device entry (without evidence)
    key: str
    mark: RemovalMark | None

    @property
    def status(self) -> str:
        if self.mark is None or self.mark.lapsed:
            return "lapsed" if self.mark is not None else "open"
        return self.mark.status

    @property
    def done(self) -> bool:
        return self.status in ("replaced", "accepted")


@dataclass
class RemovalView:
    table: CostTable
    rows: list[RemovalRow]

    @property
    def total(self) -> float:
        return sum(r.item.cost.total for r in self.rows)

    @property
    def remaining(self) -> float:
        return sum(r.item.cost.total for r in self.rows if not r.done)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)

    @property
    def by_site(self) -> dict[str, float]:
        sums: dict[str, float] = {}
        for r in self.rows:
            if not r.done:
                sums[r.item.site] = sums.get(r.item.site, 0.0) + r.item.cost.total
        return dict(sorted(sums.items(), key=lambda kv: (-kv[1], kv[0])))


_CACHE: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_KEEP = 16


def _finished_scan_cached(store: Store, scan_id: int, what: tuple[Any, ...],
                          build: Callable[[], T]) -> T:
    """`build()`, kept in memory when the scan is finished: a finished scan never changes
    (resuming one gives it a new `finished` time, hence a new key). Results are shared:
    callers must not change them."""
    scan = store.scan(scan_id)
    if scan["status"] != "done":
        return build()
    key = (store.url, scan_id, scan["finished"], *what)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return cast(T, _CACHE[key])
    value = build()
    with _CACHE_LOCK:
        _CACHE[key] = value
        while len(_CACHE) > _CACHE_KEEP:
            _CACHE.popitem(last=False)
    return value


def light_document(store: Store, scan_id: int, sites: Sites,
                   kind: str | None = None) -> dict[str, Any]:
    """The scan's document with devices as ``inventory.summary_devices`` reads them: enough
    for findings by regime, the removal plan and the diff of a 5,000-device audit without
    reading 20,000 findings' evidence."""
    def build() -> dict[str, Any]:
        doc = document(store, scan_id, [], sites)
        doc["devices"] = inv.summary_devices(store, scan_id, sites=sites, kind=kind)
        return doc

    return _finished_scan_cached(store, scan_id, ("light", sites, kind), build)


def removal(store: Store, console: Console, scan_id: int, sites: Sites) -> RemovalView:
    """The report's removal plan, each line with its console status (who, when, why)."""
    doc = light_document(store, scan_id, sites, "restriction")
    table = cost_table(console)
    plan = plan_removal(doc, table)
    devices = [doc["devices"][item.device_index] for item in plan.items]
    keys = [inv.doc_device_key(device) for device in devices]
    marks = console.removal_marks(keys)
    return RemovalView(table, [RemovalRow(item, device, key, marks.get(key)) for item, device, key
                               in zip(plan.items, devices, keys, strict=True)])


def findings(store: Store, scan_id: int, sites: Sites) -> Summary:
    """Findings by regime, as the report's summary groups them."""
    return _finished_scan_cached(store, scan_id, ("summary", sites),
                                 lambda: summarise(light_document(store, scan_id, sites)))


def warm_up() -> None:
    """Load what the first device page and policy filter would otherwise wait for: the
    fingerprint rule index and the policies with their knowledge (about a second)."""
    from camaudit.identify import explain as explain_device

    explain_device(Device("127.0.0.1"), [Observation("127.0.0.1", 80, "http",
                                                     {"server": "warm-up"})])
    policy_filter("all")


def diff(store: Store, old: int, new: int, sites: Sites) -> ScanDiff:
    """``camaudit diff`` of two scans (what it compares needs no evidence)."""
    return diff_documents(light_document(store, old, sites), light_document(store, new, sites))


def explain(store: Store, scan_id: int, device: Device) -> tuple[list[str], list[Observation]]:
    """``camaudit explain`` lines for the device, and its raw observations."""
    from camaudit.identify import explain as explain_device

    observations = list(store.observations(scan_id, device.address))
    result = explain_device(device, observations)
    return (result if isinstance(result, list) else [str(result)]), observations


def parse_date(text: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def signing_key(secrets_dir: Path) -> Path:
    """The console's Ed25519 evidence-signing key (made on first use, mode 0600)."""
    from camaudit.report.signing import generate_key

    key = secrets_dir / "evidence-signing.key"
    if not key.exists():
        generate_key(key)
    return key


def evidence_bundle(store: Store, scan_id: int, sites: Sites, secrets_dir: Path,
                    out: Path) -> Path:
    """A signed evidence bundle of the devices the reader may see, and their observations."""
    from camaudit.report.bundle import build_bundle
    from camaudit.report.signing import load_private_key

    doc = scan_document(store, scan_id, sites)
    addresses = {d["address"] for d in doc["devices"]}
    observations = (o for o in store.observations(scan_id)
                    if sites is None or o.address in addresses)
    made = build_bundle(doc, observations, load_private_key(signing_key(secrets_dir)), out)
    return made.path


def report_html(store: Store, console: Console, scan_id: int, sites: Sites, out: Path) -> Path:
    """The HTML report, written as ``camaudit report --html`` writes it (streamed from the
    store; from the reader's devices only when they are limited to some sites)."""
    from camaudit.report.build import build_reports
    from camaudit.report.source import DocSource, Source, StoreSource

    source: Source = (StoreSource(store, scan_id) if sites is None
                      else DocSource(scan_document(store, scan_id, sites)))
    build_reports(source, html=out, table=cost_table(console))
    return out


def allow_list(view: RemovalView, scan_id: int) -> str:
    """The accepted devices of a removal plan as a policy file's ``allow`` list (YAML), so
    that ``camaudit scan --policy all --policy FILE`` reports them as accepted too."""
    import yaml

    entries = []
    for row in view.rows:
        mark = row.mark
        if row.status != "accepted" or mark is None or mark.expires is None:
            continue
        device = row.device
        where = ({"serial": device["serial"]} if device.get("serial")
                 else {"mac": device["mac"]} if device.get("mac")
                 else {"address": device["address"]})
        for regime in row.item.regimes:
            entries.append({**where, "finding": regime,
                            "reason": f"{mark.reason} (web console, {mark.time:%Y-%m-%d})",
                            "expires": mark.expires, "approved_by": mark.who})
    head = (f"# Accepted devices of audit {scan_id}, from the camaudit web console.\n"
            "# Use: camaudit scan ... --policy all --policy THIS_FILE\n")
    body = yaml.safe_dump({"policy": "console-allow-list", "allow": entries},
                          sort_keys=False, allow_unicode=True)
    return head + body
