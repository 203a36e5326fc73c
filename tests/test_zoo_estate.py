"""The estate: deterministic mix, complete manifest, only zoo addresses answer, fast start."""

from __future__ import annotations

import errno
import ipaddress
import socket
import time
from importlib import resources
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.errors import ParseError, UsageError
from camaudit.zoo import ZooProcess, onvif, run_in_subprocess, udp, xmeye
from camaudit.zoo.estate import manifest, plan
from camaudit.zoo.personas import load_all, restriction_table
from camaudit.zoo.render import Device
from camaudit.zoo.wire import parse_head

CONTRACT_KEYS = {"address", "ports", "device_type", "brand", "manufacturer", "model",
                 "firmware", "persona", "findings", "hostile", "udp_ports"}
DEVICE_TYPES = {"camera", "recorder", "encoder", "vms", "other", None}
KB = Path(str(resources.files("camaudit.knowledge") / "data" / "restrictions.yaml"))


def test_at_least_thirty_personas_with_the_required_kinds() -> None:
    personas = load_all()
    assert len(personas) >= 30
    kinds = {p.kind for p in personas.values()}
    assert {"camera", "recorder", "oem", "encoder", "vms", "decoy", "hostile"} <= kinds
    oem = [p for p in personas.values() if p.kind == "oem"]
    assert all(p.identity["brand"] != p.identity["manufacturer"] for p in oem)
    assert {p.identity["manufacturer"] for p in oem} >= {"Hikvision", "Dahua"}


def test_plan_is_deterministic_and_covers_every_persona() -> None:
    n = len(load_all())
    first = [(d.address, d.persona.id) for d in plan(n + 50, seed=9)]
    again = [(d.address, d.persona.id) for d in plan(n + 50, seed=9)]
    other = [(d.address, d.persona.id) for d in plan(n + 50, seed=10)]
    assert first == again and first != other
    assert {p for _, p in first} == set(load_all())
    calm = plan(200, seed=9, hostile=False)
    assert not any(d.persona.hostile for d in calm)
    assert [d.persona.id for d in plan(5, seed=1, only=["tvt-nvr"])] == ["tvt-nvr"] * 5


def test_plan_refuses_non_loopback_and_the_trap_address() -> None:
    for base in ("192.0.2.0/24", "10.0.0.0/8", "127.67.0.0/16", "nonsense"):
        with pytest.raises(UsageError):
            plan(3, seed=1, base=base)
    with pytest.raises(UsageError):
        plan(3, seed=1, only=["no-such-persona"])


def test_manifest_entries_are_complete() -> None:
    devices = plan(len(load_all()), seed=3)
    doc = manifest(devices, len(devices), 3, "127.42.0.0/16", trap=True)
    for entry in doc["devices"]:
        assert set(entry) >= CONTRACT_KEYS
        assert entry["device_type"] in DEVICE_TYPES
        served = entry.get("parent") or entry["address"]  # a connected camera: its recorder's
        assert ipaddress.IPv4Address(served) in ipaddress.IPv4Network("127.42.0.0/16")
        if entry["device_type"] in ("camera", "recorder", "encoder") and not entry["manufacturer"]:
            assert "unknown-maker" in entry["findings"]
        if entry["hostile"]:
            assert entry["findings"] == []


@pytest.mark.skipif(not KB.exists(), reason="shared/kb not present")
def test_restriction_ids_follow_the_kb() -> None:
    """Findings: the confirmed regimes `all` selects that name the maker; leads: the others."""
    from camaudit.assess import load_policies

    selected = load_policies(["all"]).regimes
    regimes = [r for r in yaml.safe_load(KB.read_text())["regimes"] if r["id"] in selected]
    leads = yaml.safe_load((KB.parent.parent.parent / "zoo/personas/_restrictions.yaml")
                           .read_text())["makers"]
    for maker, ids in restriction_table().items():
        named = [r for r in regimes if maker.lower() in (r.get("applies_to") or [])]
        assert sorted(ids) == sorted(r["id"] for r in named if r["confirmed"]), maker
        assert sorted(leads[maker].get("leads") or {}) == sorted(
            r["id"] for r in named if not r["confirmed"]), maker


