"""The inventory as the console and the API read it: filtered, sorted, paged, by site.

Filtering happens in SQL (a 5,000-device scan answers in milliseconds); sorting is done
in Python on (id, address, key) rows, because addresses sort by their numeric value,
which SQL text order gets wrong. A reader limited to some sites (``sites``) never sees a
device of another site: every function here takes that limit, so no caller can forget it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa

from camaudit.model import SEVERITIES, Device
from camaudit.store import schema as t
from camaudit.store.db import Store, _address_key, _utc

#: Sort keys of the inventory, and what each sorts by.
SORTS: tuple[str, ...] = ("address", "severity", "findings", "device_type", "manufacturer",
                          "brand", "model", "firmware", "site", "confidence")
UNKNOWN = "(unknown)"  # a filter value that selects devices whose field is null
Sites = tuple[str, ...] | None  # None: every site


@dataclass(frozen=True)
class DeviceFilter:
    """What the inventory shows. Empty strings mean "no filter"; text matches ignore case.

    site, device_type, manufacturer: exact (``(unknown)`` selects null); brand, model,
    firmware: substring; finding: a finding id, or a prefix ending in ``:`` (``kev:``);
    regime: a regime id; kind: a finding kind (``*``: any finding); policy_regimes and
    policy_prefixes: what a policy checks (resolved from its name by the caller);
    q: substring of any named field.
    """

    site: str = ""
    device_type: str = ""
    manufacturer: str = ""
    brand: str = ""
    model: str = ""
    firmware: str = ""
    finding: str = ""
    regime: str = ""
    kind: str = ""
    q: str = ""
    policy_regimes: tuple[str, ...] | None = None
    policy_prefixes: tuple[str, ...] = ()

    def as_query(self) -> dict[str, str]:
        """The filter as URL query parameters (what an export link carries)."""
        return {f.name: str(getattr(self, f.name)) for f in fields(self)
                if isinstance(getattr(self, f.name), str) and getattr(self, f.name)}


def _exact(column: Any, value: str) -> Any:
    return column.is_(None) if value == UNKNOWN else sa.func.lower(column) == value.lower()


def _contains(column: Any, value: str) -> Any:
    return sa.func.lower(column).contains(value.lower(), autoescape=True)


def _site_condition(sites: Sites) -> Any:
    return sa.true() if sites is None else t.devices.c.site.in_(list(sites))


def _conditions(scan_id: int, flt: DeviceFilter, sites: Sites) -> list[Any]:
    d, f = t.devices.c, t.findings.c
    cond: list[Any] = [d.scan_id == scan_id, _site_condition(sites)]
    for name in ("site", "device_type", "manufacturer"):
        value = getattr(flt, name)
        if value:
            cond.append(_exact(getattr(d, name), value))
    for name in ("brand", "model", "firmware"):
        value = getattr(flt, name)
        if value:
            cond.append(_contains(getattr(d, name), value))
    if flt.q:
        cond.append(sa.or_(*(_contains(getattr(d, n), flt.q) for n in (
            "address", "brand", "manufacturer", "model", "firmware", "serial", "mac",
            "hostname", "site"))))
    finding_cond: list[Any] = []
    if flt.finding:
        finding_cond.append(f.finding_id.startswith(flt.finding, autoescape=True)
                            if flt.finding.endswith(":") else f.finding_id == flt.finding)
    if flt.regime:
        finding_cond.append(f.regime == flt.regime)
    if flt.kind and flt.kind != "*":
        finding_cond.append(f.kind == flt.kind)
    if flt.policy_regimes is not None:
        finding_cond.append(sa.or_(
            f.regime.in_(list(flt.policy_regimes)),
            *(f.finding_id.startswith(p, autoescape=True) for p in flt.policy_prefixes)))
    if finding_cond or flt.kind == "*":
        cond.append(d.id.in_(sa.select(f.device_id).where(f.scan_id == scan_id, *finding_cond)))
    return cond


def _sort_column(sort: str) -> Any:
    d, f = t.devices.c, t.findings.c
    if sort == "findings":
        return (sa.select(sa.func.count()).where(f.device_id == d.id).correlate(t.devices)
                .scalar_subquery())
    if sort == "severity":
        rank = sa.case({name: i for i, name in enumerate(SEVERITIES)}, value=f.severity,
                       else_=0)
        return (sa.select(sa.func.max(rank)).where(
            f.device_id == d.id, f.status.in_(("open", "possible")))
            .correlate(t.devices).scalar_subquery())
    if sort in SORTS and sort != "address":
        return getattr(d, sort)
    return d.address


@dataclass
class Page:
    total: int
    offset: int
    limit: int
    devices: list[Device]


def query_devices(store: Store, scan_id: int, flt: DeviceFilter, *, sites: Sites,
                  sort: str = "address", descending: bool = False, offset: int = 0,
                  limit: int | None = 50) -> Page:
    """One page of the scan's devices that pass `flt`, sorted; `limit=None`: all of them."""
    column = _sort_column(sort)
    query = (sa.select(t.devices.c.id, t.devices.c.address, column)
             .where(*_conditions(scan_id, flt, sites)))
    with store._tx("filtering devices") as conn:
        rows = conn.execute(query).all()

    rows = sorted(rows, key=lambda row: _address_key(row[1]))
    if sort != "address":
        def key(row: Any) -> tuple[bool, Any]:
            value = row[2].casefold() if isinstance(row[2], str) else row[2]
            missing = value is None
            # unknown values last in either direction; the stable sort keeps ties in
            # ascending address order
            return ((not missing) if descending else missing), (0 if missing else value)

        rows.sort(key=key, reverse=descending)
    elif descending:
        rows.reverse()
    end = None if limit is None else offset + limit
    shown = rows[offset:end]
    return Page(len(rows), offset, limit or len(rows),
                _load_in_order(store, scan_id, [(r[0], r[1]) for r in shown]))


