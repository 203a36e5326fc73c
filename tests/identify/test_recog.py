"""rapid7/recog: every example of the vendored copy, as recog means it and through our parsers.

1. recog's semantics: every ``<example>`` of every database matches its fingerprint and
   gives the params its attributes name (what recog's own verifier checks).
2. Through camaudit: for each database camaudit reads, each example is put on the wire
   the way a device sends it (an HTTP header or title, an RTSP Server header, an FTP/telnet/
   SSH greeting, a certificate subject or issuer, a DHCP option 60, an mDNS TXT record),
   parsed by the same parser the probes and ingest use, and matched by the full rule
   set: the fingerprint's rule must fire on that observation.
3. The Ruby -> Python regex translation, the mapping onto device fields, and fuzzing.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import re
import struct
from collections.abc import Callable
from pathlib import Path

import dpkt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.errors import ConfigError
from camaudit.identify import identify, recog
from camaudit.identify.match import match_observation
from camaudit.identify.recog_rules import load_databases, load_map, recog_rules
from camaudit.identify.rules import fold, load_rules, required_literals
from camaudit.ingest.pcap import dhcp_records, mdns_records
from camaudit.ingest.records import ByMac
from camaudit.model import Observation
from camaudit.probes import banner, http, rtsp, tls

DATABASES = load_databases(recog.VENDORED)
RMAP = load_map()
RULES = {r.id: r for r in recog_rules()}
RULESET = load_rules()
A = "198.51.100.9"


@pytest.mark.parametrize("db", DATABASES, ids=[d.name for d in DATABASES])
def test_every_recog_example_passes(db: recog.Database) -> None:
    problems = [p for fp in db.fingerprints for p in recog.verify(fp)]
    assert not problems, "\n".join(problems[:20])
    assert db.fingerprints


def test_every_database_is_read_or_says_why_not() -> None:
    names = {d.name for d in DATABASES}
    assert names == set(RMAP.databases) | set(RMAP.not_read)
    assert len(names) == 50 and sum(len(d.fingerprints) for d in DATABASES) > 4600


# --- 2. through the real parsers -----------------------------------------------------

_KEY = ec.generate_private_key(ec.SECP256R1())


def _http(header: str) -> Callable[[str], Observation | None]:
    def build(text: str) -> Observation | None:
        if re.search(r"[\r\n\0]", text) or text != text.strip():
            return None  # cannot be one header value on the wire
        raw = f"HTTP/1.1 401 Unauthorized\r\n{header}: {text}\r\nContent-Length: 0\r\n\r\n"
        return Observation(A, 80, "http", http.parse_http(raw.encode("utf-8")))
    return build


def _title(text: str) -> Observation | None:
    if "<" in text or text != text.strip() or re.search(r"\s{2}|[\r\n\t]", text):
        return None  # our title reader trims and the HTML would not carry it as is
    body = f"<html><head><title>{text}</title></head><body></body></html>".encode()
    raw = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body)) + body
    return Observation(A, 80, "http", http.parse_http(raw))


def _rtsp(text: str) -> Observation | None:
    if re.search(r"[\r\n\0]", text) or text != text.strip():
        return None
    raw = f"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: {text}\r\n\r\n".encode()
    return Observation(A, 554, "rtsp", rtsp.parse_response(raw))


def _greeting(prefix: str, port: int) -> Callable[[str], Observation | None]:
    def build(text: str) -> Observation | None:
        data = (prefix + text + ("\r\n" if prefix else "")).encode("utf-8")
        try:
            fields = banner.parse_banner(data, port)
        except Exception:
            return None
        return Observation(A, port, "banner", fields, raw=data)
    return build


def _certificate(attribute: str) -> Callable[[str], Observation | None]:
    def build(text: str) -> Observation | None:
        # '#hex' values and multi-valued RDNs cannot be rebuilt as the device had them
        # (cryptography sorts a SET OF as DER wants and reads '#..' as text)
        if "#" in text or re.search(r"(?<!\\)\+", text):
            return None
        try:
            name = x509.Name.from_rfc4514_string(text)
        except ValueError:
            return None  # an attribute name cryptography does not know
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        other = x509.Name.from_rfc4514_string("CN=device")
        builder = (x509.CertificateBuilder()
                   .subject_name(other if attribute == "issuer" else name).issuer_name(name)
                   .public_key(_KEY.public_key()).serial_number(1).not_valid_before(now)
                   .not_valid_after(now + dt.timedelta(days=1)))
        der = builder.sign(_KEY, hashes.SHA256()).public_bytes(Encoding.DER)
        return Observation(A, 443, "tls", tls.parse_certificate(der), raw=der)
    return build


def _dhcp(text: str) -> Observation | None:
    msg = dpkt.dhcp.DHCP(op=dpkt.dhcp.DHCP_OP_REQUEST, chaddr=b"\x00\x00\x5e\x00\x53\x01",
                         opts=((53, b"\x01"), (60, text.encode("utf-8"))))
    records = dhcp_records(bytes(msg), 0.0)
    return next((r.observation for r in records if isinstance(r, ByMac)), None)


def _mdns(text: str) -> Observation | None:
    rr = dpkt.dns.DNS.RR(name="cam._device-info._tcp.local", type=dpkt.dns.DNS_TXT,
                         cls=dpkt.dns.DNS_IN)
    rr.text = [text.encode("utf-8")[:255]]
    data = text.encode("utf-8")[:255]
    rr.rdata = struct.pack("B", len(data)) + data
    msg = dpkt.dns.DNS(qr=dpkt.dns.DNS_R, an=[rr])
    found = mdns_records(A, bytes(msg), 0.0)
    return found[0] if found else None


def _favicon(text: str) -> Observation | None:
    # The probe hashes the icon bytes; recog's examples are the hashes themselves.
    return Observation(A, 80, "http", {"path": "/favicon.ico", "favicon_md5": text})


WIRE: dict[str, Callable[[str], Observation | None]] = {
    "http_servers": _http("Server"), "html_title": _title,
    "http_wwwauth": _http("WWW-Authenticate"), "http_cookies": _http("Set-Cookie"),
    "http_xpoweredby": _http("X-Powered-By"), "favicons": _favicon, "rtsp_servers": _rtsp,
    "ftp_banners": _greeting("220 ", 21), "telnet_banners": _greeting("", 23),
    "ssh_banners": _greeting("SSH-2.0-", 22), "x509_subjects": _certificate("subject"),
    "x509_issuers": _certificate("issuer"), "dhcp_vendor_class": _dhcp,
    "mdns_device-info_txt": _mdns,
}
READ = [d for d in DATABASES if d.name in RMAP.databases]


def test_every_read_database_has_a_wire_form() -> None:
    assert set(WIRE) == set(RMAP.databases)


@pytest.mark.parametrize("db", READ, ids=[d.name for d in READ])
def test_examples_through_camaudit_parsers_fire_their_rule(db: recog.Database) -> None:
    tried = fired = 0
    missed: list[str] = []
    for fp in db.fingerprints:
        if fp.id not in RULES:
            continue  # says nothing about a device (a service or OS only)
        for example in fp.examples:
            obs = WIRE[db.name](example.text)
            if obs is None:
                continue
            tried += 1
            if fp.id in {h.rule.id for h in match_observation(RULESET, obs)}:
                fired += 1
            else:
                missed.append(f"{fp.id} ({fp.description}): {example.text[:60]!r} -> "
                              f"{obs.fields}")
    # Some examples cannot be sent as is (a title with tags, a banner the parser tidies);
    # every one that can must fire. The count guards against a wire form that sends nothing.
    assert not missed, "\n".join(missed[:20])
    rules = sum(1 for fp in db.fingerprints if fp.id in RULES)
    assert rules == 0 or tried >= 0.6 * rules, (tried, rules)
    assert fired == tried


# --- 3. translation, mapping, fuzzing -------------------------------------------------

@pytest.mark.parametrize(("ruby", "subject", "hit"), [
    ("(?m)^a.b$", "a\nb", True),  # Ruby m = dot matches newline
    ("^x$", "first\nx\nlast", True),  # Ruby ^ $ are line anchors
    ("^(?i)cisco phone$", "CISCO PHONE", True),  # a global option after an anchor
    ("a(?i)b|c", "aB", True),
    ("a(?i)b|c", "aC", True),  # Onigmo: the option takes the rest, alternatives too
    ("a(?i)b|c", "C", False),
    ("(x(?i)y)z", "xYz", True),
    ("(x(?i)y)z", "xYZ", False),
    (r"^\h+$", "00aF", True),
    (r"^\h+$", "xyz", False),
    (r"^[\h:]+$", "aa:bb", True),
    (r"end\z", "the end", True),
    (r"end\z", "the end\n", False),
    (r"end\Z", "the end\n", True),
    ("^(?<word>\\w+) (\\d)$", "cam 7", True),
    ("^[[:digit:]]+$", "123", True),
    ("^[]a]$", "]", True),
    ("(?m:a.b)", "a\nb", True),
])
def test_ruby_regex_translation(ruby: str, subject: str, hit: bool) -> None:
    assert (recog.compile_pattern(ruby).search(subject) is not None) is hit


def test_named_group_and_interpolation() -> None:
    db = recog.parse_database(b"""<?xml version='1.0'?>
