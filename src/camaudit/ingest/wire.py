"""What devices said in the clear, from reassembled TCP streams and UDP datagrams.

Every reply is read by the same sans-IO parser the active probe uses, so a
passive observation carries the same probe name, fields and (for identical
bytes) the same SHA-256 as the active one, and the same rules identify it:

=====================================  ==============================================
seen in a capture                      parsed by
=====================================  ==============================================
HTTP responses (paired with requests)  :mod:`~camaudit.probes.httpwire`,
                                       :func:`camaudit.probes.http.response_fields`,
                                       favicon hashes (:mod:`~camaudit.probes.favicon`)
ISAPI, magicBox, RPC2_Login, VAPIX     :data:`camaudit.probes.vendor_http.REQUESTS` parsers
ONVIF SOAP replies                     :func:`camaudit.probes.onvif.parse_soap`
UPnP descriptions, SSDP replies        :mod:`~camaudit.probes.upnp`
TLS server certificate (TLS <= 1.2)    records walked here; the DER read by
                                       :mod:`~camaudit.probes.tls`
RTSP replies                           :func:`camaudit.probes.rtsp.parse_response`
Hikvision SDK, DVRIP, XMeye replies    ``parse_reply`` of hik_sdk / dvrip / xmeye
server-first greetings (FTP, Telnet)   :func:`camaudit.probes.banner.parse_banner`
WS-Discovery ProbeMatches              :func:`camaudit.probes.wsd.parse_probe_matches`
Ubiquiti discovery, Dahua DHIP replies ``parse_reply`` of ubnt / dhip (UDP 10001, 37810)
=====================================  ==============================================

Two message kinds no probe receives are adapted here, in a few lines each:
SSDP ``NOTIFY`` announcements (UDA 1.1 §1.2.2: the same LOCATION/SERVER/USN
headers as a search reply, NT for ST) and WS-Discovery ``Hello``
(WS-Discovery 2005/04 §4.1: the same Types/Scopes/XAddrs children as a
ProbeMatch). In TLS 1.3 the certificate is encrypted (RFC 8446 §4.4.2), so
only the port is learnt; TLS 1.2 and older send it in the clear
(RFC 5246 §7.4.2: Handshake type 11, a 24-bit list length, then 24-bit-length
DER certificates, the server's own first).
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime

from camaudit.errors import ParseError
from camaudit.ingest.records import Record, Seen
from camaudit.ingest.tcpflow import Flow
from camaudit.model import FieldValue, Observation
from camaudit.probes import (
    banner,
    dhip,
    dvrip,
    favicon,
    hik_sdk,
    http,
    httpwire,
    onvif,
    rtsp,
    tls,
    ubnt,
    upnp,
    vendor_http,
    wsd,
    xmeye,
)
from camaudit.probes.xmlsafe import child_text, iter_local, parse_xml, split_list

#: Request/response pairs read per connection.
MAX_EXCHANGES = 32
#: TLS handshake bytes gathered before giving up on finding the certificate.
MAX_HANDSHAKE = 64 * 1024
_ONVIF_ACTION = re.compile(rb"<(?:[\w.-]+:)?(" + b"|".join(a.encode() for a in onvif.ACTIONS)
                           + rb")\b")
_VENDOR = {(r.method, r.path): r for r in vendor_http.REQUESTS}


def _when(ts: float) -> datetime:
    try:
        return datetime.fromtimestamp(ts, UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.now(UTC)


def _obs(address: str, port: int | None, probe: str, fields: dict[str, FieldValue],
         raw: bytes, ts: float) -> Observation:
    return Observation(address=address, port=port, probe=probe, fields=fields, raw=raw,
                       time=_when(ts), source="passive")


# --- requests, as a client sent them ---------------------------------------------------

def split_requests(data: bytes) -> list[tuple[str, str, bytes, bytes]]:
    """(method, target, head, body) of each HTTP/RTSP request a client sent, in order."""
    out: list[tuple[str, str, bytes, bytes]] = []
    pos = 0
    while pos < len(data) and len(out) < MAX_EXCHANGES:
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            end = len(data)
        head = data[pos:end]
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        if len(parts) != 3 or not parts[2].startswith(("HTTP/", "RTSP/")):
            break
        length = 0
        m = re.search(rb"(?im)^content-length:[ \t]*(\d{1,9})[ \t]*$", head)
        if m:
            length = int(m.group(1))
        body = data[end + 4:end + 4 + length]
        out.append((parts[0], parts[1], head, body))
        pos = end + 4 + length
    return out


# --- HTTP ------------------------------------------------------------------------------

def _is_icon(response: httpwire.Response, target: str) -> bool:
    ctype = (response.header("Content-Type") or "").lower()
    head = response.body.lstrip()[:15].lower()
    return (response.status == 200 and bool(response.body) and "html" not in ctype
            and not head.startswith((b"<!doctype html", b"<html"))
            and (target.lower().split("?")[0].endswith(".ico") or ctype.startswith("image/")))


def _extra(host: str, port: int, method: str, target: str, req_head: bytes, req_body: bytes,
           response: httpwire.Response, reply: bytes, ts: float) -> list[Observation]:
    """Vendor, ONVIF and UPnP observations hidden in one HTTP exchange.

    Raw bytes as the probes keep them: the body for vendor endpoints, the whole
    reply for ONVIF and UPnP descriptions (so identical replies hash alike)."""
    out: list[Observation] = []
    vendor = _VENDOR.get((method, target))
    if vendor is not None and response.status == 200:
        with contextlib.suppress(ParseError):
            out.append(_obs(host, port, vendor.probe, vendor.parse(response.body),
                            response.body, ts))
    action = _ONVIF_ACTION.search(req_body[:8192]) if method == "POST" else None
    if action is not None and response.body:
        try:
            fields = onvif.parse_soap(response.body, action.group(1).decode())
            fields["status"] = response.status
            fields["authenticated"] = (b"UsernameToken" in req_body
                                       or b"\nauthorization:" in req_head.lower())
            out.append(_obs(host, port, "onvif", fields, reply, ts))
        except ParseError:
            pass
    if method == "GET" and response.status == 200 and b"<root" in response.body[:4096]:
        try:
            fields = upnp.parse_description(response.body)
            fields["location"] = f"http://{_hostport(host, port)}{target}"[:1024]
            out.append(_obs(host, port, "upnp", fields, reply, ts))
        except ParseError:
            pass
    return out


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def http_records(flow: Flow, ts: float) -> list[Observation]:
    """One ``http`` observation per response, plus what vendor endpoints revealed."""
    data = bytes(flow.to_client.data)
    requests = split_requests(bytes(flow.to_server.data))
    out: list[Observation] = []
    pos = 0
    for i in range(MAX_EXCHANGES):
        if pos >= len(data):
            break
        method, target, head, body = requests[i] if i < len(requests) \
            else ("GET", "", b"", b"")
        try:
            end = httpwire.message_end(data[pos:], method=method)
            chunk = data[pos:pos + end] if end is not None else data[pos:]
            response = httpwire.parse_response(chunk, method=method, eof=True)
        except ParseError:
            break
        fields: dict[str, FieldValue] = {"tls": False}
        if target:
            fields["path"] = target[:1024]
        fields.update(http.response_fields(response))
        if not response.complete:
            fields["error"] = "reply incomplete in the capture"
        if _is_icon(response, target):
            fields.update(favicon.favicon_hashes(response.body))
        out.append(_obs(flow.server, flow.server_port, "http", fields, chunk, ts))
        out += _extra(flow.server, flow.server_port, method, target, head, body, response,
                      chunk, ts)
        if end is None:
            break
        pos += end
    return out


# --- RTSP ------------------------------------------------------------------------------

def rtsp_records(flow: Flow, ts: float) -> list[Observation]:
    data = bytes(flow.to_client.data)
    requests = [(m, t) for m, t, _, _ in split_requests(bytes(flow.to_server.data))]
    out: list[Observation] = []
    pos = 0
    for i in range(MAX_EXCHANGES):
        if pos >= len(data):
            break
        try:
            end = httpwire.message_end(data[pos:], protocol=b"RTSP")
            chunk = data[pos:pos + end] if end is not None else data[pos:]
            fields = rtsp.parse_response(chunk)
        except ParseError:
            break
        if i < len(requests):
            fields["method"] = requests[i][0][:32]
            fields["path"] = rtsp.request_path(requests[i][1])
        out.append(_obs(flow.server, flow.server_port, "rtsp", fields, chunk, ts))
        if end is None or end == 0:
            break
        pos += end
    return out


# --- TLS -------------------------------------------------------------------------------

def server_certificate(data: bytes) -> bytes | None:
    """The server's own certificate (DER) from a TLS <= 1.2 handshake, else None."""
    handshake = bytearray()
    pos = 0
    while pos + 5 <= len(data) and len(handshake) < MAX_HANDSHAKE:
        if data[pos] != 22 or data[pos + 1] != 3:  # not a Handshake record
            break
        length = int.from_bytes(data[pos + 3:pos + 5], "big")
        handshake += data[pos + 5:pos + 5 + length]
        pos += 5 + length
    pos = 0
    while pos + 4 <= len(handshake):
        kind = handshake[pos]
        length = int.from_bytes(handshake[pos + 1:pos + 4], "big")
        body = bytes(handshake[pos + 4:pos + 4 + length])
        if kind == 2 and b"\x00\x2b\x00\x02\x03\x04" in body:  # supported_versions = TLS 1.3
            return None
        if kind == 11:
            if len(body) < 6:
                return None
            first = int.from_bytes(body[3:6], "big")
            der = body[6:6 + first]
            return der if len(der) == first and der else None
        pos += 4 + length
    return None


