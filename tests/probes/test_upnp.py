"""UPnP probe: SSDP reply and description per UDA 1.1, fuzzing, unicast transport, LOCATION gate."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import (
    HOST,
    XXE,
    Seen,
    http_handler,
    http_reply,
    make_net,
    tcp_server,
    udp_server,
)

from camaudit.errors import ParseError
from camaudit.probes import upnp

# Shaped after UDA 1.1 §1.3.3 (search response) and §2.3 (device description);
# names and values are invented for the test.
DESCRIPTION = b"""<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  <device>
    <deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>
    <friendlyName>Lobby camera</friendlyName>
    <manufacturer>ExampleMaker</manufacturer>
    <modelDescription>Network camera</modelDescription>
    <modelName>EX-100</modelName>
    <modelNumber>100</modelNumber>
    <serialNumber>SN0001</serialNumber>
    <UDN>uuid:00000000-0000-0000-0000-000000000001</UDN>
    <deviceList><device><friendlyName>embedded</friendlyName></device></deviceList>
  </device>
</root>"""


def search_reply(location: str) -> bytes:
    return ("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
            f"LOCATION: {location}\r\nSERVER: Linux/3.0 UPnP/1.0 Example/1.0\r\n"
            "ST: upnp:rootdevice\r\nUSN: uuid:00000000-0000-0000-0000-000000000001::"
            "upnp:rootdevice\r\n\r\n").encode()


def test_search_reply() -> None:
    fields = upnp.parse_search_reply(search_reply("http://192.0.2.10:49152/desc.xml"))
    assert fields["location"] == "http://192.0.2.10:49152/desc.xml"
    assert fields["server"] == "Linux/3.0 UPnP/1.0 Example/1.0"
    assert fields["st"] == "upnp:rootdevice"
    assert str(fields["usn"]).endswith("::upnp:rootdevice")


def test_description_reads_root_device_only() -> None:
    assert upnp.parse_description(DESCRIPTION) == {
        "friendly_name": "Lobby camera", "manufacturer": "ExampleMaker",
        "model_name": "EX-100", "model_number": "100", "model_description": "Network camera",
        "serial": "SN0001", "udn": "uuid:00000000-0000-0000-0000-000000000001"}


def test_msearch_is_addressed_to_the_device() -> None:
    msg = upnp.build_msearch("192.0.2.10")
    assert msg.startswith(b"M-SEARCH * HTTP/1.1\r\nHOST: 192.0.2.10:1900\r\n")
    assert b'MAN: "ssdp:discover"' in msg and b"MX:" not in msg


@pytest.mark.parametrize("data", [b"", b"HTTP/1.1 404 Not Found\r\n\r\n", b"NOTIFY * HTTP/1.1\r\n",
                                  b"HTTP/1.1 200 OK\r\nX: y\r\n\r\n"])
def test_not_a_search_reply(data: bytes) -> None:
    with pytest.raises(ParseError):
        upnp.parse_search_reply(data)


@pytest.mark.parametrize("data", [b"<html/>", b"<root/>", XXE])
def test_not_a_description(data: bytes) -> None:
    with pytest.raises(ParseError):
        upnp.parse_description(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1024))
def test_fuzz_search_reply(data: bytes) -> None:
    try:
        fields = upnp.parse_search_reply(data)
    except ParseError:
        return
    assert "location" in fields or "st" in fields


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_description(data: bytes) -> None:
    try:
        fields = upnp.parse_description(data)
    except ParseError:
        return
    assert all(isinstance(v, str) and v for v in fields.values())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_description_fields(text: str) -> None:
    data = DESCRIPTION.replace(b"Lobby camera", text.encode("utf-8", "surrogatepass"))
    try:
        fields = upnp.parse_description(data)
    except ParseError:
        return
    assert fields.get("manufacturer") == "ExampleMaker"


def _scenario(location_for: str) -> tuple[list, list, Seen, Seen]:
    http_seen = Seen()

    async def scenario() -> tuple[list, list, Seen]:
        net = make_net()
        route = http_handler(lambda _r: http_reply("200 OK", DESCRIPTION, "text/xml"), http_seen)
        async with tcp_server(route) as port:
            location = location_for.format(host=HOST, port=port)
            async with udp_server(lambda _d: [search_reply(location)], upnp.PORT) as udp_seen:
                obs = await upnp.run(net, HOST, 0)
        return obs, net.scope.refused, udp_seen

    obs, refused, udp_seen = asyncio.run(scenario())
    return obs, refused, udp_seen, http_seen


def test_run_follows_in_scope_location() -> None:
    obs, refused, udp_seen, http_seen = _scenario("http://{host}:{port}/desc.xml")
    assert len(udp_seen.requests) == 1 and udp_seen.requests[0].startswith(b"M-SEARCH")
    assert [o.fields.get("manufacturer") for o in obs] == [None, "ExampleMaker"]
    assert http_seen.requests[0].startswith(b"GET /desc.xml HTTP/1.1\r\n")
    assert refused == []


def test_run_refuses_out_of_scope_location() -> None:
    obs, refused, _udp, http_seen = _scenario("http://198.51.100.7:{port}/desc.xml")
    assert len(obs) == 1
    assert str(obs[0].fields["location_refused"]).startswith("http://198.51.100.7:")
    assert refused == [("198.51.100.7", "ssdp location")]
    assert http_seen.connections == 0


def test_run_refuses_host_name_location() -> None:
    obs, refused, _udp, http_seen = _scenario("http://camera.example/desc.xml")
    assert "location_refused" in obs[0].fields and http_seen.connections == 0
    assert refused == [("camera.example", "ssdp location")]
