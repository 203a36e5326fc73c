"""`camaudit scope` lists exactly what `camaudit scan` contacts (issue 14), on loopback only.

Every connection passes ``netio._gate``; recording the addresses it lets through is
recording what the scan contacts. Real listeners on 127.66.12.x / 127.67.12.x show the
connections really happened (and that nothing outside the listing was reached).
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from camaudit import netio
from camaudit.cli import app
from listeners import Listeners

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
PORT = 18091
LISTENING = [f"127.66.12.{h}" for h in (0, 1, 5, 9, 64, 127, 128, 200, 255)] + [
    f"127.67.12.{h}" for h in (1, 9, 200)]
runner = CliRunner()


def _listed(targets: list[str], excludes: list[str], loose: bool) -> dict:  # type: ignore[type-arg]
    args = ["scope", *targets, *(x for e in excludes for x in ("-x", e)), "--ports", str(PORT),
            "--json", "-", *(["--loose"] if loose else [])]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc: dict = json.loads(result.stdout)  # type: ignore[type-arg]
    # the safety check comes before any scan: everything listed is loopback
    assert all(ipaddress.ip_network(n).subnet_of(LOOPBACK) for n in doc["networks"])  # type: ignore[arg-type]
    return doc


def _addresses(doc: dict) -> set[str]:  # type: ignore[type-arg]
    return {str(a) for n in doc["networks"] for a in ipaddress.ip_network(n)}


@st.composite
def loopback_scope_texts(draw: st.DrawFn) -> tuple[list[str], list[str], bool]:
    """Scope texts over 127.66.12.0/24 (exclusions also over 127.67.12.0/24), every form."""
    def one(base: str) -> str:
        a, b = draw(st.integers(0, 255)), draw(st.integers(0, 255))
        form = draw(st.sampled_from(["address", "cidr", "range", "short"]))
        if form == "address":
            return f"{base}.{a}"
        if form == "cidr":
            prefix = draw(st.integers(25, 32))
            return str(ipaddress.ip_network(f"{base}.{a}/{prefix}", strict=False))
        if form == "range":
            lo, hi = sorted((a, b))
            return f"{base}.{lo}-{base}.{hi}"
        return f"{base}.{a}-{b}"  # may be backwards: needs --loose
    targets = [one("127.66.12") for _ in range(draw(st.integers(1, 3)))]
    excludes = [one(draw(st.sampled_from(["127.66.12", "127.67.12"])))
                for _ in range(draw(st.integers(0, 2)))]
    loose = any(_backwards(t) for t in targets + excludes)
    return targets, excludes, loose


def _backwards(spec: str) -> bool:
    left, sep, right = spec.partition("-")
    return bool(sep) and "." not in right and int(right) < int(left.rsplit(".", 1)[1])


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(loopback_scope_texts())
def test_property_scan_contacts_exactly_what_scope_lists(tmp_path_factory, text) -> None:  # type: ignore[no-untyped-def]
    targets, excludes, loose = text
    doc = _listed(targets, excludes, loose)
    db = tmp_path_factory.mktemp("agree") / "a.db"
    contacted: set[str] = set()
    real_gate = netio._gate

    def recording_gate(net: netio.Net, address: str, why: str) -> None:
        real_gate(net, address, why)  # raises for an address outside the scope
        contacted.add(address)

    args = ["scan", *targets, *(x for e in excludes for x in ("-x", e)), "--ports",
            str(PORT), "--timeout", "0.5", "--probe-timeout", "0.5", "--no-probes", "--db",
            str(db), *(["--loose"] if loose else [])]
    with Listeners([(a, PORT) for a in LISTENING]) as listeners, \
            mock.patch.object(netio, "_gate", recording_gate):
        result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert contacted == _addresses(doc)
    touched = {a for a, n in listeners.accepted.items() if n}
    assert touched == _addresses(doc) & set(LISTENING)


def test_scan_and_scope_agree_end_to_end(tmp_path: Path) -> None:
    """Two processes, as an operator runs them: a listener on every address of the block."""
    block = [str(a) for a in ipaddress.ip_network("127.66.13.0/28")]
    targets = ["127.66.13.0/29", "127.66.13.12-10", "localhost"]
    args = [*targets, "--loose", "-x", "127.66.13.3", "-x", "127.0.0.1", "-x", "::1", "--ports",
            str(PORT)]
    env = {**os.environ, "CI": "1"}
    scope = subprocess.run([sys.executable, "-m", "camaudit", "scope", *args, "--json",
                            str(tmp_path / "scope.json")], capture_output=True, text=True,
                           timeout=60, env=env)
    assert scope.returncode == 0, scope.stderr
    doc = json.loads((tmp_path / "scope.json").read_text())
    assert doc["networks"] == ["127.66.13.0/31", "127.66.13.2/32", "127.66.13.4/30",
                               "127.66.13.10/31", "127.66.13.12/32"]
    assert doc["excluded"] >= 1 and "localhost" in doc["resolved"]
    assert scope.stdout.splitlines()[0] == "scope: 10 addresses in 5 networks x 1 port"
    with Listeners([(a, PORT) for a in block]) as listeners:
        scan = subprocess.run([sys.executable, "-m", "camaudit", "scan", *args, "--no-probes",
                               "--db", str(tmp_path / "s.db"), "--json",
                               str(tmp_path / "scan.json")],
                              capture_output=True, text=True, timeout=120, env=env)
    assert scan.returncode == 0, scan.stderr
    touched = {a for a, n in listeners.accepted.items() if n}
    assert touched == _addresses(doc)  # every listed address reached, and nothing else
    found = {d["address"] for d in json.loads((tmp_path / "scan.json").read_text())["devices"]}
    assert found == touched
    assert "scope: 10 addresses in 5 networks" in scan.stderr


def test_resume_rebuilds_a_loose_scope(tmp_path: Path) -> None:
    """A scan started with --loose resumes over the same addresses (nothing is contacted here)."""
    from camaudit.pipeline import ScanOptions, new_scan, resume_point
    from camaudit.scope import Scope
    from camaudit.store import Store

    store = Store(str(tmp_path / "r.db"))
    planned = Scope(["127.66.14.7/30", "127.66.14.20-17"], loose=True)
    scan_id, _ = new_scan(store, planned.targets, [], ScanOptions(), scope=planned)
    resumed, _, _, _ = resume_point(store, scan_id)
    assert resumed.networks() == planned.networks() == ["127.66.14.4/30", "127.66.14.17/32",
                                                        "127.66.14.18/31", "127.66.14.20/32"]
    store.close()
