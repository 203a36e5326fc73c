"""What changed between two scans: devices added, removed, changed; findings opened, closed.

Devices are matched across scans by the most stable thing both scans know:
maker + serial number, then MAC address, then IP address (an address alone is
weak evidence under DHCP, so it is tried last). A matched device is *changed*
when its firmware, maker, brand, model, type, address or MAC differ, or when a
finding appears, disappears or changes status. The result renders to the
terminal here (every device string neutralised) and to HTML in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from camaudit.report.document import (
    DeviceDoc,
    Doc,
    FindingDoc,
    device_label,
    findings,
    scan_label,
)
from camaudit.report.text import terminal_safe

#: Device fields compared across scans, in the order they are shown.
COMPARED: tuple[str, ...] = (
    "address", "mac", "device_type", "manufacturer", "brand", "model", "firmware",
)


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: object
    new: object


@dataclass(frozen=True)
class FindingChange:
    """A finding opened or closed on a device; `why` says when it came with the device."""

    device: DeviceDoc
    finding: FindingDoc
    why: str = ""  # "new device", "device gone", "status was accepted", or ""


@dataclass
class DeviceChange:
    old: DeviceDoc
    new: DeviceDoc
    fields: list[FieldChange] = field(default_factory=list)
    opened: list[FindingDoc] = field(default_factory=list)
    closed: list[FindingDoc] = field(default_factory=list)


@dataclass
class ScanDiff:
    old_label: str
    new_label: str
    added: list[DeviceDoc] = field(default_factory=list)
    removed: list[DeviceDoc] = field(default_factory=list)
    changed: list[DeviceChange] = field(default_factory=list)
    opened: list[FindingChange] = field(default_factory=list)
    closed: list[FindingChange] = field(default_factory=list)
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _keys(device: DeviceDoc) -> list[tuple[str, str]]:
    """Matching keys, strongest first."""
    keys = []
    if device.get("serial"):
        keys.append(("serial", f"{device.get('manufacturer')}|{device['serial']}".casefold()))
    if device.get("mac"):
        keys.append(("mac", str(device["mac"]).casefold().replace("-", ":")))
    keys.append(("address", str(device.get("address"))))
    return keys


def _match(old: list[DeviceDoc], new: list[DeviceDoc]) -> dict[int, int]:
    """Map new-device index to old-device index, one pass per key kind, strongest first."""
    matched: dict[int, int] = {}
    taken: set[int] = set()
    for kind in ("serial", "mac", "address"):
        index: dict[str, int] = {}
        for i, device in enumerate(old):
            for k, value in _keys(device):
                if k == kind and i not in taken:
                    index.setdefault(value, i)
        for j, device in enumerate(new):
            if j in matched:
                continue
            for k, value in _keys(device):
                if k == kind and value in index and index[value] not in taken:
                    matched[j] = index[value]
                    taken.add(index[value])
                    break
    return matched


def _by_id(device: DeviceDoc) -> dict[str, FindingDoc]:
    return {str(f.get("id")): f for f in findings(device)}


def _compare(old: DeviceDoc, new: DeviceDoc) -> DeviceChange:
    change = DeviceChange(old, new)
    for name in COMPARED:
        if old.get(name) != new.get(name):
            change.fields.append(FieldChange(name, old.get(name), new.get(name)))
    before, after = _by_id(old), _by_id(new)
    change.opened = [f for fid, f in after.items() if fid not in before]
    change.closed = [f for fid, f in before.items() if fid not in after]
    for fid in before.keys() & after.keys():
        was, now = before[fid].get("status", "open"), after[fid].get("status", "open")
        if was != now:
            change.fields.append(FieldChange(f"finding {fid} status", was, now))
    return change


def diff_documents(old: Doc, new: Doc) -> ScanDiff:
    """Compare two camaudit/1 documents (old first)."""
    old_devices: list[DeviceDoc] = list(old.get("devices") or [])
    new_devices: list[DeviceDoc] = list(new.get("devices") or [])
    matched = _match(old_devices, new_devices)
    result = ScanDiff(scan_label(old), scan_label(new))
    for j, device in enumerate(new_devices):
        if j not in matched:
            result.added.append(device)
            result.opened += [FindingChange(device, f, "new device") for f in findings(device)]
            continue
        change = _compare(old_devices[matched[j]], device)
        if change.fields or change.opened or change.closed:
            result.changed.append(change)
            result.opened += [FindingChange(device, f) for f in change.opened]
            result.closed += [FindingChange(device, f) for f in change.closed]
        else:
            result.unchanged += 1
    gone = set(range(len(old_devices))) - set(matched.values())
    for i in sorted(gone):
        result.removed.append(old_devices[i])
        result.closed += [
            FindingChange(old_devices[i], f, "device gone") for f in findings(old_devices[i])
        ]
    return result


def render_diff(result: ScanDiff, console: Console) -> None:
    """Print the diff as rich tables; device strings cannot drive the terminal."""
    console.print(
        f"[bold]{terminal_safe(result.old_label)} → {terminal_safe(result.new_label)}[/bold]: "
        f"{len(result.added)} added, {len(result.removed)} removed, "
        f"{len(result.changed)} changed, {result.unchanged} unchanged; "
        f"{len(result.opened)} findings opened, {len(result.closed)} closed"
    )
    if result.empty:
        console.print("No device changed.")
        return
    devices = Table(title="Devices", title_justify="left")
    for column in ("change", "device", "what"):
        devices.add_column(column, overflow="fold")  # ids and versions are never cut
    for device in result.added:
        devices.add_row("[green]added[/green]", terminal_safe(device_label(device)), "")
    for device in result.removed:
        devices.add_row("[red]removed[/red]", terminal_safe(device_label(device)), "")
    for change in result.changed:
        what = [
            f"{terminal_safe(c.name)}: {terminal_safe(c.old)} → {terminal_safe(c.new)}"
            for c in change.fields
        ]
        what += [f"finding opened: {terminal_safe(f.get('id'))}" for f in change.opened]
        what += [f"finding closed: {terminal_safe(f.get('id'))}" for f in change.closed]
        devices.add_row("[yellow]changed[/yellow]", terminal_safe(device_label(change.new)),
                        "\n".join(what))
    console.print(devices)
    if result.opened or result.closed:
        table = Table(title="Findings", title_justify="left")
        for column in ("", "finding", "severity", "device", "note"):
            table.add_column(column, overflow="fold")
        for label, items in (("[red]opened[/red]", result.opened),
                             ("[green]closed[/green]", result.closed)):
            for item in items:
                table.add_row(label, terminal_safe(item.finding.get("id")),
                              terminal_safe(item.finding.get("severity")),
                              terminal_safe(device_label(item.device)), item.why)
        console.print(table)
