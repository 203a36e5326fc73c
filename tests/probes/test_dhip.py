"""Dahua DHIP discovery probe: a published IPC reply, fuzzing, unicast transport, identification."""

from __future__ import annotations

import asyncio
import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import HOST, make_net, udp_server

from camaudit.errors import ParseError
from camaudit.identify import identify
from camaudit.model import Observation
from camaudit.probes import dhip

# Port-37810 reflection write-up (IPC-HDW5421S); addresses replaced, see the sample's note.
SAMPLE = json.loads((Path(__file__).parent / "samples" /
                     "dahua-dhip-notifydevinfo-ipc-hdw5421s.json").read_text())
BODY = SAMPLE["response"].encode()


def _frame(body: bytes, header: int = 32) -> bytes:
    return (struct.pack("<I", header) + b"DHIP" + bytes(8) + struct.pack("<I", len(body))
            + bytes(4) + struct.pack("<I", len(body)) + bytes(header - 28) + body)


REPLY = _frame(BODY)


def test_request_framing() -> None:
    """32-byte header with the DHIP magic, body length at 16 and 24 (rroller/dahua)."""
    request = dhip.REQUEST
    assert request[:8] == b"\x20\x00\x00\x00DHIP"
    assert request.index(b"{") == 32
    body = request[32:]
    assert struct.unpack("<I", request[16:20])[0] == len(body)
    assert struct.unpack("<I", request[24:28])[0] == len(body)
    assert json.loads(body)["method"] == "DHDiscover.search"


def test_real_reply() -> None:
    fields = dhip.parse_reply(REPLY)
    assert fields["device_class"] == "IPC"
    assert fields["device_type"] == "IPC-HDW5421S"
    assert (fields["vendor"], fields["manufacturer"]) == ("Dahua", "Private")
    assert fields["version"] == "2.400.0.8"
    assert fields["serial"] == "1F006E4PAX00075"
    assert fields["mac"] == "4c:11:bf:c2:0b:9d"
    assert fields["port"] == 37777
    assert not any("192.0.2" in str(v) for v in fields.values())  # addressing is not kept


def test_real_reply_identifies_a_dahua_camera_without_login() -> None:
    device = identify(HOST, [Observation(HOST, dhip.PORT, "dhip", dhip.parse_reply(REPLY))])
    assert (device.device_type, device.manufacturer, device.brand) == ("camera", "Dahua", "Dahua")
    assert (device.model, device.firmware, device.serial) == (
        "IPC-HDW5421S", "2.400.0.8", "1F006E4PAX00075")


def test_a_longer_header_still_parses() -> None:
    """Header length varied across firmware (rroller/dahua): the body is found by its '{'."""
    assert dhip.parse_reply(_frame(BODY, header=40))["device_type"] == "IPC-HDW5421S"


def test_an_oem_vendor_is_the_brand_and_dahua_the_maker() -> None:
    info = {"DeviceClass": "NVR", "DeviceType": "X", "Vendor": "Intelbras",
            "SerialNo": "K3LJ3400209RH"}
    body = json.dumps({"mac": "b4:4c:3b:00:00:01", "method": "client.notifyDevInfo",
                       "params": {"deviceInfo": info}})
    device = identify(HOST, [Observation(HOST, dhip.PORT, "dhip",
                                         dhip.parse_reply(_frame(body.encode())))])
    assert (device.device_type, device.manufacturer, device.brand) == (
        "recorder", "Dahua", "Intelbras")


@pytest.mark.parametrize("data", [
    b"", BODY,                                          # no header at all
    b"\x20\x00\x00\x00PIHD" + bytes(24) + BODY,         # the byte-reversed magic
    _frame(b"not json"), _frame(b"[" * 50000),          # garbage, deep nesting
    _frame(b'{"params": {"deviceInfo": "a string"}}'),
    _frame(b'{"params": {"deviceInfo": {"Vendor": "General"}}}'),  # nothing that identifies
    _frame(b"{" + b" " * (dhip.MAX_REPLY + 1) + b"}"),
])
def test_not_a_reply(data: bytes) -> None:
    with pytest.raises(ParseError):
        dhip.parse_reply(data)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_binary(data: bytes) -> None:
    try:
        fields = dhip.parse_reply(data)
    except ParseError:
        return
    assert fields["recognised"] == "true"


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["DeviceClass", "DeviceType", "SerialNo", "Version",
                                        "Vendor", "Port", "HttpPort"]),
                       st.one_of(st.text(max_size=300), st.integers(), st.none(), st.booleans(),
                                 st.lists(st.integers(), max_size=3)), max_size=7))
def test_fuzz_device_info(info: dict[str, object]) -> None:
    body = json.dumps({"method": "client.notifyDevInfo", "params": {"deviceInfo": info}})
    try:
        fields = dhip.parse_reply(_frame(body.encode()))
    except ParseError:
        return
    assert all(len(str(v)) <= dhip.MAX_TEXT for v in fields.values())


def test_run_is_one_unicast_request() -> None:
    async def scenario() -> tuple[list[Observation], list[bytes]]:
        async with udp_server(lambda _d: [REPLY], dhip.PORT) as seen:
            obs = await dhip.run(make_net(), HOST, 0)
        return obs, seen.requests

    obs, requests = asyncio.run(scenario())
    assert requests == [dhip.REQUEST]
    assert [o.fields["device_type"] for o in obs] == ["IPC-HDW5421S"]


def test_run_ignores_garbage_and_silence() -> None:
    async def scenario() -> list[Observation]:
        async with udp_server(lambda _d: [b"DHIP" * 10], dhip.PORT):
            return await dhip.run(make_net(read_timeout=0.3), HOST, 0)

    assert asyncio.run(scenario()) == []
