"""Hikvision SDK port probe: nmap's published signature, fuzzing, and the transport."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import HOST, Seen, make_net, replay, tcp_server

from camaudit.errors import ParseError
from camaudit.probes import hik_sdk

# The reply nmap-service-probes attributes to "Hikvision IPCam control port".
NMAP_SIGNATURE = bytes.fromhex("00000010" "0000001e" "0000001e" "00000000")


def test_signature_is_recognised() -> None:
    fields = hik_sdk.parse_reply(NMAP_SIGNATURE)
    assert fields == {"reply_hex": NMAP_SIGNATURE.hex(), "recognised": True, "error_code": 0x1E}


def test_other_framed_reply_is_kept_but_not_recognised() -> None:
    other = bytes.fromhex("00000010" "00000001" "00000002" "00000000")
    fields = hik_sdk.parse_reply(other)
    assert fields["recognised"] is False
    assert fields["error_code"] == 2
    assert hik_sdk.parse_reply(b"HTTP/1.1 400 Bad Request\r\n\r\n")["recognised"] is False


def test_empty_is_a_parse_error() -> None:
    try:
        hik_sdk.parse_reply(b"")
    except ParseError as exc:
        assert exc.offset == 0
    else:
        raise AssertionError("empty reply must not parse")


def test_complete_waits_for_declared_length() -> None:
    assert not hik_sdk.complete(NMAP_SIGNATURE[:10])
    assert hik_sdk.complete(NMAP_SIGNATURE)
    assert not hik_sdk.complete(b"\xff\xff\xff\xff" + b"\x00" * 20)  # absurd length: wait idle


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=256))
def test_fuzz(data: bytes) -> None:
    try:
        fields = hik_sdk.parse_reply(data)
    except ParseError:
        assert data == b""
        return
    assert fields["recognised"] == data.startswith(NMAP_SIGNATURE)
    assert len(str(fields["reply_hex"])) <= 128


def test_run_nudges_a_silent_port_and_reads_the_signature() -> None:
    seen = Seen()

    async def scenario() -> list:
        async with tcp_server(replay(NMAP_SIGNATURE, seen=seen)) as port:
            return await hik_sdk.run(make_net(read_timeout=0.3), HOST, port)

    obs = asyncio.run(scenario())
    assert len(obs) == 1 and obs[0].fields["recognised"] is True
    assert obs[0].probe == "hik-sdk" and obs[0].raw == NMAP_SIGNATURE
    assert seen.requests == [b"\r\n\r\n"]


def test_run_reads_an_unsolicited_reply_without_sending() -> None:
    seen = Seen()

    async def banner_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(NMAP_SIGNATURE)
        await writer.drain()
        data = await reader.read()
        if data:
            seen.requests.append(data)

    async def scenario() -> list:
        async with tcp_server(banner_first) as port:
            return await hik_sdk.run(make_net(read_timeout=0.3), HOST, port)

    obs = asyncio.run(scenario())
    assert obs[0].fields["recognised"] is True
    assert seen.requests == []