def tls_records(flow: Flow, ts: float) -> list[Observation]:
    der = server_certificate(bytes(flow.to_client.data[:MAX_HANDSHAKE]))
    if der is None:
        return []
    try:
        fields = tls.parse_certificate(der)
    except ParseError as exc:
        fields = {"error": str(exc)[:512]}
    return [_obs(flow.server, flow.server_port, "tls", fields, der, ts)]


# --- binary protocols and greetings ----------------------------------------------------

def _xmeye_reply(data: bytes) -> bytes:
    """The SystemInfo reply among the framed replies (the last one otherwise)."""
    pos, last = 0, data
    while pos + xmeye.HEADER.size <= len(data):
        length = int.from_bytes(data[pos + 16:pos + 20], "little")
        if length > xmeye.MAX_PAYLOAD:
            break
        message = data[pos:pos + xmeye.HEADER.size + length]
        last = message
        if b"SystemInfo" in message:
            return message
        pos += len(message)
    return last


def binary_records(flow: Flow, ts: float) -> list[Observation]:
    server = bytes(flow.to_client.data)
    client = bytes(flow.to_server.data[:64])
    port = flow.server_port
    probe, fields = None, None
    try:
        if server.startswith(hik_sdk.SIGNATURE) or (port == 8000 and client in (
                b"", hik_sdk.NUDGE)):
            probe, fields = "hik-sdk", hik_sdk.parse_reply(server[:hik_sdk.MAX_REPLY])
        elif client.startswith(dvrip.CHALLENGE_REQUEST[:4]) or port == 37777:
            probe = "dvrip"
            fields = dvrip.parse_reply(server[:dvrip.HEADER + dvrip.MAX_PAYLOAD])
        elif server[:1] == b"\xff" and (port == 34567 or client[:1] == b"\xff"):
            server = _xmeye_reply(server)
            probe, fields = "xmeye", xmeye.parse_reply(server)
        elif port in (21, 23) or flow.first_speaker == "server":
            probe = "banner"
            server = server[:banner.MAX_BANNER]
            fields = banner.parse_banner(server, port)
    except ParseError:
        return []
    if probe is None or fields is None:
        return []
    return [_obs(flow.server, port, probe, fields, server[:64 * 1024], ts)]