def _load_in_order(store: Store, scan_id: int, keys: list[tuple[int, str]]) -> list[Device]:
    """Devices by id, in the order given (an address is unique within a scan)."""
    position = {address: i for i, (_, address) in enumerate(keys)}
    out: list[Device] = []
    for start in range(0, len(keys), 500):
        chunk = [device_id for device_id, _ in keys[start:start + 500]]
        out += store._load_devices(scan_id, sa.select(t.devices).where(t.devices.c.id.in_(chunk)))
    return sorted(out, key=lambda d: position[d.address])


def iter_scan_devices(store: Store, scan_id: int, flt: DeviceFilter, *, sites: Sites,
                      sort: str = "address", descending: bool = False) -> Iterator[Device]:
    """Every device of the current view, for exports."""
    yield from query_devices(store, scan_id, flt, sites=sites, sort=sort,
                             descending=descending, limit=None).devices


def device(store: Store, scan_id: int, address: str, *, sites: Sites) -> Device | None:
    """One device of a scan, or None when it is absent or outside the reader's sites."""
    found = [d for d in store.devices(scan_id, address)
             if sites is None or d.site in sites]
    return found[0] if found else None


def facets(store: Store, scan_id: int, *, sites: Sites) -> dict[str, list[str]]:
    """The values each filter can take in this scan (for the filter form's choices)."""
    d, f = t.devices.c, t.findings.c
    where = [d.scan_id == scan_id, _site_condition(sites)]
    out: dict[str, list[str]] = {}
    with store._tx("reading filter choices") as conn:
        for name in ("site", "device_type", "manufacturer"):
            values = conn.execute(sa.select(getattr(d, name)).where(*where).distinct()).scalars()
            out[name] = sorted({v if v is not None else UNKNOWN for v in values}, key=str.casefold)
        visible = [] if sites is None else [f.device_id.in_(sa.select(d.id).where(*where))]
        for name, column in (("finding", f.finding_id), ("regime", f.regime)):
            values = conn.execute(sa.select(column).where(
                f.scan_id == scan_id, *visible).distinct()).scalars()
            out[name] = sorted(v for v in values if v)
    return out


def visible_scans(store: Store, *, sites: Sites) -> list[dict[str, Any]]:
    """Scans the reader may open: all of them, or those holding a device of their sites."""
    with store._tx("listing scans") as conn:
        query = sa.select(t.scans).order_by(t.scans.c.id.desc())
        if sites is not None:
            query = query.where(sa.or_(
                t.scans.c.site.in_(list(sites)),
                t.scans.c.id.in_(sa.select(t.devices.c.scan_id).where(
                    t.devices.c.site.in_(list(sites))))))
        rows = conn.execute(query).mappings().all()
    return [{**r, "started": _utc(r["started"]), "finished": _utc(r["finished"])} for r in rows]


