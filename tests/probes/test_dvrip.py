"""Dahua DVRIP probe: the published challenge framing, fuzzing, and the transport."""

from __future__ import annotations

import asyncio
import struct

from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import HOST, Seen, make_net, replay, tcp_server

from camaudit.errors import ParseError
from camaudit.probes import dvrip


def challenge(text: bytes, command: int = 0xB0) -> bytes:
    """A reply framed as Tenable's recv_response reads it: 32-byte header, length at 4."""
    header = bytes([command]) + b"\x00" * 3 + struct.pack("<I", len(text)) + b"\x00" * 24
    return header + text


# Realm value invented for the test; the "Login to <id>" shape is the published one.
REPLY = challenge(b"Realm:Login to EXAMPLE00000\r\nRandom:1426523021\r\n")


def test_request_is_the_blank_first_login_step() -> None:
    req = dvrip.CHALLENGE_REQUEST
    assert len(req) == 32 and req[0] == 0xA0
    assert req[8:24] == b"\x00" * 16  # no user or password hash


def test_challenge_realm_is_read() -> None:
    fields = dvrip.parse_reply(REPLY)
    assert fields["recognised"] is True
    assert fields["realm"] == "Login to EXAMPLE00000"
    assert fields["reply_hex"] == REPLY[:64].hex()


def test_reply_without_realm_is_not_recognised() -> None:
    assert dvrip.parse_reply(challenge(b"Hello\r\n"))["recognised"] is False
    assert dvrip.parse_reply(REPLY[:40])["recognised"] is False  # truncated payload
    assert dvrip.parse_reply(b"\xa0" * 10)["recognised"] is False


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz(data: bytes) -> None:
    try:
        fields = dvrip.parse_reply(data)
    except ParseError:
        assert data == b""
        return
    assert isinstance(fields["recognised"], bool)
    if fields["recognised"]:
        assert isinstance(fields["realm"], str)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_payload_text(text: str) -> None:
    fields = dvrip.parse_reply(challenge(text.encode("utf-8", "surrogatepass")))
    assert fields["recognised"] == ("realm" in fields)


def test_run_sends_only_the_challenge_request() -> None:
    seen = Seen()

    async def scenario() -> list:
        async with tcp_server(replay(REPLY, seen=seen)) as port:
            return await dvrip.run(make_net(), HOST, port)

    obs = asyncio.run(scenario())
    assert seen.requests == [dvrip.CHALLENGE_REQUEST]
    assert obs[0].probe == "dvrip" and obs[0].fields["realm"] == "Login to EXAMPLE00000"
