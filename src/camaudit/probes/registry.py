"""Every probe module's ``PROBE``, in one ordered list, and which probes to run where.

Port probes run on the open TCP ports they name (``Probe.ports``) and, when
``any_port`` is set, on every other open port too (HTTP is found on odd
ports). Host-level probes (``ports=None``: WS-Discovery and SSDP over UDP,
the MAC lookup) run once per host that has at least one open TCP port — the
TCP sweep is how we know a host is there; UDP gives no such answer.

``--thorough`` runs every port-level probe on every open port.

Order: lower ``Probe.order`` first (cheap, decisive probes first), then name,
so a run is reproducible.

To add a protocol, add its module name to :data:`MODULES`; a test checks that
every listed module imports and exposes a ``PROBE`` with a unique name.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from functools import cache

from camaudit.probes.base import Probe

#: Modules under camaudit.probes that define ``PROBE``.
MODULES: tuple[str, ...] = (
    "http", "rtsp", "onvif", "wsd", "upnp", "ubnt", "dhip", "hik_sdk", "dvrip", "xmeye", "banner",
    "mac",
)


@cache
def all_probes() -> tuple[Probe, ...]:
    """Every registered probe, ordered by (order, name)."""
    probes: list[Probe] = []
    for name in MODULES:
        module = importlib.import_module(f"camaudit.probes.{name}")
        probe = module.PROBE
        if not isinstance(probe, Probe):
            raise TypeError(f"camaudit.probes.{name}.PROBE is not a Probe")
        probes.append(probe)
    names = [p.name for p in probes]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate probe names in registry: {sorted(names)}")
    return tuple(sorted(probes, key=lambda p: (p.order, p.name)))


def by_name(name: str) -> Probe:
    """The probe called `name` (KeyError if there is none)."""
    for probe in all_probes():
        if probe.name == name:
            return probe
    raise KeyError(name)


def for_port(port: int, *, thorough: bool = False) -> list[Probe]:
    """Probes to run on one open TCP port: those naming it and any-port probes.

    `thorough` (``scan --thorough``) runs every port-level probe on every open port,
    for devices that moved a service off its usual port.
    """
    return [p for p in all_probes()
            if p.ports is not None and (thorough or port in p.ports or p.any_port)]


def for_host(open_ports: Iterable[int]) -> list[Probe]:
    """Host-level probes for a host; none when the host showed no open TCP port."""
    if not any(True for _ in open_ports):
        return []
    return [p for p in all_probes() if p.ports is None]


def plan(open_ports: Iterable[int], *, thorough: bool = False) -> list[tuple[Probe, int]]:
    """Every (probe, port) pair to run on a host, host-level probes with port 0, in order."""
    ports = sorted(set(open_ports))
    pairs = [(p, port) for port in ports for p in for_port(port, thorough=thorough)]
    pairs += [(p, 0) for p in for_host(ports)]
    return sorted(pairs, key=lambda pair: (pair[0].order, pair[0].name, pair[1]))