def tcp_records(flow: Flow) -> list[Record]:
    """Everything one finished connection tells about its server."""
    out: list[Record] = []
    if flow.open_seen:
        out.append(Seen(address=flow.server, ports=(flow.server_port,)))
    server = flow.to_client.data
    if not server:
        return out
    ts = flow.last
    if server.startswith(b"HTTP/"):
        out += http_records(flow, ts)
    elif server.startswith(b"RTSP/"):
        out += rtsp_records(flow, ts)
    elif server[:2] == b"\x16\x03":
        out += tls_records(flow, ts)
    else:
        out += binary_records(flow, ts)
    return out


# --- UDP discovery ---------------------------------------------------------------------

def parse_hello(data: bytes) -> dict[str, FieldValue]:
    """A WS-Discovery Hello -> ``wsd`` fields (same children as a ProbeMatch)."""
    root = parse_xml(data, what="ws-discovery hello")
    hello = next(iter_local(root, "Hello"), None)
    if hello is None:
        raise ParseError("ws-discovery: no Hello element", offset=0)
    fields: dict[str, FieldValue] = {
        "types": split_list(child_text(hello, "Types")),
        "scopes": split_list(child_text(hello, "Scopes")),
        "xaddrs": split_list(child_text(hello, "XAddrs"))}
    for ref in iter_local(hello, "EndpointReference"):
        endpoint = child_text(ref, "Address")
        if endpoint:
            fields["endpoint"] = endpoint
        break
    return fields