def scan_visible(store: Store, scan_id: int, *, sites: Sites) -> bool:
    return any(s["id"] == scan_id for s in visible_scans(store, sites=sites))


def device_key(device: Device) -> str:
    """The device's identity across audits: maker + serial, else MAC, else site + address.

    The same order of strength as ``report/diff.py``; the address key carries the site,
    because two sites may use the same private addresses.
    """
    return doc_device_key(device.to_json())


def doc_device_key(device: dict[str, Any]) -> str:
    """:func:`device_key` of a camaudit/1 device entry."""
    if device.get("serial"):
        return f"serial:{device.get('manufacturer')}|{device['serial']}".casefold()
    if device.get("mac"):
        return "mac:" + str(device["mac"]).casefold().replace("-", ":")
    return f"address:{device.get('site') or ''}|{device.get('address')}"


def history(store: Store, device: Device, *, sites: Sites) -> list[dict[str, Any]]:
    """This device in every audit of the store (matched as :func:`device_key` says)."""
    d = t.devices.c
    if device.serial:
        match = sa.and_(d.serial == device.serial, d.manufacturer == device.manufacturer)
    elif device.mac:
        match = sa.func.lower(sa.func.replace(d.mac, "-", ":")) == \
            device.mac.casefold().replace("-", ":")
    else:
        match = sa.and_(d.address == device.address,
                        d.site.is_(None) if device.site is None else d.site == device.site)
    count = (sa.select(sa.func.count()).where(t.findings.c.device_id == d.id)
             .correlate(t.devices).scalar_subquery())
    query = (sa.select(d.scan_id, d.address, d.device_type, d.manufacturer, d.model, d.firmware,
                       d.site, t.scans.c.started, count.label("findings"))
             .join(t.scans, t.scans.c.id == d.scan_id)
             .where(match, _site_condition(sites)).order_by(d.scan_id))
    with store._tx("reading a device's history") as conn:
        rows = conn.execute(query).mappings().all()
    return [{**r, "started": _utc(r["started"])} for r in rows]


def valid_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_LIGHT_DEVICE = ("address", "mac", "device_type", "brand", "manufacturer", "model", "firmware",
                 "serial", "confidence", "site", "hostname")
_LIGHT_FINDING = ("kind", "severity", "title", "source", "status", "detail", "regime",
                  "accepted_reason")


def summary_devices(store: Store, scan_id: int, *, sites: Sites,
                    kind: str | None = None) -> list[dict[str, Any]]:
    """camaudit/1 device entries without their evidence (nor findings' evidence and basis,
    nor the detail of a finding that is not a lead), in address order: what findings by
    regime, the removal plan and the diff read, at a fraction of the cost of whole devices.
    `kind`: only devices with a finding of it."""
    d, f = t.devices.c, t.findings.c
    where = [d.scan_id == scan_id, _site_condition(sites)]
    if kind is not None:
        where.append(d.id.in_(sa.select(f.device_id).where(f.scan_id == scan_id,
                                                           f.kind == kind)))
    with store._tx("reading devices") as conn:
        rows = conn.execute(sa.select(d.id, *(getattr(d, n) for n in _LIGHT_DEVICE))
                            .where(*where)).all()
        wanted = {r[0] for r in rows}
        # a finding's detail is long and shown only for leads here
        columns = [sa.case((f.status == "lead", f.detail), else_="") if n == "detail"
                   else getattr(f, n) for n in _LIGHT_FINDING]
        found = conn.execute(sa.select(f.device_id, f.finding_id, *columns)
                             .where(f.scan_id == scan_id).order_by(f.id)).all()
    by_device: dict[int, list[dict[str, Any]]] = {}
    for row in found:
        if row[0] in wanted:
            finding = {"id": row[1], **dict(zip(_LIGHT_FINDING, row[2:], strict=True)),
                       "evidence": [], "basis": ""}
            if not finding["accepted_reason"]:
                del finding["accepted_reason"]
            by_device.setdefault(row[0], []).append(finding)
    devices = [{**dict(zip(_LIGHT_DEVICE, r[1:], strict=True)), "ports": [], "evidence": [],
                "conflicts": [], "findings": by_device.get(r[0], [])} for r in rows]
    devices.sort(key=lambda dev: _address_key(dev["address"]))
    return devices
