"""Reolink firmware through the Reolink HTTP API with the operator's login.

The password may only ever go to a server that first answered Reolink's own
"please login first" error, and neither it nor the session token may be kept in
any observation (fields or raw bytes). The GetDevInfo body is the RLC-411WS sample
of ReolinkCameraAPI/reolinkapipy (tests/fixtures/devices, origin inside); the
Login answer follows reolinkapipy examples/response/Login.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import HOST, Seen, http_handler, make_net, tcp_server

from camaudit.errors import ParseError
from camaudit.model import Observation
from camaudit.probes import http, vendor_http
from camaudit.probes.base import Credentials

FIXTURE = Path(__file__).parents[1] / "fixtures" / "devices" / \
    "reolink-api-getdevinfo-rlc-411ws.json"
DEVINFO = str(json.loads(FIXTURE.read_text())["response"]).encode()
NEED_LOGIN = b'[{"cmd": "GetDevInfo", "code": 1, "error": {"detail": "please login first", ' \
    b'"rspCode": -6}}]'
USER, PASSWORD, TOKEN = "operator", "S3cret-Pw!", "a1b2c3d4e5f60718"
LOGIN_OK = json.dumps([{"cmd": "Login", "code": 0,
                        "value": {"Token": {"leaseTime": 3600, "name": TOKEN}}}]).encode()


def _respond(body: bytes, status: str = "200 OK") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def reolink(echo: bool = False) -> Callable[[bytes], bytes]:
    """A Reolink-like API; with `echo`, a hostile one that repeats the request body back."""
    def route(request: bytes) -> bytes:
        target = request.split(b" ", 2)[1].decode()
        body = request.split(b"\r\n\r\n", 1)[1]
        if target == "/cgi-bin/api.cgi?cmd=Login&token=null":
            got = json.loads(body)[0]["param"]["User"]
            ok = (got["userName"], got["password"]) == (USER, PASSWORD)
            answer = json.loads(LOGIN_OK) if ok else [{"cmd": "Login", "code": 1}]
            if echo:
                answer[0]["echo"] = body.decode()
            return _respond(json.dumps(answer).encode())
        if target == f"/cgi-bin/api.cgi?cmd=GetDevInfo&token={TOKEN}":
            return _respond(DEVINFO.replace(b'"name": "Camera1_withpersonality"',
                                            f'"name": "{TOKEN} {PASSWORD}"'.encode())
                            if echo else DEVINFO)
        if target.startswith("/cgi-bin/api.cgi"):
            return _respond(NEED_LOGIN)
        return _respond(b"<html>not found</html>", "404 Not Found")
    return route


def run(route: Callable[[bytes], bytes], creds: Credentials | None,
        seen: Seen) -> list[Observation]:
    async def scenario() -> list[Observation]:
        async with tcp_server(http_handler(route, seen)) as port:
            return await http.run(make_net(credentials=creds), HOST, port)
    return asyncio.run(scenario())


@pytest.mark.parametrize("echo", [False, True])
def test_login_reads_firmware_and_keeps_no_secret(echo: bool) -> None:
    seen = Seen()
    observations = run(reolink(echo), Credentials(USER, PASSWORD), seen)
    info = [o for o in observations if o.probe == "reolink"]
    assert len(info) == 1
    assert info[0].fields["model"] == "RLC-411WS"
    assert info[0].fields["firmware"] == "v2.0.0.1389_18081408"
    assert info[0].fields["hardware"] == "IPC_3816M"
    kept = repr([(o.fields, o.raw) for o in observations])
    assert PASSWORD not in kept and TOKEN not in kept
    assert json.dumps(PASSWORD)[1:-1] not in kept
    logins = [r for r in seen.requests if b"cmd=Login" in r]
    assert len(logins) == 1 and PASSWORD.encode() in logins[0]
    # the password went out only after the anonymous GetDevInfo got Reolink's error
    first = next(i for i, r in enumerate(seen.requests) if PASSWORD.encode() in r)
    assert any(b"cmd=GetDevInfo " in r for r in seen.requests[:first])
    paths = [str(o.fields.get("path")) for o in observations if o.probe == "http"]
    assert "/cgi-bin/api.cgi?cmd=GetDevInfo&token=<redacted>" in paths


def test_password_never_sent_to_a_server_that_is_not_reolink() -> None:
    for other in (b'[{"cmd": "GetDevInfo", "code": 0, "value": {}}]', b'{"error": "login"}',
                  b"<html>please login first</html>"):
        seen = Seen()
        observations = run(lambda _r, body=other: _respond(body), Credentials(USER, PASSWORD),
                           seen)
        assert not any(PASSWORD.encode() in r for r in seen.requests)
        assert not [o for o in observations if o.probe == "reolink"]


def test_without_credentials_the_api_is_not_asked() -> None:
    seen = Seen()
    run(reolink(), None, seen)
    assert not any(b"api.cgi" in r for r in seen.requests)


def test_refused_login_gives_no_observation() -> None:
    seen = Seen()
    observations = run(reolink(), Credentials(USER, "wrong"), seen)
    assert not [o for o in observations if o.probe == "reolink"]
    assert not any(b"token=" + TOKEN.encode() in r for r in seen.requests)


def test_parsers() -> None:
    assert vendor_http.reolink_needs_login(NEED_LOGIN)
    assert not vendor_http.reolink_needs_login(DEVINFO)
    assert vendor_http.parse_reolink_login(LOGIN_OK) == TOKEN
    fields = vendor_http.parse_reolink_devinfo(DEVINFO)
    assert fields["serial"] == "00000000000000" and fields["device_type"] == "IPC"
    for bad in (b"", b"[]", b"{}", b"[1]", b'[{"cmd":"Login"}]', b"\xff\xfe"):
        with pytest.raises(ParseError):
            vendor_http.parse_reolink_devinfo(bad)
    with pytest.raises(ParseError):  # a token that could smuggle into a request target
        vendor_http.parse_reolink_login(LOGIN_OK.replace(TOKEN.encode(), b"a b\\r\\nX: y"))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=512), st.from_regex(r"\[\{\"cmd\": ?\"(GetDevInfo|Login)\".*",
                                                        fullmatch=True).map(str.encode)))
def test_fuzz_reolink_parsers(blob: bytes) -> None:
    for parse in (vendor_http.reolink_needs_login, vendor_http.parse_reolink_login,
                  vendor_http.parse_reolink_devinfo):
        with contextlib.suppress(ParseError):
            parse(blob)
