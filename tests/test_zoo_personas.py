"""Each persona answers through real sockets as its data file says."""

from __future__ import annotations

import json
import re
import socket
import ssl
import struct
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography import x509

from camaudit.zoo import ZooProcess, dvrip, xmeye
from camaudit.zoo.http import stays_open
from camaudit.zoo.personas import load_all
from camaudit.zoo.render import ZOO_PASSWORD, ZOO_USER
from camaudit.zoo.wire import parse_head

PERSONAS = load_all()
SERVING = sorted(p for p, v in PERSONAS.items() if not v.hostile)


#: Every request here reads its reply to the end: it asks the device to close after it
#: (an HTTP/1.1 device otherwise keeps the connection open for the next request).
CLOSE = "Connection: close\r\n"


def exchange(address: str, port: int, data: bytes = b"", *, tls: bool = False,
             limit: int = 256 * 1024, timeout: float = 3.0, until: bytes | None = None) -> bytes:
    """Send `data`, read until EOF, `limit` bytes or `timeout` (bounded)."""
    raw = socket.create_connection((address, port), timeout=timeout)
    sock: socket.socket = raw
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        sock = ctx.wrap_socket(raw)
    try:
        if data:
            sock.sendall(data)
        out = b""
        while len(out) < limit:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            out += chunk
            if until is not None and until in out:
                break
        return out
    finally:
        sock.close()


def device_of(zoo: ZooProcess, persona: str) -> dict[str, Any]:
    found = zoo.by_persona(persona)
    assert found, f"persona {persona} missing from the zoo"
    return found[0]


def expected_status(route: Mapping[str, Any], default: str = "HTTP/1.1 200 OK",
                    persona: Any = None) -> str:
    var = route.get("body_var")
    if var and persona is not None and not persona.vars.get(str(var)):
        return "absent"  # a family route this member does not hold: its not_found reply
    if route.get("auth"):
        return "HTTP/1.1 401 Unauthorized"
    return str(route.get("status_line", default))