<fingerprints matches="x">
  <fingerprint pattern="^(?&lt;maker&gt;\\w+) Cam (\\S+)$">
    <description>example</description>
    <example hw.product="Z-9" os.product="Z-9 Firmware">Acme Cam Z-9</example>
    <param pos="2" name="hw.product"/>
    <param pos="0" name="os.product" value="{hw.product} Firmware"/>
    <param pos="0" name="os.cpe23" value="cpe:/o:acme:fw:{os.version}"/>
    <param pos="0" name="_tmp.x" value="hidden"/>
  </fingerprint>
</fingerprints>""", "x")
    fp = db.fingerprints[0]
    assert recog.verify(fp) == []
    got = fp.match("Acme Cam Z-9")
    assert got == {"hw.product": "Z-9", "os.product": "Z-9 Firmware",
                   "os.cpe23": "cpe:/o:acme:fw:-"}


@pytest.mark.parametrize(("text", "words"), [
    (b"not xml", "not valid XML"),
    (b"<other/>", "not a recog database"),
    (b'<!DOCTYPE fingerprints [<!ENTITY a "aa">]><fingerprints/>', "not a recog database"),
    (b'<fingerprints><fingerprint pattern="(("><description>x</description>'
     b"</fingerprint></fingerprints>", "cannot be read as a regex"),
    (b'<fingerprints><fingerprint pattern="a"><description>x</description>'
     b'<param pos="3" name="hw.product"/></fingerprint></fingerprints>', "uses group 3"),
    (b'<fingerprints><fingerprint pattern="a"><description>x</description>'
     b'<example _encoding="base64">@@@</example></fingerprint></fingerprints>', "base64"),
])
def test_bad_database_is_one_clear_error(text: bytes, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        recog.parse_database(text, "bad")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_database_reader(data: bytes) -> None:
    with contextlib.suppress(ConfigError):
        recog.parse_database(data, "fuzz")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_fuzz_translation_gives_python_or_re_error(pattern: str) -> None:
    with contextlib.suppress(re.error, RecursionError, OverflowError):
        recog.compile_pattern(pattern)


def _device(db: str, text: str) -> tuple[str | None, str | None, str | None]:
    obs = WIRE[db](text)
    assert obs is not None
    device = identify(A, [obs])
    return device.device_type, device.brand, device.manufacturer


def test_mapping_onto_device_fields() -> None:
    # recog labels the Hikvision server a DVR, but cameras send it too: gear, role unknown.
    assert _device("http_servers", "Hikvision-Webs") == ("surveillance", "Hikvision", "Hikvision")
    # the device's own words name the role
    assert _device("html_title", "Sony Network Camera")[0] == "camera"
    assert _device("html_title", "Sony Network Camera")[2] == "Sony"
    # an OEM brand is a brand; its maker only hinted
    assert _device("http_servers", "MWS 0.01")[1:] == ("Annke", None)
    # decoys are other, with their maker
    printer = identify(A, [_certificate("subject")(
        "CN=HP Jetdirect 2B9C2D,OU=00 18 71 2b 9c 2d,O=Hewlett-Packard Co.")])  # type: ignore[list-item]
    assert printer.device_type in ("other", None)
    # a TV recorder is not surveillance (recog_map.yaml correction)
    assert _device("http_servers", "tivo-httpd-1:20.7.4b")[0] == "other"


def test_recog_hit_is_explained_with_its_source() -> None:
    device = identify(A, [WIRE["rtsp_servers"]("Dahua Rtsp Server")])  # type: ignore[list-item]
    rules = {e.rule: e for e in device.evidence}
    recog_hits = [e for r, e in rules.items() if r.startswith("recog:rtsp_servers:")]
    assert recog_hits and all("rapid7/recog@14fa1a7211e7" in e.source for e in recog_hits)
    assert all("Dahua IP Camera" in e.source for e in recog_hits)


# --- the prefilter never drops a match ---------------------------------------------

def _values_for(rule_id: str) -> list[str]:
    fp = next((f for d in DATABASES for f in d.fingerprints if f.id == rule_id), None)
    return [e.text for e in fp.examples] if fp else []


def test_required_literals_are_in_every_example_match() -> None:
    checked = 0
    for rule in RULESET.rules:
        literals = required_literals(rule.regex)
        if literals is None:
            continue
        values = _values_for(rule.id) + [
            e.value for e in rule.examples if isinstance(e.value, str)]
        for value in values:
            if rule.regex.search(value):
                checked += 1
                assert any(lit in fold(value) for lit in literals), (rule.id, literals, value)
    assert checked > 1000


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([r for r in RULESET.rules if required_literals(r.regex)]),
       st.text(max_size=30), st.text(max_size=30))
def test_prefilter_property(rule: object, before: str, after: str) -> None:
    from camaudit.identify.rules import Rule

    assert isinstance(rule, Rule)
    literals = required_literals(rule.regex)
    assert literals is not None
    for core in [*_values_for(rule.id)[:2], *literals, *(lit.upper() for lit in literals)]:
        value = before + core + after
        if rule.regex.search(value):
            assert any(lit in fold(value) for lit in literals)


def test_alternation_gives_one_literal_per_branch() -> None:
    import re as _re

    assert required_literals(_re.compile("Hikvision Digital|海康威视数字")) == (
        "hikvision digital", "海康威视数字")
    assert required_literals(_re.compile("(?i)^AXIS (?:abc|d)")) == ("axis ",)
    assert required_literals(_re.compile("ab|cd")) is None


def test_base64_and_file_examples(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "long.txt").write_text("Acme Cam Z-9")
    encoded = base64.b64encode(b"Acme Cam Z-9").decode()
    (tmp_path / "db.xml").write_text(f"""<fingerprints matches="db">
  <fingerprint pattern="^Acme Cam (\\S+)$"><description>d</description>
    <example hw.product="Z-9" _encoding="base64">{encoded}</example>
    <example hw.product="Z-9" _filename="long.txt"/>
    <param pos="1" name="hw.product"/></fingerprint></fingerprints>""")
    fp = recog.load_database(tmp_path / "db.xml").fingerprints[0]
    assert recog.verify(fp) == [] and len(fp.examples) == 2
    (tmp_path / "bad.xml").write_text("""<fingerprints><fingerprint pattern="a">
      <description>d</description><example _filename="../../etc/passwd"/></fingerprint>
      </fingerprints>""")
    with pytest.raises(ConfigError, match="outside"):
        recog.load_database(tmp_path / "bad.xml")