def test_running_manifest_and_only_zoo_addresses_answer(zoo: ZooProcess) -> None:
    assert len(zoo.devices) == len(load_all()) + 6
    assert {d["persona"] for d in zoo.devices} == set(load_all())
    used = {d["address"] for d in zoo.devices}
    net = ipaddress.IPv4Network(zoo.base)
    stranger = next(str(a) for a in net.hosts() if str(a) not in used and int(a) & 0xFF > 200)
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex((stranger, 80)) == errno.ECONNREFUSED
    camera = next(d for d in zoo.devices if d["persona"] == "tvt-nvr")
    for port, want in ((81, errno.ECONNREFUSED), (80, 0)):
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((camera["address"], port)) == want


def test_stats_count_connections_per_address(zoo: ZooProcess) -> None:
    target = zoo.by_persona("mikrotik-router")[0]["address"]
    before = zoo.stats()["tcp_accepted"].get(f"{target}:80", 0)
    for _ in range(3):
        with socket.create_connection((target, 80), timeout=3) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            s.recv(100)
    stats = zoo.stats()
    assert stats["tcp_accepted"][f"{target}:80"] == before + 3
    assert stats["out_of_scope_connections"] == 0


def test_a_few_hundred_devices_start_quickly() -> None:
    start = time.monotonic()
    with run_in_subprocess(count=300, seed=5, base="127.43.0.0/16", hostile=False,
                           timeout=60) as small:
        assert len(small.devices) == 300
        first = small.devices[0]
        with socket.create_connection((first["address"], first["ports"][0]), timeout=3):
            pass
        assert small.stop() == 0  # SIGTERM: clean exit, stats written
        assert small.stats_path.exists()
    assert time.monotonic() - start < 30


def test_zoo_command_is_registered_with_help_and_example() -> None:
    import typer
    from typer.testing import CliRunner

    from camaudit.zoo.commands import register

    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command so typer keeps the 'zoo' sub-command name
        """Nothing."""

    result = CliRunner().invoke(app, ["zoo", "--help"])
    assert result.exit_code == 0 and "camaudit zoo --count" in result.output


# --- sans-IO parsers and builders, fuzzed (STYLE.md rules 1-3) ---------------------------

@given(st.binary(max_size=2048))
@settings(max_examples=200, deadline=None)
def test_parse_head_returns_or_raises_parse_error(data: bytes) -> None:
    try:
        head = parse_head(data)
    except ParseError:
        return
    assert head.method.isupper()


@given(st.binary(max_size=64))
@settings(max_examples=200, deadline=None)
def test_xmeye_header_parser_is_total(data: bytes) -> None:
    try:
        session, _seq, _msg, length = xmeye.parse_header(data)
    except ParseError:
        return
    assert session >= 0 and length >= 0


@given(st.binary(max_size=4096))
@settings(max_examples=200, deadline=None)
def test_discovery_and_onvif_builders_survive_garbage(data: bytes) -> None:
    device = Device(0, "127.42.0.1", load_all()["generic-onvif-camera"], seed=1)
    service = {"reply": "<r>{{relates_to}}</r>", "tlvs": [{"type": 1, "mac": True}],
               "device_info": {"DeviceType": "{{model}}"}}
    for build in (udp.wsd_reply, udp.ssdp_reply):
        out = build(service, device, data)
        assert out is None or out.startswith(b"<r>")
    out = udp.ubnt_reply(service, device, data)
    assert out is None or out[:4] == b"\x01\x00\x00\x09"
    out = udp.dhip_reply(service, device, data)
    assert out is None or out[4:8] == b"DHIP"
    onvif.action_of(data)
    assert onvif.wsse_ok(data) is False
