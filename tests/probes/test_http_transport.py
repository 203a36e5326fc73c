"""The HTTP probe end to end against real servers on 127.77.5.0/24 (and one outside scope).

Vendor bodies are real device replies from tests/probes/samples (origins inside each
file); the status lines and headers around them, and the generic pages, are ours.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import mmh3
import pytest
from probe_servers import HOST, Seen, http_handler, make_net, tcp_server

from camaudit.model import Observation
from camaudit.netio import Budget, Net, Refused
from camaudit.probes import http, vendor_http
from camaudit.probes.base import Credentials
from camaudit.scope import Scope

SAMPLES = Path(__file__).parent / "samples"
OUTSIDE = "127.67.0.1"  # never in any scope used here
ICON = bytes(range(256)) * 3  # an arbitrary binary icon


def sample_body(name: str) -> bytes:
    return str(json.loads((SAMPLES / f"{name}.json").read_text())["response"]).encode()


NVR_XML = sample_body("hikvision-isapi-deviceinfo-xml-nvr-ds-7608nxi-i2")
SYSINFO = sample_body("dahua-cgi-getsysteminfo-ipc-hdw5831r-ze").replace(b"\n", b"\r\n")
SOFTWARE = sample_body("dahua-cgi-getsoftwareversion-2.800")
AXIS_BRAND = sample_body("axis-vapix-param-brand-m1065-lw")
AXIS_PROPS = sample_body("axis-vapix-param-properties-m7001-fw5.20.5")
# Greenbone's published RPC2_Login challenge (see test_vendor_http.py for its origin).
RPC2 = (b'{"error":{"code":268632079,"message":"Component error: login challenge!"},"id":1,'
        b'"params":{"encryption":"Default","mac":"3CEF8C6101C0","random":"3734299",'
        b'"realm":"Login to 4C045ADPAG60CD"},"result":false,"session":1005027323}')
PAGE = (b'<html><head><title> Example Web Client </title>'
        b'<link rel="shortcut icon" href="img/site.ico"></head><body>login</body></html>')


def respond(status: str, body: bytes = b"", headers: tuple[str, ...] = ()) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


NOT_FOUND = respond("404 Not Found", b"not found", ("Content-Type: text/plain",))


def path_of(request: bytes) -> str:
    return request.split(b" ", 2)[1].decode()


def routes(table: dict[str, bytes]) -> Callable[[bytes], bytes]:
    return lambda request: table.get(path_of(request), NOT_FOUND)


def run_against(route: Callable[[bytes], bytes], net: Net | None = None,
                seen: Seen | None = None, keep_alive: bool = False) -> list[Observation]:
    async def scenario() -> list[Observation]:
        async with tcp_server(http_handler(route, seen, keep_alive)) as port:
            return await http.run(net or make_net(), HOST, port)

    return asyncio.run(scenario())


def paths(observations: list[Observation]) -> list[str]:
    return [str(o.fields["path"]) for o in observations if o.probe == "http"]


def one(observations: list[Observation], probe: str, path: str | None = None) -> Observation:
    found = [o for o in observations
             if o.probe == probe and (path is None or o.fields.get("path") == path)]
    assert len(found) == 1, [(o.probe, o.fields.get("path")) for o in observations]
    return found[0]


# --- what a well-behaved device yields -------------------------------------------------

def test_root_page_icon_link_and_open_isapi() -> None:
    seen = Seen()
    observations = run_against(routes({
        "/": respond("200 OK", PAGE, ("Content-Type: text/html; charset=utf-8",
                                      "Server: webs")),
        "/img/site.ico": respond("200 OK", ICON, ("Content-Type: image/x-icon",)),
        "/ISAPI/System/deviceInfo": respond("200 OK", NVR_XML,
                                            ("Content-Type: application/xml",)),
    }), seen=seen)
    root = one(observations, "http", "/")
    assert root.fields["status"] == 200 and root.fields["server"] == "webs"
    assert root.fields["title"] == "Example Web Client"
    assert "Server: webs" in root.fields["headers"]  # type: ignore[operator]
    assert root.fields["tls"] is False and root.address == HOST
    icon = one(observations, "http", "/img/site.ico")
    assert icon.fields["favicon_md5"] == hashlib.md5(ICON).hexdigest()
    assert icon.fields["favicon_mmh3"] == mmh3.hash(base64.encodebytes(ICON))
    assert "body" not in icon.fields  # binary
    isapi = one(observations, "isapi")
    assert isapi.fields["model"] == "DS-7608NXI-I2/8P/S" and isapi.raw == NVR_XML
    # favicon.ico not needed; follow-ups of failed vendor requests not asked
    assert "/favicon.ico" not in paths(observations)
    asked = [path_of(r) for r in seen.requests]
    assert asked == ["/", "/img/site.ico", "/ISAPI/System/deviceInfo",
                     "/cgi-bin/magicBox.cgi?action=getSystemInfo", "/RPC2_Login",
                     "/axis-cgi/param.cgi?action=list&group=root.Brand",
                     "/LAPI/V1.0/System/DeviceInfo"]


def test_a_device_that_keeps_the_connection_answers_everything_on_one() -> None:
    """Same requests, same observations; one connection instead of one per request."""
    table = routes({
        "/": respond("200 OK", PAGE, ("Content-Type: text/html; charset=utf-8",)),
        "/img/site.ico": respond("200 OK", ICON, ("Content-Type: image/x-icon",)),
        "/ISAPI/System/deviceInfo": respond("200 OK", NVR_XML,
                                            ("Content-Type: application/xml",)),
    })
    closing, keeping = Seen(), Seen()
    each = run_against(table, seen=closing)
    kept = run_against(table, seen=keeping, keep_alive=True)
    assert [(o.probe, o.fields, o.raw) for o in kept] == [(o.probe, o.fields, o.raw)
                                                          for o in each]
    assert [path_of(r) for r in keeping.requests] == [path_of(r) for r in closing.requests]
    assert closing.connections == len(closing.requests) == 7 and keeping.connections == 1
    assert all(b"\r\nConnection: keep-alive\r\n" in r for r in keeping.requests)


def test_a_reply_that_says_close_is_not_followed_on_its_connection() -> None:
    seen = Seen()
    close = respond("404 Not Found", b"not found", ("Connection: close",))
    observations = run_against(lambda _request: close, seen=seen, keep_alive=True)
    assert seen.connections == len(seen.requests) == len(paths(observations)) == 7


def test_dahua_cgi_and_rpc2_challenge() -> None:
    seen = Seen()
    observations = run_against(routes({
        "/": respond("200 OK", b"<html></html>", ("Content-Type: text/html",)),
        "/cgi-bin/magicBox.cgi?action=getSystemInfo": respond("200 OK", SYSINFO),
        "/cgi-bin/magicBox.cgi?action=getSoftwareVersion": respond("200 OK", SOFTWARE),
        "/RPC2_Login": respond("200 OK", RPC2, ("Content-Type: application/json",)),
    }), seen=seen)
    cgi = [o.fields for o in observations if o.probe == "dahua-cgi"]
    assert cgi == [{"device_type": "IPC-HDW5831R-ZE", "hardware": "1.00",
                    "serial": "4X7C5A1ZAG21L3F", "update_serial": "IPC-HDW5830R-Z"},
                   {"firmware": "2.800.0000016.0.R", "firmware_build": "2020-06-05"}]
    assert one(observations, "dahua-rpc2").fields["realm"] == "Login to 4C045ADPAG60CD"
    (login,) = [r for r in seen.requests if r.startswith(b"POST /RPC2_Login ")]
    assert login.endswith(vendor_http.RPC2_LOGIN_BODY)
    assert b"Content-Type: application/json" in login


def test_axis_param_groups() -> None:
    observations = run_against(routes({
        "/axis-cgi/param.cgi?action=list&group=root.Brand": respond(
            "200 OK", AXIS_BRAND, ("Content-Type: text/plain; charset=ISO-8859-1",)),
        "/axis-cgi/param.cgi?action=list&group=root.Properties": respond(
            "200 OK", AXIS_PROPS, ("Content-Type: text/plain; charset=ISO-8859-1",)),
    }))
    vapix = [o.fields for o in observations if o.probe == "vapix"]
    assert vapix == [{"brand": "AXIS", "model": "M1065-LW", "product_type": "Network Camera"},
                     {"firmware": "5.20.5", "serial": "ACCC8E1A909D"}]
    assert one(observations, "http", "/").fields["status"] == 404


def test_catch_all_server_gives_no_vendor_observation_and_few_requests() -> None:
    seen = Seen()
    spa = respond("200 OK", b"<!DOCTYPE html><html><title>App</title></html>",
                  ("Content-Type: text/html",))
    observations = run_against(lambda _request: spa, seen=seen)
    assert {o.probe for o in observations} == {"http"}
    assert "favicon_md5" not in one(observations, "http", "/favicon.ico").fields
    assert seen.connections == 7 <= http.MAX_REQUESTS


def test_chunked_root_and_keep_alive_server_is_not_waited_for() -> None:
    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"7\r\n<title>\r\n8\r\nChunked<\r\n7\r\n/title>\r\n0\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(30)  # ignores Connection: close

    async def scenario() -> tuple[list[Observation], float]:
        async with tcp_server(keep_alive) as port:
            started = time.monotonic()
            result = await http.run(make_net(read_timeout=2.0), HOST, port)
            return result, time.monotonic() - started

    observations, elapsed = asyncio.run(scenario())
    assert one(observations, "http", "/").fields["title"] == "Chunked"
    assert elapsed < 1.5  # every reply was framed: no read waited for the 2 s timeout


# --- credentials -----------------------------------------------------------------------

REALM, NONCE, USER, PASSWORD = "Example-Realm", "5d41402abc4b2a76", "operator", "S3cret-Pw!"


def digest_ok(request: bytes) -> bool:
    """Server-side RFC 7616 check (MD5, qop=auth), written from the RFC, not from httpauth."""
    match = re.search(rb"\r\nAuthorization: Digest (.*?)\r\n", request)
    if not match:
        return False
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', match.group(1).decode()))
    ha1 = hashlib.md5(f"{USER}:{REALM}:{PASSWORD}".encode()).hexdigest()
    ha2 = hashlib.md5(f"GET:{params['uri']}".encode()).hexdigest()
    want = hashlib.md5(f"{ha1}:{NONCE}:{params['nc']}:{params['cnonce']}:auth:{ha2}"
                       .encode()).hexdigest()
    return params["username"] == USER and params["response"] == want


def protected(request: bytes) -> bytes:
    if path_of(request) != "/ISAPI/System/deviceInfo":
        return NOT_FOUND
    if digest_ok(request):
        return respond("200 OK", NVR_XML, ("Set-Cookie: WebSession=abcdef123456; path=/",))
    return respond("401 Unauthorized", b"", (
        f'WWW-Authenticate: Digest realm="{REALM}", qop="auth", nonce="{NONCE}"',))


def test_digest_credentials_unlock_isapi_and_are_never_recorded() -> None:
    seen = Seen()
    net = make_net(credentials=Credentials(USER, PASSWORD))
    observations = run_against(protected, net=net, seen=seen)
    assert one(observations, "isapi").fields["serial"]
    challenged, authed = [o for o in observations
                          if o.fields.get("path") == "/ISAPI/System/deviceInfo"]
    assert challenged.fields["status"] == 401 and challenged.fields["realm"] == REALM
    assert authed.fields["status"] == 200
    assert "Set-Cookie: WebSession=<redacted>; path=/" in authed.fields["headers"]  # type: ignore[operator]
    assert b"WebSession=<redacted>; path=/" in authed.raw
    evidence = repr([(o.fields, o.raw) for o in observations]) + repr(net)
    assert PASSWORD not in evidence
    assert "abcdef123456" not in evidence  # a session won with the operator's login
    assert sum(b"Authorization:" in r for r in seen.requests) == 1  # only where challenged


def test_without_credentials_only_the_realm_is_recorded() -> None:
    seen = Seen()
    observations = run_against(protected, seen=seen)
    assert not [o for o in observations if o.probe == "isapi"]
    assert one(observations, "http", "/ISAPI/System/deviceInfo").fields["realm"] == REALM
    assert not any(b"Authorization" in r for r in seen.requests)


# --- redirects and the scope gate ------------------------------------------------------

def test_in_scope_redirect_to_another_port_is_followed() -> None:
    async def scenario() -> list[Observation]:
        landing = routes({"/login": respond("200 OK", b"<title>Landing</title>",
                                            ("Content-Type: text/html",))})
        async with tcp_server(http_handler(landing)) as port2:
            first = routes({"/": respond("302 Found", b"", (
                f"Location: http://{HOST}:{port2}/login",))})
            async with tcp_server(http_handler(first)) as port1:
                result = await http.run(make_net(), HOST, port1)
                assert {o.port for o in result} == {port1, port2}
                return result

    observations = asyncio.run(scenario())
    assert one(observations, "http", "/login").fields["title"] == "Landing"
    assert one(observations, "http", "/").fields["status"] == 302


def test_out_of_scope_redirect_is_recorded_and_never_contacted() -> None:
    accepted = Seen()

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.connections += 1

    async def scenario() -> tuple[list[Observation], Scope]:
        async with tcp_server(count, host=OUTSIDE) as outside_port:
            page = routes({"/": respond("301 Moved", b"", (
                f"Location: http://{OUTSIDE}:{outside_port}/steal",))})
            async with tcp_server(http_handler(page)) as port:
                scope = Scope([HOST])
                net = Net(scope=scope, budget=Budget(max_sockets=8), connect_timeout=0.5,
                          read_timeout=0.5)
                result = await http.run(net, HOST, port)
                await asyncio.sleep(0.05)
                return result, scope

    observations, scope = asyncio.run(scenario())
    root = one(observations, "http", "/")
    assert str(root.fields["redirect_refused"]).startswith(f"http://{OUTSIDE}:")
    assert [a for a, _ in scope.refused] == [OUTSIDE]
    assert accepted.connections == 0
    assert all(o.address == HOST for o in observations)


def test_redirect_to_a_name_is_refused_without_resolving() -> None:
    observations = run_against(routes({"/": respond("302 Found", b"", (
        "Location: https://camera.example/doc/page/login.asp",))}))
    assert one(observations, "http", "/").fields["redirect_refused"] == \
        "https://camera.example/doc/page/login.asp"


def test_redirect_loop_stops_after_max_hops() -> None:
    seen = Seen()
    observations = run_against(routes({
        "/": respond("302 Found", b"", ("Location: /a",)),
        "/a": respond("302 Found", b"", ("Location: /b",)),
        "/b": respond("302 Found", b"", ("Location: /a",)),
    }), seen=seen)
    assert paths(observations)[:3] == ["/", "/a", "/b"]
    assert [path_of(r) for r in seen.requests].count("/a") == 1


# --- hostile peers ---------------------------------------------------------------------

def run_hostile(handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], object],
                read_timeout: float = 0.5) -> tuple[list[Observation], float, int]:
    connections = 0

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await handler(reader, writer)  # type: ignore[misc]

    async def scenario() -> tuple[list[Observation], float]:
        async with tcp_server(counted) as port:
            started = time.monotonic()
            result = await http.run(make_net(read_timeout=read_timeout), HOST, port)
            return result, time.monotonic() - started

    observations, elapsed = asyncio.run(scenario())
    return observations, elapsed, connections


def test_slow_drip_costs_one_read_timeout() -> None:
    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while True:
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.02)

    observations, elapsed, connections = run_hostile(drip)
    root = one(observations, "http", "/")
    assert root.fields["status"] == 200 and "within" in str(root.fields["error"])
    assert elapsed < 1.0 and connections == 1 and len(observations) == 1


def test_endless_body_is_cut_at_the_cap() -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n")
        while True:
            writer.write(b"<p>" * 20_000)
            await writer.drain()

    observations, elapsed, connections = run_hostile(endless)
    root = one(observations, "http", "/")
    assert "cap" in str(root.fields["error"]) and root.raw_size <= http.RESPONSE_CAP
    assert len(str(root.fields["body"])) == http.BODY_TEXT
    assert elapsed < 1.0 and connections == 1


def test_huge_content_length_then_silence() -> None:
    async def liar(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\nshort")
        await writer.drain()
        await asyncio.sleep(30)

    observations, elapsed, connections = run_hostile(liar)
    assert one(observations, "http", "/").fields["body"] == "short"
    assert elapsed < 1.0 and connections == 1


@pytest.mark.parametrize("reply", [
    b"HTTP/1.1 OK 200\r\n\r\n",
    b"\x00\xff\x13garbage" * 50,
    b"220 FTP server ready\r\n",
])
def test_malformed_or_foreign_reply_is_kept_and_ends_the_session(reply: bytes) -> None:
    async def foreign(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(reply)
        await writer.drain()

    observations, elapsed, connections = run_hostile(foreign)
    root = one(observations, "http", "/")
    assert "status" not in root.fields and "malformed" in str(root.fields["error"])
    assert root.raw == reply and connections == 1 and elapsed < 1.0


def test_silent_server_yields_nothing_within_the_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    observations, elapsed, connections = run_hostile(silent)
    assert observations == [] and connections == 1 and elapsed < 1.0


def test_immediate_close_tries_tls_once_then_gives_up() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    try:
        observations, elapsed, connections = run_hostile(hang_up)
    except Refused:
        return  # the TLS retry failed and nothing was learnt: a NetError is allowed
    assert observations == [] and connections == 2 and elapsed < 1.5


def test_slow_but_valid_device_is_bounded_by_the_session_budget() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(0.3)
        writer.write(NOT_FOUND)
        await writer.drain()

    observations, elapsed, connections = run_hostile(slow, read_timeout=0.5)
    assert elapsed < http.TIME_FACTOR * 0.5 + 0.5
    assert 3 <= connections < 6
    assert connections - 1 <= len(observations) <= connections  # the last may be cut short
