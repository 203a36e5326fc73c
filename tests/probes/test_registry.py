"""Probe registry: every module registers, and the right probes run on each port and host."""

from __future__ import annotations

import importlib

import pytest

from camaudit.probes import registry
from camaudit.probes.base import Probe


def names(probes: list[Probe]) -> list[str]:
    return [p.name for p in probes]


def test_every_listed_module_has_a_probe() -> None:
    for module in registry.MODULES:
        assert isinstance(importlib.import_module(f"camaudit.probes.{module}").PROBE, Probe)
    assert len(registry.all_probes()) == len(registry.MODULES)
    assert {p.name for p in registry.all_probes()} == {
        "http", "rtsp", "onvif", "wsd", "upnp", "ubnt", "dhip", "hik-sdk", "dvrip", "xmeye",
        "banner", "mac"}


def test_order_is_stable() -> None:
    keys = [(p.order, p.name) for p in registry.all_probes()]
    assert keys == sorted(keys)


@pytest.mark.parametrize(("port", "expected"), [
    (554, {"rtsp", "http"}),
    (8554, {"rtsp", "http"}),
    (8000, {"hik-sdk", "onvif", "http"}),
    (80, {"onvif", "http"}),
    (8899, {"onvif", "http"}),
    (2020, {"onvif", "http"}),
    (37777, {"dvrip", "http"}),
    (34567, {"xmeye", "http"}),
    (21, {"banner", "http"}),
    (23, {"banner", "http"}),
    (443, {"http"}),
    (12345, {"http"}),
])
def test_probes_for_port(port: int, expected: set[str]) -> None:
    chosen = registry.for_port(port)
    assert set(names(chosen)) == expected
    assert all(p.ports is not None for p in chosen)


def test_host_level_probes_need_an_open_tcp_port() -> None:
    assert registry.for_host([]) == []
    assert set(names(registry.for_host([554]))) == {"wsd", "upnp", "ubnt", "dhip", "mac"}


def test_plan_for_a_camera() -> None:
    plan = registry.plan([80, 554, 8000])
    pairs = [(p.name, port) for p, port in plan]
    assert ("hik-sdk", 8000) in pairs and ("rtsp", 554) in pairs and ("wsd", 0) in pairs
    assert ("onvif", 554) not in pairs
    assert pairs.index(("rtsp", 554)) < pairs.index(("mac", 0))  # mac last: ARP fills up
    assert len(pairs) == len(set(pairs))


def test_by_name() -> None:
    assert registry.by_name("dvrip").ports == frozenset({37777})
    with pytest.raises(KeyError):
        registry.by_name("nope")


def test_thorough_runs_every_port_probe_everywhere() -> None:
    port_probes = {p.name for p in registry.all_probes() if p.ports is not None}
    assert set(names(registry.for_port(12345, thorough=True))) == port_probes
    pairs = {(p.name, port) for p, port in registry.plan([12345], thorough=True)}
    assert ("dvrip", 12345) in pairs and ("wsd", 0) in pairs
    assert ("dvrip", 12345) not in {(p.name, port) for p, port in registry.plan([12345])}
