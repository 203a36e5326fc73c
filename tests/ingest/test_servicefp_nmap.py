"""Real nmap service fingerprints: the Debian nmap against zoo devices it cannot name.

A small zoo (an Amcrest camera, Dahua-made, and an Axis M3024; personas in
camaudit/zoo/personas with their sources) runs on 127.78.0.0/24, a loopback corner
no other test uses. nmap -sV at full intensity cannot name their RTSP service and
writes its replies as a ``servicefp``; ingesting the XML must read those replies
with camaudit's RTSP parser (the same fields the active probe reads from the same
server) and name the makers that nmap's own service lines leave unknown.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from camaudit.cli import main
from camaudit.identify import identify
from camaudit.ingest import servicefp
from camaudit.model import Observation
from camaudit.netio import Budget, Net
from camaudit.probes import rtsp
from camaudit.scope import Scope
from camaudit.zoo import run_in_subprocess

from .conftest import nmap_observations, run_nmap

NET = "127.78.0.0/24"
PERSONAS = ("amcrest-ipc", "axis-m3024")


@dataclass
class Run:
    xml: Path
    devices: dict[str, dict[str, Any]]  # persona -> manifest entry
    active: dict[str, list[Observation]]  # persona -> camaudit's own rtsp observations


async def _active_rtsp(addresses: dict[str, str]) -> dict[str, list[Observation]]:
    net = Net(scope=Scope([NET]), budget=Budget(max_sockets=8), connect_timeout=1.0,
              read_timeout=2.0)
    return {persona: await rtsp.run(net, address, 554)
            for persona, address in addresses.items()}


@pytest.fixture(scope="module")
def nmap_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder = tmp_path_factory.mktemp("servicefp")
    with run_in_subprocess(count=len(PERSONAS), seed=1, base=NET, only=PERSONAS,
                           hostile=False, lifetime=20.0) as zoo:
        devices = {d["persona"]: d for d in zoo.manifest["devices"]}
        assert set(devices) == set(PERSONAS)
        addresses = {p: d["address"] for p, d in devices.items()}
        xml = run_nmap(sorted(addresses.values()), "80,554", folder / "zoo.xml", light=False)
        active = asyncio.run(_active_rtsp(addresses))
    yield Run(xml, devices, active)


def test_nmap_wrote_fingerprints_we_can_read(nmap_run: Run) -> None:
    tree = etree.parse(str(nmap_run.xml))
    prints = {(h.find("address").get("addr"), int(p.get("portid"))): p.find("service")
              .get("servicefp") for h in tree.iterfind("host") for p in h.iterfind("ports/port")
              if p.find("service") is not None and p.find("service").get("servicefp")}
    for device in nmap_run.devices.values():
        text = prints[(device["address"], 554)]
        fp = servicefp.parse(text)
        assert (fp.port, fp.protocol, fp.header["V"]) == (554, "TCP", "7.93")
        assert {"GetRequest", "RTSPRequest"} <= {r.probe for r in fp.replies}
        assert all(not r.truncated for r in fp.replies)


def test_replies_read_by_the_rtsp_probe_parser(nmap_run: Run) -> None:
    obs = nmap_observations(nmap_run.xml)
    for persona, device in nmap_run.devices.items():
        passive = [o for o in obs[device["address"]] if o.probe == "rtsp"]
        assert passive, persona
        for o in passive:
            assert o.source == "passive" and o.port == 554
            assert o.raw.startswith(b"RTSP/1.0 ") and o.raw_size == len(o.raw)
            assert rtsp.parse_response(o.raw) == {k: v for k, v in o.fields.items()
                                                  if k not in ("method", "path")}
        # The same server, asked by camaudit's own probe, yields the same field values.
        active = nmap_run.active[persona]
        assert active, persona
        for key in ("server", "realm", "auth_scheme", "public"):
            assert {json.dumps(o.fields.get(key)) for o in active} <= \
                {json.dumps(o.fields.get(key)) for o in passive} | {"null"}, (persona, key)
        options = [o for o in passive if o.fields.get("method") == "OPTIONS"]
        assert options and options[0].fields["path"] == "/"


def test_fingerprints_name_the_makers(nmap_run: Run) -> None:
    obs = nmap_observations(nmap_run.xml)
    amcrest = nmap_run.devices["amcrest-ipc"]["address"]
    axis = nmap_run.devices["axis-m3024"]["address"]
    # nmap's own service lines name neither maker.
    for address in (amcrest, axis):
        only_nmap = [o for o in obs[address] if o.probe == "nmap"]
        assert identify(address, only_nmap).manufacturer is None
    dahua = identify(amcrest, obs[amcrest])
    # the Dahua RTSP server is also on Dahua recorders: gear, role unknown
    assert (dahua.manufacturer, dahua.device_type) == ("Dahua", "surveillance")
    assert "dahua-rtsp-server" in {e.rule for e in dahua.evidence}
    axis_device = identify(axis, obs[axis])
    assert axis_device.manufacturer == "Axis"
    assert "axis-rtsp-public-list" in {e.rule for e in axis_device.evidence}


def test_ingest_command_on_the_file(nmap_run: Run, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.json"
    with pytest.raises(SystemExit) as stop:
        main(["ingest", str(nmap_run.xml), "--json", str(out), "--db", str(tmp_path / "a.db")])
    assert stop.value.code in (0, None), capsys.readouterr().err
    devices = {d["address"]: d for d in json.loads(out.read_text())["devices"]}
    for persona, truth in nmap_run.devices.items():
        got = devices[truth["address"]]
        assert got["manufacturer"] == truth["manufacturer"], persona
        assert got["device_type"] in (truth["device_type"], "surveillance", None), persona
