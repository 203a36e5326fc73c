"""nmap service fingerprints built by hand in the documented format, read back and mapped.

The fingerprints here are written by :func:`fingerprint`, an encoder of our own that
follows the rules summarised in camaudit/ingest/servicefp.py (nmap/nmap service_scan.cc
``ServiceNFO::addToServiceFingerprint``); none is copied from nmap data. Device strings
are the facts existing rules cite, with the rule's source:
- ``Server: App-webs/``: rule hik-http-server-app-webs (nmap-service-probes@db4aefdd,
  'Hikvision IP camera httpd'), checked 2026-11-25;
- ``Server: Dahua Rtsp Server``: rule dahua-rtsp-server (rapid7/recog
  xml/rtsp_servers.xml@9f9c72d442d2b08b49e4c91da32e24d816d093a5), checked 2026-11-25;
- ``192.0.0.64 login:``: rule hik-telnet-login (rapid7/recog
  xml/telnet_banners.xml@14fa1a7211e7fb5707c7a1b421a07d6c2cf4eec5), checked 2026-11-25.
Other bytes (realms, SDP lines, the 'Example' names) are invented for the tests.
"""

from __future__ import annotations

import io
import string
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.errors import ParseError
from camaudit.identify import identify
from camaudit.ingest import nmapxml, servicefp
from camaudit.model import Observation

_QUOTED = set(b'\\?"[]().*+$^|')
_ALNUM = set((string.ascii_letters + string.digits).encode())
_PUNCT = set(string.punctuation.encode())
_NAMED = {13: "\\r", 10: "\\n", 9: "\\t"}


def escape(data: bytes, keep: int = 900) -> str:
    """Our own encoder of nmap's reply escaping (documented in servicefp's docstring)."""
    out = []
    data = data[:keep]
    for i, b in enumerate(data):
        if b in _ALNUM:
            out.append(chr(b))
        elif b == 0:
            out.append("\\x00" if data[i + 1:i + 2].isdigit() else "\\0")
        elif b in _QUOTED:
            out.append("\\" + chr(b))
        elif b in _PUNCT:
            out.append(chr(b))
        elif b in _NAMED:
            out.append(_NAMED[b])
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out)


def fingerprint(port: int, replies: list[tuple[str, bytes]], *, proto: str = "TCP",
                tls: bool = False, keep: int = 900) -> str:
    """A fingerprint in its XML (one-line) form."""
    head = f"SF-Port{port}-{proto}:V=7.93{'%T=SSL' if tls else ''}%I=7%D=12/1%Time=674BA7C0" \
        "%P=x86_64-pc-linux-gnu"
    body = "".join(f'%r({name},{len(data):X},"{escape(data, keep)}")' for name, data in replies)
    return head + body + ";"


def wrapped(text: str, width: int = 74) -> str:
    """The normal-output form: a line break and ``SF:`` every `width` characters."""
    return "\nSF:".join(text[i:i + width] for i in range(0, len(text), width))


HIK_HTTP = (b"HTTP/1.1 401 Unauthorized\r\nServer: App-webs/\r\n"
            b'WWW-Authenticate: Digest realm="Example Realm", nonce="abc"\r\n'
            b"Content-Type: text/html\r\nContent-Length: 52\r\n\r\n"
            b"<html><head><title>Example</title></head></html>\r\n\r\n")
SDP = b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=Example Session\r\nm=video 0 RTP/AVP 96\r\n"
DAHUA_RTSP = (b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Dahua Rtsp Server\r\n"
              b"Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n"
              b"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n" % len(SDP)) + SDP
HIK_TELNET = b"\xff\xfd\x18\xff\xfd\x20\r\n192.0.0.64 login: "


def test_round_trip_of_every_escape() -> None:
    data = bytes(range(256)) + b"\x001\x00a\\\"()"
    fp = servicefp.parse(fingerprint(80, [("GetRequest", data)]))
    assert fp.port == 80 and fp.protocol == "TCP" and not fp.tls
    assert fp.header == {"V": "7.93", "I": "7", "D": "12/1", "Time": "674BA7C0",
                         "P": "x86_64-pc-linux-gnu"}
    (reply,) = fp.replies
    assert (reply.probe, reply.data, reply.declared, reply.truncated) == \
        ("GetRequest", data, len(data), False)


def test_nul_before_a_digit_and_named_escapes() -> None:
    assert escape(b"\x001\x00a\r\n\t ") == "\\x001\\0a\\r\\n\\t\\x20"
    text = 'SF-Port1-TCP:V=7.93%r(NULL,7,"\\x001\\0a\\r\\n\\.");'
    assert servicefp.parse(text).replies[0].data == b"\x001\x00a\r\n."


