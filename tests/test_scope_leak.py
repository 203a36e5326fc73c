"""Scope-leak test: listeners in and out of scope; the out-of-scope ones must see nothing."""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from camaudit.cliutil import run_async
from camaudit.pipeline import ScanOptions, execute, new_scan
from camaudit.store import Store
from listeners import Listeners

PORTS = [18081, 18555]
INSIDE = [f"127.66.9.{h}" for h in (1, 7, 64, 130, 200, 254)]
OUTSIDE = [f"127.67.9.{h}" for h in (1, 7, 64, 130, 200, 254)]
ENDPOINTS = [(a, p) for a in INSIDE + OUTSIDE for p in PORTS]


@st.composite
def scopes(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """Random blocks of 127.66.9.0/24 plus exclusions, some naming 127.67.9.x too."""
    def block(base: str) -> str:
        start = draw(st.integers(0, 255))
        prefix = draw(st.integers(26, 32))
        return str(ipaddress.ip_network(f"{base}.{start}/{prefix}", strict=False))

    targets = [block("127.66.9") for _ in range(draw(st.integers(1, 3)))]
    excludes = [block(draw(st.sampled_from(["127.66.9", "127.67.9"])))
                for _ in range(draw(st.integers(0, 3)))]
    return targets, excludes


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                               HealthCheck.function_scoped_fixture])
@given(scopes())
def test_out_of_scope_listeners_accept_zero_connections(tmp_path_factory, scope) -> None:  # type: ignore[no-untyped-def]
    targets, excludes = scope
    db = str(tmp_path_factory.mktemp("leak") / "leak.db")
    store = Store(db)
    options = ScanOptions(ports=PORTS, connect_timeout=0.5, probe_timeout=0.5)
    with Listeners(ENDPOINTS) as listeners:
        scan_id, sc = new_scan(store, targets, excludes, options)
        run_async(execute(store, scan_id, sc, options))
        touched = {a for a, n in listeners.accepted.items() if n}
    allowed = {a for a in INSIDE if sc.allows(a)}
    assert touched == allowed  # every in-scope listener found, nothing else contacted
    found = {d.address for d in store.devices(scan_id)}
    assert found == allowed
    store.close()
