"""ONVIF probe: SOAP parsing per the device WSDL, UsernameToken, fuzzing, transport."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import (
    BILLION_LAUGHS,
    HOST,
    NOT_AUTHORIZED,
    ONVIF_BODIES,
    SOAP_HEAD,
    SOAP_TAIL,
    Seen,
    http_handler,
    http_reply,
    make_net,
    onvif_route,
    replay,
    tcp_server,
    token_ok,
)

from camaudit.errors import ParseError
from camaudit.probes import onvif
from camaudit.probes.base import Credentials


def envelope(action: bytes) -> bytes:
    return SOAP_HEAD + ONVIF_BODIES[action] + SOAP_TAIL


def test_device_information() -> None:
    assert onvif.parse_soap(envelope(b"GetDeviceInformation"), "GetDeviceInformation") == {
        "action": "GetDeviceInformation", "manufacturer": "ExampleMaker", "model": "EX-100",
        "firmware": "1.2.3", "serial": "SN0001", "hardware_id": "HW-1"}


def test_scopes_and_time() -> None:
    assert onvif.parse_soap(envelope(b"GetScopes"), "GetScopes")["scopes"] == [
        "onvif://www.onvif.org/type/video_encoder", "onvif://www.onvif.org/name/EX-100"]
    assert onvif.parse_soap(envelope(b"GetSystemDateAndTime"), "GetSystemDateAndTime")[
        "device_time"] == "2026-11-25T09:05:07Z"


def test_fault_subcode_is_reported() -> None:
    fields = onvif.parse_soap(SOAP_HEAD + NOT_AUTHORIZED + SOAP_TAIL, "GetScopes")
    assert fields == {"action": "GetScopes", "fault": "ter:NotAuthorized"}


@pytest.mark.parametrize("body", [b"<html>404</html>", SOAP_HEAD + b"<x/>" + SOAP_TAIL,
                                  BILLION_LAUGHS])
def test_not_an_answer(body: bytes) -> None:
    with pytest.raises(ParseError):
        onvif.parse_soap(body, "GetDeviceInformation")


def test_envelope_and_token() -> None:
    env = onvif.build_envelope("GetScopes")
    assert b'<GetScopes xmlns="http://www.onvif.org/ver10/device/wsdl"/>' in env
    creds = Credentials("ad<min", "pa&ss")
    sec = onvif.security_header(creds, datetime(2026, 11, 25, tzinfo=UTC), b"\x01" * 16)
    assert "<wsse:Username>ad&lt;min</wsse:Username>" in sec
    assert "pa&ss" not in sec
    assert "<wsu:Created>2026-11-25T00:00:00Z</wsu:Created>" in sec
    with pytest.raises(ValueError):
        onvif.build_envelope("SetSystemFactoryDefault")


def test_password_digest_checked_independently() -> None:
    sec = onvif.security_header(Credentials("admin", "secret"), datetime.now(UTC))
    assert token_ok(onvif.build_envelope("GetScopes", sec), "admin", "secret")
    assert not token_ok(onvif.build_envelope("GetScopes", sec), "admin", "wrong")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.sampled_from(onvif.ACTIONS))
def test_fuzz_binary(data: bytes, action: str) -> None:
    try:
        fields = onvif.parse_soap(data, action)
    except ParseError:
        return
    assert fields["action"] == action


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.sampled_from(onvif.ACTIONS))
def test_fuzz_inside_envelope(text: str, action: str) -> None:
    data = SOAP_HEAD + f"<tds:{action}Response>{text}</tds:{action}Response>".encode(
        "utf-8", "surrogatepass") + SOAP_TAIL
    try:
        fields = onvif.parse_soap(data, action)
    except ParseError:
        return
    assert fields["action"] == action


def _run(route_auth: tuple[str, str] | None, creds: Credentials | None,
         seen: Seen) -> list:
    async def scenario() -> list:
        async with tcp_server(http_handler(onvif_route(route_auth), seen)) as port:
            return await onvif.query(make_net(credentials=creds), HOST, port)

    return asyncio.run(scenario())


def test_open_device_answers_three_questions_without_credentials() -> None:
    seen = Seen()
    obs = _run(None, None, seen)
    assert [o.fields["action"] for o in obs] == list(onvif.ACTIONS)
    assert obs[1].fields["manufacturer"] == "ExampleMaker"
    assert all(o.fields["status"] == 200 and o.fields["authenticated"] is False for o in obs)
    assert all(r.startswith(b"POST /onvif/device_service HTTP/1.1\r\n") for r in seen.requests)
    assert not any(b"wsse:Security" in r for r in seen.requests)


def test_locked_device_without_credentials_records_the_fault() -> None:
    seen = Seen()
    obs = _run(("admin", "secret"), None, seen)
    assert obs[1].fields == {"action": "GetDeviceInformation", "fault": "ter:NotAuthorized",
                             "status": 400, "authenticated": False}
    assert seen.connections == 3


def test_locked_device_with_operator_credentials() -> None:
    seen = Seen()
    obs = _run(("admin", "secret"), Credentials("admin", "secret"), seen)
    info = obs[1].fields
    assert info["serial"] == "SN0001" and info["authenticated"] is True
    # time, info (refused, retried); once the token is taken, scopes, capabilities and
    # network interfaces carry it at once
    assert seen.connections == 6
    assert not any(b"secret" in r for r in seen.requests)
    assert all(b"secret" not in o.raw for o in obs)


def test_non_http_port_gets_one_request_only() -> None:
    seen = Seen()

    async def scenario() -> list:
        sdk = bytes.fromhex("000000100000001e0000001e00000000")
        async with tcp_server(replay(sdk, seen=seen)) as port:
            return await onvif.run(make_net(), HOST, port)

    assert asyncio.run(scenario()) == []
    assert seen.connections == 1


def test_http_without_onvif_stops_after_first_question() -> None:
    seen = Seen()

    async def scenario() -> list:
        route = http_handler(lambda _req: http_reply("404 Not Found", b"<html/>", "text/html"),
                             seen)
        async with tcp_server(route) as port:
            return await onvif.run(make_net(), HOST, port)

    assert asyncio.run(scenario()) == []
    assert seen.connections == 1


def test_xml_bomb_over_the_wire_is_dropped_quickly() -> None:
    import time

    async def scenario() -> list:
        route = http_handler(lambda _req: http_reply("200 OK", BILLION_LAUGHS))
        async with tcp_server(route) as port:
            return await onvif.run(make_net(), HOST, port)

    start = time.monotonic()
    assert asyncio.run(scenario()) == []
    assert time.monotonic() - start < 2.0