def test_wrapped_lines_equal_the_xml_form() -> None:
    text = fingerprint(554, [("RTSPRequest", DAHUA_RTSP), ("NULL", HIK_TELNET)], tls=True)
    assert "\\x" in text
    assert servicefp.parse(wrapped(text)) == servicefp.parse(text)
    assert servicefp.parse(wrapped(text, 3)).tls
    # CRLF line ends, or an XML attribute whose line breaks were normalised to spaces.
    assert servicefp.parse(wrapped(text).replace("\n", "\r\n")) == servicefp.parse(text)
    assert servicefp.parse(wrapped(text).replace("\n", " ")) == servicefp.parse(text)


def test_truncated_reply_is_kept_and_marked() -> None:
    data = b"HTTP/1.0 200 OK\r\nServer: Example\r\n\r\n" + b"A" * 2000
    fp = servicefp.parse(fingerprint(8080, [("GetRequest", data)], keep=900))
    (reply,) = fp.replies
    assert len(reply.data) == 900 and reply.declared == len(data) and reply.truncated
    ((probe, fields, _),) = servicefp.readings(fp, 8080)
    assert probe == "http" and fields["server"] == "Example"
    assert fields["error"] == f"nmap kept the first 900 of {len(data)} bytes"


@pytest.mark.parametrize(("text", "offset"), [
    ("", 0),
    ("SF-Port99999-TCP:V=1;", 7),
    ("SF-Port80-TCP:V=7.93%r(GetRequest,2,\"abc\");", 20),  # more decoded than declared
    ("SF-Port80-TCP:V=7.93%r(GetRequest,2,\"a\\qb\");", 38),  # unknown escape
    ("SF-Port80-TCP:V=7.93%r(GetRequest,2,\"a b\");", 38),  # unescaped space
    ("SF-Port80-TCP:V=7.93%r(GetRequest,2,\"a\\x4\");", 38),  # short hex escape
    ("SF-Port80-TCP:V=7.93%r(GetRequest,2,\"ab", 39),  # cut short
    ("SF-Port80-TCP:V=7.93%r(GetRequest,2,\"ab\")x", 41),
    ("SF-Port80-TCP:V=7.93%r(GetRequest,0,\"\");", 37),
    ("SF-Port80-TCP:V=7.93%bad%r(GetRequest,1,\"a\");", 21),
])
def test_malformed_is_a_parse_error_with_offset(text: str, offset: int) -> None:
    with pytest.raises(ParseError) as err:
        servicefp.parse(text)
    assert err.value.offset == offset, err.value


def test_caps() -> None:
    many = fingerprint(80, [("NULL", b"x")] * (servicefp.MAX_REPLIES + 1))
    with pytest.raises(ParseError, match="more than"):
        servicefp.parse(many)
    with pytest.raises(ParseError, match="longer than"):
        servicefp.parse("SF-Port80-TCP:" + "V" * servicefp.MAX_TEXT)


def test_replies_go_through_the_probe_parsers() -> None:
    fp = servicefp.parse(fingerprint(554, [
        ("NULL", HIK_TELNET), ("GenericLines", b"ignored: the NULL probe has the banner\r\n"),
        ("GetRequest", HIK_HTTP), ("HTTPOptions", HIK_HTTP), ("RTSPRequest", DAHUA_RTSP),
        ("SIPOptions", b"SIP/2.0 200 OK\r\nCSeq: 42 OPTIONS\r\n\r\n")]))
    got = {(probe, r.probe): fields for probe, fields, r in servicefp.readings(fp, 554)}
    assert set(got) == {("banner", "NULL"), ("http", "GetRequest"), ("rtsp", "RTSPRequest")}
    assert got[("banner", "NULL")] == {"service": "telnet", "banner": "192.0.0.64 login:"}
    http = got[("http", "GetRequest")]
    assert {k: http[k] for k in ("path", "tls", "status", "server", "realm", "auth_scheme",
                                 "title")} == {
        "path": "/", "tls": False, "status": 401, "server": "App-webs/",
        "realm": "Example Realm", "auth_scheme": "Digest", "title": "Example"}
    assert got[("rtsp", "RTSPRequest")] == {
        "method": "OPTIONS", "path": "/", "status": 200, "server": "Dahua Rtsp Server",
        "public": ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "TEARDOWN"],
        "content_type": "application/sdp", "sdp_origin": "- 1 1 IN IP4 0.0.0.0",
        "sdp_session": "Example Session"}


def test_generic_lines_banner_only_without_null_reply() -> None:
    fp = servicefp.parse(fingerprint(2323, [("GenericLines", b"220 Example FTP ready\r\n")]))
    ((probe, fields, _),) = servicefp.readings(fp, 2323)
    assert (probe, fields["service"]) == ("banner", "ftp")
    sip = servicefp.parse(fingerprint(5060, [("GenericLines", b"SIP/2.0 400 Bad\r\n\r\n")]))
    assert servicefp.readings(sip, 5060) == []