def parse_notify(data: bytes) -> dict[str, FieldValue]:
    """An SSDP ``NOTIFY * HTTP/1.1`` -> ``upnp`` fields, read by the search-reply parser."""
    line_end = data.find(b"\r\n")
    if not data.startswith(b"NOTIFY ") or line_end < 0:
        raise ParseError("ssdp: not a NOTIFY", offset=0)
    rest = data[line_end:]
    if b"ssdp:byebye" in rest[:4096].lower():
        raise ParseError("ssdp: byebye carries no description", offset=0)
    nt = re.search(rb"(?im)^NT:[ \t]*(.+?)[ \t]*\r?$", rest)
    extra = b"\r\nST: " + nt.group(1) if nt else b""
    return upnp.parse_search_reply(b"HTTP/1.1 200 OK" + extra + rest)


def udp_records(src: str, sport: int, dport: int, payload: bytes,
                ts: float) -> list[Observation]:
    """Discovery replies and announcements a device sent over UDP."""
    probe: str | None = None
    try:
        if sport == wsd.PORT or dport == wsd.PORT:
            if b"ProbeMatch" in payload:
                probe, fields = "wsd", wsd.parse_probe_matches(payload)
            elif b"Hello" in payload:
                probe, fields = "wsd", parse_hello(payload)
        elif sport == upnp.PORT and payload.startswith(b"HTTP/"):
            probe, fields = "upnp", upnp.parse_search_reply(payload)
        elif dport == upnp.PORT and payload.startswith(b"NOTIFY "):
            probe, fields = "upnp", parse_notify(payload)
        elif sport == ubnt.PORT:
            probe, fields = "ubnt", ubnt.parse_reply(payload)
        elif sport == dhip.PORT or (dport == dhip.PORT and b"notifyDevInfo" in payload):
            probe, fields = "dhip", dhip.parse_reply(payload)
    except ParseError:
        return []
    if probe is None:
        return []
    port = {"wsd": wsd.PORT, "upnp": upnp.PORT, "ubnt": ubnt.PORT, "dhip": dhip.PORT}[probe]
    return [_obs(src, port, probe, fields, payload, ts)]
