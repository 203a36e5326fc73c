"""Ubiquiti discovery probe: a real UVC G3 Flex reply, fuzzing, unicast transport, identity."""

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
from camaudit.probes import ubnt

# antoine-lombardo/unifi-cam-proxy adoption-flow.md@484246be (redacted bytes filled, see note).
SAMPLE = json.loads((Path(__file__).parent / "samples" /
                     "ubiquiti-discovery-uvc-g3-flex.json").read_text())
REPLY = bytes.fromhex(SAMPLE["response_hex"])


def test_real_reply() -> None:
    fields = ubnt.parse_reply(REPLY)
    assert fields["recognised"] == "true"
    assert fields["product"] == "UVC G3 Flex"
    assert fields["hostname"] == "UVC G3 Flex"
    assert fields["firmware_full"] == "UVC.S2L.v4.75.62.67.e71c6e5.250411.1421"
    assert fields["mac"] == "74:00:00:00:db:91"
    assert fields["system_id"] == "34a5"


def test_real_reply_identifies_a_unifi_camera() -> None:
    obs = Observation(HOST, ubnt.PORT, "ubnt", ubnt.parse_reply(REPLY), raw=REPLY)
    device = identify(HOST, [obs])
    assert (device.device_type, device.manufacturer, device.brand) == (
        "camera", "Ubiquiti", "UniFi")
    assert (device.model, device.firmware) == ("UVC G3 Flex", "4.75.62")


def _reply(*tlvs: tuple[int, bytes]) -> bytes:
    body = b"".join(struct.pack(">BH", kind, len(value)) + value for kind, value in tlvs)
    return struct.pack(">BBH", 1, 0, len(body)) + body


def test_an_access_point_is_ubiquiti_but_not_a_camera() -> None:
    reply = _reply((12, b"U7PG2"), (3, b"BZ.qca956x.v4.3.20.11298.201016.1520"))
    device = identify(HOST, [Observation(HOST, ubnt.PORT, "ubnt", ubnt.parse_reply(reply))])
    assert (device.device_type, device.manufacturer) == ("other", "Ubiquiti")


@pytest.mark.parametrize("data", [
    b"", b"\x01\x00", ubnt.REQUEST,                      # too short; our own request
    b"\x03\x00\x00\x00",                                 # unknown version
    b"\x01\x00\x00\x10\x0c\x00\x05UVC",                  # length field beyond the data
    _reply((12, b"UVC"))[:-1] + b"",                     # truncated TLV
    _reply((10, b"\x00\x00\x00\x01")),                   # nothing that identifies
])
def test_not_a_reply(data: bytes) -> None:
    with pytest.raises(ParseError):
        ubnt.parse_reply(data)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=1024))
def test_fuzz_binary(data: bytes) -> None:
    try:
        fields = ubnt.parse_reply(data)
    except ParseError:
        return
    assert fields["recognised"] == "true"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=300)), max_size=80))
def test_fuzz_tlv_lists(tlvs: list[tuple[int, bytes]]) -> None:
    try:
        fields = ubnt.parse_reply(_reply(*tlvs))
    except ParseError:
        return
    assert all(len(str(v)) <= ubnt.MAX_TEXT for v in fields.values())


def test_run_is_one_unicast_request() -> None:
    async def scenario() -> tuple[list[Observation], list[bytes]]:
        async with udp_server(lambda _d: [REPLY], ubnt.PORT) as seen:
            obs = await ubnt.run(make_net(), HOST, 0)
        return obs, seen.requests

    obs, requests = asyncio.run(scenario())
    assert requests == [ubnt.REQUEST]
    assert [o.fields["product"] for o in obs] == ["UVC G3 Flex"]
    assert obs[0].port == ubnt.PORT and obs[0].raw == REPLY


def test_run_without_answer_is_empty_and_bounded() -> None:
    async def scenario() -> list[Observation]:
        async with udp_server(lambda _d: [b"\x00" * 40], ubnt.PORT):
            return await ubnt.run(make_net(read_timeout=0.3), HOST, 0)

    assert asyncio.run(scenario()) == []