def test_ssdp_reply_over_udp_is_upnp() -> None:
    reply = (b"HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nUSN: uuid:example::upnp:rootdevice\r\n"
             b"SERVER: Linux/3.0 UPnP/1.0 Example/1.0\r\nLOCATION: http://127.0.0.1/d.xml\r\n\r\n")
    fp = servicefp.parse(fingerprint(1900, [("UPnP", reply)], proto="UDP"))
    ((probe, fields, _),) = servicefp.readings(fp, 1900, udp=True)
    assert probe == "upnp" and fields["st"] == "upnp:rootdevice"


def _xml(servicefps: dict[int, str]) -> bytes:
    ports = "".join(
        f'<port protocol="tcp" portid="{port}"><state state="open"/>'
        f'<service name="unknown" method="probed" conf="10" servicefp={quoteattr(text)}/></port>'
        for port, text in servicefps.items())
    return (f'<?xml version="1.0"?><nmaprun><host starttime="1764547200" endtime="1764547300">'
            f'<status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/><ports>{ports}'
            f"</ports></host></nmaprun>").encode()


def test_nmap_xml_servicefp_becomes_observations_and_a_device() -> None:
    data = _xml({80: fingerprint(80, [("GetRequest", HIK_HTTP)]),
                 554: fingerprint(554, [("RTSPRequest", DAHUA_RTSP)]),
                 23: wrapped(fingerprint(23, [("NULL", HIK_TELNET)])),  # quoteattr: &#10;
                 81: "SF-Port81-TCP:V=7.93%r(broken"})
    obs = [r for r in nmapxml.parse_nmap_xml(io.BytesIO(data), "x.xml")
           if isinstance(r, Observation)]
    read = {(o.probe, o.port): o for o in obs if o.probe != "nmap"}
    assert set(read) == {("http", 80), ("rtsp", 554), ("banner", 23)}
    for o in read.values():
        assert o.source == "passive" and o.raw in (HIK_HTTP, DAHUA_RTSP, HIK_TELNET)
        assert o.raw_size == len(o.raw)
    assert read[("banner", 23)].fields["banner"] == "192.0.0.64 login:"
    assert len([o for o in obs if o.probe == "nmap"]) == 4  # the broken one stays as nmap only
    device = identify("127.0.0.1", obs)
    assert device.manufacturer is not None
    rules = {e.rule for e in device.evidence}
    assert {"hik-http-server-app-webs", "dahua-rtsp-server", "hik-telnet-login"} <= rules


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z0-9_-]{1,24}", fullmatch=True),
                          st.binary(min_size=1, max_size=1200)), max_size=6),
       st.booleans())
def test_any_replies_round_trip(replies: list[tuple[str, bytes]], wrap: bool) -> None:
    text = fingerprint(8000, replies)
    fp = servicefp.parse(wrapped(text) if wrap else text)
    assert [(r.probe, r.data, r.declared) for r in fp.replies] == \
        [(name, data[:900], len(data)) for name, data in replies]
    for _, _, reply in servicefp.readings(fp, 8000):
        assert reply in fp.replies


def _read(text: str) -> None:
    try:
        fp = servicefp.parse(text)
    except ParseError:
        return
    servicefp.readings(fp, 80, udp=True)
    servicefp.readings(fp, 80)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=600))
def test_garbage_never_crashes(text: str) -> None:
    _read(text)
    _read("SF-Port80-TCP:V=7.93%r(GetRequest,10," + text)


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.text(max_size=3), st.booleans())
def test_mutated_fingerprints_never_crash(at: int, insert: str, cut: bool) -> None:
    text = fingerprint(554, [("NULL", HIK_TELNET), ("GetRequest", HIK_HTTP),
                             ("RTSPRequest", DAHUA_RTSP)])
    at = at % len(text)
    _read(text[:at] if cut else text[:at] + insert + text[at + 1:])


def test_identical_replies_read_once_as_the_native_probes_answer() -> None:
    fp = servicefp.parse(fingerprint(554, [("GetRequest", DAHUA_RTSP),
                                           ("RTSPRequest", DAHUA_RTSP),
                                           ("HTTPOptions", HIK_HTTP), ("GetRequest", HIK_HTTP)]))
    got = [(probe, r.probe, fields.get("method"), fields.get("path"))
           for probe, fields, r in servicefp.readings(fp, 554)]
    assert got == [("rtsp", "RTSPRequest", "OPTIONS", "/"), ("http", "GetRequest", None, "/")]
