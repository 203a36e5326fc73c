"""WS-Discovery probe: the real agsh/onvif ProbeMatches sample, fuzzing, unicast transport."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import HOST, Seen, http_handler, make_net, onvif_route, tcp_server, udp_server

from camaudit.errors import ParseError
from camaudit.probes import wsd, xmlsafe

# shared/fixtures: agsh/onvif test/serverMockup/Probe.xml at
# 15abffe60e1528230f60eb2bccea5684155b45e4 (MIT); XAddrs is the mock's SERVICE_URI placeholder.
SAMPLE = json.loads((Path(__file__).parent / "samples" /
                     "onvif-ws-discovery-probematches-hd-predator.json").read_text())
REPLY = SAMPLE["response"].encode()


def test_real_probe_matches() -> None:
    fields = wsd.parse_probe_matches(REPLY)
    assert fields["types"] == ["dn:NetworkVideoTransmitter", "tds:Device"]
    assert "onvif://www.onvif.org/hardware/HD_PREDATOR" in fields["scopes"]
    assert len(fields["scopes"]) == 7
    assert fields["xaddrs"] == ["SERVICE_URI"]
    assert fields["endpoint"] == "uuid:c9790c3a-701b-464d-a189-0060351c8ada"


def test_probe_message() -> None:
    root = xmlsafe.parse_xml(wsd.build_probe("1234"))
    assert xmlsafe.first_text(root, "Action") == wsd.NS_DISCOVERY + "/Probe"
    assert xmlsafe.first_text(root, "MessageID") == "urn:uuid:1234"
    assert next(xmlsafe.iter_local(root, "Probe")) is not None


@pytest.mark.parametrize("data", [b"", b"<a/>", REPLY.replace(b"ProbeMatch>", b"Nothing>")])
def test_not_probe_matches(data: bytes) -> None:
    with pytest.raises(ParseError):
        wsd.parse_probe_matches(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_binary(data: bytes) -> None:
    try:
        fields = wsd.parse_probe_matches(data)
    except ParseError:
        return
    assert isinstance(fields["xaddrs"], list)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_inside_probe_match(text: str) -> None:
    data = REPLY.replace(b"SERVICE_URI", text.encode("utf-8", "surrogatepass"))
    try:
        fields = wsd.parse_probe_matches(data)
    except ParseError:
        return
    assert len(fields["xaddrs"]) <= 64  # type: ignore[arg-type]


def test_run_is_unicast_follows_in_scope_xaddr_and_refuses_the_rest() -> None:
    http_seen = Seen()

    async def scenario() -> tuple[list, object, Seen]:
        net = make_net()
        async with tcp_server(http_handler(onvif_route(), http_seen)) as port:
            xaddrs = (f"http://203.0.113.5/onvif/device_service "
                      f"http://{HOST}:{port}/onvif/device_service")
            reply = REPLY.replace(b"SERVICE_URI", xaddrs.encode())
            async with udp_server(lambda _d: [reply], wsd.PORT) as udp_seen:
                obs = await wsd.run(net, HOST, 0)
        return obs, net, udp_seen

    obs, net, udp_seen = asyncio.run(scenario())
    assert len(udp_seen.requests) == 1
    assert b"/discovery/Probe</a:Action>" in udp_seen.requests[0]
    found = next(o for o in obs if o.probe == "wsd")
    assert found.fields["xaddrs_refused"] == ["http://203.0.113.5/onvif/device_service"]
    assert ("203.0.113.5", "ws-discovery xaddr") in net.scope.refused  # type: ignore[attr-defined]
    onvif_obs = [o for o in obs if o.probe == "onvif"]
    assert [o.fields["action"] for o in onvif_obs] == [
        "GetSystemDateAndTime", "GetDeviceInformation", "GetScopes"]
    assert http_seen.connections == 3


def test_run_without_answer_is_empty_and_bounded() -> None:
    async def scenario() -> list:
        async with udp_server(lambda _d: [], wsd.PORT):
            return await wsd.run(make_net(read_timeout=0.3), HOST, 0)

    assert asyncio.run(scenario()) == []


def test_run_ignores_garbage_datagrams() -> None:
    async def scenario() -> list:
        async with udp_server(lambda _d: [b"\x00" * 100, b"<a/>"], wsd.PORT):
            return await wsd.run(make_net(read_timeout=0.3), HOST, 0)

    assert asyncio.run(scenario()) == []