@pytest.mark.parametrize("persona_id", SERVING)
def test_tcp_services_answer_as_their_data_says(zoo: ZooProcess, persona_id: str) -> None:
    persona = PERSONAS[persona_id]
    dev = device_of(zoo, persona_id)
    assert dev["ports"] == persona.tcp_ports
    for port, svc in persona.tcp.items():
        proto = svc["proto"]
        if proto in ("http", "https"):
            routes = [r for r in svc.get("routes") or () if r.get("method", "GET") in ("GET", "*")]
            for route in routes:
                reply = exchange(dev["address"], port,
                                 f"GET {route['path']} HTTP/1.1\r\nHost: x\r\n{CLOSE}\r\n"
                                 .encode(), tls=proto == "https")
                status = reply.split(b"\r\n", 1)[0].decode()
                want = expected_status(route, persona=persona)
                if want == "absent":
                    not_found = svc.get("not_found") or {}
                    want = str(not_found.get("status_line", "HTTP/1.1 404 Not Found"))
                assert status == want, (persona_id, port, route["path"])
            for header in svc.get("server_headers") or ():
                name = header.split(":", 1)[0]
                if "{{" not in header:
                    probe = exchange(dev["address"], port,
                                     f"GET / HTTP/1.1\r\nHost: x\r\n{CLOSE}\r\n".encode(),
                                     tls=proto == "https")
                    assert header.encode() in probe or name == "Date", (persona_id, header)
            if not routes:  # a 404 as the device sends it, or silence where none is published
                reply = exchange(dev["address"], port,
                                 f"GET /zoo-missing HTTP/1.1\r\n{CLOSE}\r\n".encode(),
                                 tls=proto == "https")
                if (svc.get("not_found") or {}).get("close"):
                    assert reply == b"", (persona_id, reply)
                else:
                    assert reply.startswith(b"HTTP/1.")
        elif proto == "rtsp":
            reply = exchange(dev["address"], port,
                             b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 7\r\n\r\n", until=b"\r\n\r\n")
            table = svc["responses"]
            item = table.get("OPTIONS") or table["*"]
            if item.get("close"):  # reply not published: the persona says nothing
                assert reply == b"", (persona_id, reply)
                continue
            assert reply.split(b"\r\n", 1)[0].decode() == item["status_line"]
            # Header names are case-insensitive (RFC 2326 12); Hipcam and go2rtc send "Cseq".
            assert b"cseq: 7\r\n" in reply.lower(), (persona_id, reply)
        elif proto == "raw":
            banner = bytes.fromhex(svc["banner_hex"].replace(" ", "")) if "banner_hex" in svc \
                else str(svc.get("banner", "")).encode()
            size = len(banner.split(b"{{")[0]) + 32 if b"{{" in banner else len(banner)
            reply = exchange(dev["address"], port, limit=size)
            if b"{{" in banner:
                prefix = banner.split(b"{{")[0]
                assert reply.startswith(prefix) and len(reply) == len(prefix) + 32
            else:
                assert reply == banner
        elif proto == "xmeye":
            check_xmeye(dev, port)
        elif proto == "dvrip":
            check_dvrip(dev, port, svc)


def check_xmeye(dev: Mapping[str, Any], port: int) -> None:
    with socket.create_connection((dev["address"], port), timeout=3) as s:
        login = json.dumps({"EncryptType": "MD5", "LoginType": "DVRIP-Web", "UserName": ZOO_USER,
                            "PassWord": xmeye.sofia_hash(ZOO_PASSWORD)}).encode()
        s.sendall(xmeye.frame(xmeye.LOGIN, 0, 0, login))
        head = s.recv(20, socket.MSG_WAITALL)
        session, _seq, msg, length = xmeye.parse_header(head)
        body = json.loads(s.recv(length, socket.MSG_WAITALL).rstrip(b"\n\x00"))
        assert msg == xmeye.LOGIN + 1 and body["Ret"] == 100 and session
        s.sendall(xmeye.frame(xmeye.SYSINFO, session, 1, b'{"Name": "SystemInfo"}'))
        _s, _q, msg, length = xmeye.parse_header(s.recv(20, socket.MSG_WAITALL))
        info = json.loads(s.recv(length, socket.MSG_WAITALL).rstrip(b"\n\x00"))
        assert info["SystemInfo"]["DeviceModel"] == dev["model"]
        assert info["SystemInfo"]["SoftWareVersion"] == dev["firmware"]


def check_dvrip(dev: Mapping[str, Any], port: int, svc: Mapping[str, Any]) -> None:
    with socket.create_connection((dev["address"], port), timeout=3) as s:
        s.sendall(b"\xa0\x01\x00\x00" + b"\x00" * 20 + bytes.fromhex("050201010000a1aa"))
        head = s.recv(32, socket.MSG_WAITALL)
        assert head[:2] == b"\xb0\x01"
        text = s.recv(struct.unpack_from("<I", head, 4)[0], socket.MSG_WAITALL).decode()
        realm = re.search(r"Realm:(.*)\r\n", text).group(1)  # type: ignore[union-attr]
        random = re.search(r"Random:(\d+)", text).group(1)  # type: ignore[union-attr]
        assert realm == f"Login to {dev['serial']}"
        wrong = f"{ZOO_USER}&&{'0' * 64}".encode()
        s.sendall(b"\xa0\x05\x00\x00" + struct.pack("<I", len(wrong)) + b"\x00" * 16
                  + bytes.fromhex("050200080000a1aa") + wrong)
        assert s.recv(32, socket.MSG_WAITALL)[8:10] == b"\x01\x00"
        good = dvrip.expected_login(realm, random).encode()
        s.sendall(b"\xa0\x05\x00\x00" + struct.pack("<I", len(good)) + b"\x00" * 16
                  + bytes.fromhex("050200080000a1aa") + good)
        assert s.recv(32, socket.MSG_WAITALL)[8:10] == b"\x00\x08"


def test_isapi_device_info_needs_the_login_then_names_the_real_model(zoo: ZooProcess) -> None:
    dev = device_of(zoo, "hikvision-ipc-v5714")
    denied = exchange(dev["address"], 80,
                      f"GET /ISAPI/System/deviceInfo HTTP/1.1\r\n{CLOSE}\r\n".encode())
    assert denied.startswith(b"HTTP/1.1 401") and b'Digest realm="Hikvision"' in denied
    import base64
    token = base64.b64encode(f"{ZOO_USER}:{ZOO_PASSWORD}".encode()).decode()
    ok = exchange(dev["address"], 80, f"GET /ISAPI/System/deviceInfo HTTP/1.1\r\n{CLOSE}"
                  f"Authorization: Basic {token}\r\n\r\n".encode())
    assert ok.startswith(b"HTTP/1.1 200") or ok.startswith(b"HTTP/1.0 200")
    assert b"<model>DS-2CD2386G2-IU</model>" in ok
    assert b"<firmwareVersion>V5.7.14</firmwareVersion>" in ok
    assert f"<serialNumber>{dev['serial']}</serialNumber>".encode() in ok


def test_hikvision_https_certificate_is_the_factory_subject(zoo: ZooProcess) -> None:
    dev = device_of(zoo, "hikvision-nvr")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((dev["address"], 443), timeout=3) as raw, \
            ctx.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    assert cert.subject.rfc4514_string() == (
        "CN=www.hikvision.com,OU=DVRNVR,O=HIKVISION,L=HangZhou,ST=ZheJiang,C=CN")
    assert cert.issuer == cert.subject


def test_onvif_pre_auth_time_then_refusal_without_login(zoo: ZooProcess) -> None:
    dev = device_of(zoo, "dahua-ipc")
    def soap(op: str) -> bytes:
        body = (f'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
                f'<tds:{op} xmlns:tds="http://www.onvif.org/ver10/device/wsdl"/></s:Body>'
                f'</s:Envelope>').encode()
        return exchange(dev["address"], 80, b"POST /onvif/device_service HTTP/1.1\r\n"
                        b"Connection: close\r\n"
                        b"Content-Type: application/soap+xml\r\nContent-Length: "
                        + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert b"GetSystemDateAndTimeResponse" in soap("GetSystemDateAndTime")
    refused = soap("GetDeviceInformation")
    assert b"ter:NotAuthorized" in refused and b"IPC-HDW5831R-ZE" not in refused


def test_ws_discovery_probe_gets_probematches_relating_to_it(zoo: ZooProcess) -> None:
    dev = device_of(zoo, "generic-onvif-camera")
    probe = (b'<?xml version="1.0"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"'
             b' xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing"><e:Header>'
             b"<w:MessageID>urn:uuid:11112222-3333-4444-5555-666677778888</w:MessageID>"
             b'</e:Header><e:Body><d:Probe xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/'
             b'discovery"/></e:Body></e:Envelope>')
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(probe, (dev["address"], 3702))
        reply, peer = s.recvfrom(65536)
    assert peer[0] == dev["address"]
    assert b"urn:uuid:11112222-3333-4444-5555-666677778888</wsa:RelatesTo>" in reply
    assert b"onvif://www.onvif.org/hardware/HD_PREDATOR" in reply
    assert f"http://{dev['address']}/onvif/device_service".encode() in reply


def test_onvif_probe_with_the_operator_login_reads_device_information(zoo: ZooProcess) -> None:
    """camaudit's own ONVIF probe (WS-UsernameToken digest) against the zoo's verifier."""
    from camaudit.cliutil import run_async
    from camaudit.netio import Budget, Net
    from camaudit.probes.base import Credentials
    from camaudit.probes.onvif import run as onvif_probe
    from camaudit.scope import Scope

    dev = device_of(zoo, "dahua-ipc")
    login = zoo.manifest["credentials"]

    async def probe(credentials: Credentials | None) -> list[dict[str, object]]:
        net = Net(scope=Scope([dev["address"]]), budget=Budget(max_sockets=16),
                  credentials=credentials)
        return [o.fields for o in await onvif_probe(net, dev["address"], 80)]

    without = run_async(probe(None))
    with_login = run_async(probe(Credentials(login["username"], login["password"])))
    assert not any(f.get("model") == "IPC-HDW5831R-ZE" for f in without)
    assert any(f.get("model") == "IPC-HDW5831R-ZE" for f in with_login), with_login


def test_dvrip_probe_reads_the_realm_challenge_of_a_dahua_device(zoo: ZooProcess) -> None:
    """camaudit's DVRIP probe (Tenable's first login step) against the zoo's Dahua service."""
    from camaudit.cliutil import run_async
    from camaudit.netio import Budget, Net
    from camaudit.probes.dvrip import run as dvrip_probe
    from camaudit.scope import Scope

    dev = device_of(zoo, "dahua-ipc")

    async def probe() -> list[dict[str, object]]:
        net = Net(scope=Scope([dev["address"]]), budget=Budget(max_sockets=16))
        return [o.fields for o in await dvrip_probe(net, dev["address"], 37777)]

    (fields,) = run_async(probe())
    assert fields["recognised"] is True
    assert str(fields["realm"]).startswith("Login to ")


def test_unpublished_rtsp_reply_closes_the_connection_instead(zoo: ZooProcess) -> None:
    """2N's OPTIONS reply is published, its DESCRIBE reply is not: the persona answers the
    first and then closes rather than invent the second."""
    dev = device_of(zoo, "2n-helios-ip-force")
    with socket.create_connection((dev["address"], 554), timeout=3) as s:
        s.sendall(b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first:
            first += s.recv(4096)
        assert first.startswith(b"RTSP/1.0 200 OK\r\nServer: HIP2.21.2.30.5\r\n")
        s.sendall(b"DESCRIBE rtsp://x/ RTSP/1.0\r\nCSeq: 2\r\n\r\n")
        assert s.recv(4096) == b""


def _replies(address: str, port: int, requests: list[bytes]) -> list[bytes]:
    """Send `requests` one after the other on one connection; each reply as read (b'' once
    the device closed)."""
    out = []
    with socket.create_connection((address, port), timeout=3) as s:
        for request in requests:
            try:
                s.sendall(request)
                out.append(s.recv(65536))
            except ConnectionError:
                out.append(b"")
    return out


def test_http_11_reply_keeps_the_connection_for_the_next_request(zoo: ZooProcess) -> None:
    """As RFC 9112 9.3 has it: no 'Connection: close' in an HTTP/1.1 reply framed by its
    length, and the device answers the next request on the same connection."""
    dev = device_of(zoo, "axis-m3024")
    asks = [f"GET /zoo-{n} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for n in range(3)]
    replies = _replies(dev["address"], 80, asks)
    assert all(r.startswith(b"HTTP/1.1 404") for r in replies), replies


def test_reply_that_says_close_ends_the_connection(zoo: ZooProcess) -> None:
    dev = device_of(zoo, "hikvision-ipc-v5714")  # App-webs: "Connection: close", as recorded
    first, second = _replies(dev["address"], 80, [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"] * 2)
    assert b"Connection: close" in first and second == b""


@pytest.mark.parametrize(("reply", "request_head", "kept"), [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"GET / HTTP/1.1", True),
    (b"HTTP/1.1 200 OK\r\nCONNECTION: close\r\nContent-Length: 2\r\n\r\nok", b"GET / HTTP/1.1",
     False),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", b"GET / HTTP/1.1", False),
    (b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok",
     b"GET / HTTP/1.1", True),
    (b"HTTP/1.1 200 OK\r\n\r\nuntil the close", b"GET / HTTP/1.1", False),
    (b"HTTP/1.1 204 No Content\r\n\r\n", b"GET / HTTP/1.1", True),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"GET / HTTP/1.1\r\nConnection: close",
     False),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"GET / HTTP/1.0", False),
])
def test_stays_open_follows_the_reply_and_the_request(reply: bytes, request_head: bytes,
                                                       kept: bool) -> None:
    assert stays_open(reply, parse_head(request_head + b"\r\n\r\n")) is kept
