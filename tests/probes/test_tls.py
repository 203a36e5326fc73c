"""TLS certificate parsing (sans-IO) and the HTTP probe on real TLS listeners on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import HOST, Seen, http_handler, make_net, silent, tcp_server

from camaudit.errors import ParseError
from camaudit.model import Observation
from camaudit.netio import NetError
from camaudit.probes import http, tls

NOT_BEFORE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2034, 1, 1, tzinfo=dt.UTC)


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])


def make_cert(subject: x509.Name, key: ec.EllipticCurvePrivateKey, *,
              issuer: x509.Name | None = None, signer: ec.EllipticCurvePrivateKey | None = None,
              serial: int = 0x1234ABCD, san: bool = True) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer or subject)
               .public_key(key.public_key()).serial_number(serial)
               .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName("camera.example"),
            x509.IPAddress(ipaddress.ip_address("192.0.2.10"))]), critical=False)
    return builder.sign(signer or key, hashes.SHA256())


KEY = ec.generate_private_key(ec.SECP256R1())
SELF_SIGNED = make_cert(_name("IPC", "Example Camera Maker"), KEY)
CA_KEY = ec.generate_private_key(ec.SECP256R1())
ISSUED = make_cert(_name("nvr.example", "Example"), KEY, issuer=_name("Example CA", "Example"),
                   signer=CA_KEY, san=False)
FORGED = make_cert(_name("IPC", "Example Camera Maker"), KEY, signer=CA_KEY)  # names agree


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def test_self_signed_certificate_fields() -> None:
    fields = tls.parse_certificate(der(SELF_SIGNED))
    assert fields["subject"] == "O=Example Camera Maker,CN=IPC"
    assert fields["issuer"] == fields["subject"]
    assert fields["san"] == ["camera.example", "192.0.2.10"]
    assert fields["serial"] == "1234abcd"
    assert fields["not_before"] == "2024-01-01T00:00:00+00:00"
    assert fields["not_after"] == "2034-01-01T00:00:00+00:00"
    assert fields["self_signed"] is True
    assert fields["fingerprint_sha256"] == SELF_SIGNED.fingerprint(hashes.SHA256()).hex()


def test_issued_and_forged_certificates_are_not_self_signed() -> None:
    fields = tls.parse_certificate(der(ISSUED))
    assert fields["self_signed"] is False and fields["san"] == []
    assert fields["issuer"] == "O=Example,CN=Example CA"
    assert tls.parse_certificate(der(FORGED))["self_signed"] is False


@pytest.mark.parametrize("bad", [b"", b"\x30\x03\x02\x01\x01", der(SELF_SIGNED)[:200],
                                 b"\x30" + b"\x82\xff\xff" + b"\x00" * 100, b"A" * 20_000])
def test_broken_der_raises_parse_error(bad: bytes) -> None:
    with pytest.raises(ParseError):
        tls.parse_certificate(bad)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_binary(data: bytes) -> None:
    try:
        fields = tls.parse_certificate(data)
    except ParseError:
        return
    assert isinstance(fields["fingerprint_sha256"], str)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 400), st.integers(0, 255))
def test_fuzz_bit_flips_in_a_real_certificate(pos: int, value: int) -> None:
    data = bytearray(der(SELF_SIGNED))
    data[pos % len(data)] = value
    try:
        fields = tls.parse_certificate(bytes(data))
    except ParseError:
        return
    assert "subject" in fields


# --- transport: the HTTP probe on TLS listeners ------------------------------------------

@pytest.fixture(scope="module")
def server_tls(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    folder: Path = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(SELF_SIGNED.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return ctx


def page(request: bytes) -> bytes:
    body = b"<html><head><title>Web Service</title></head></html>"
    if b"GET / " not in request:
        body = b"not found"
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body), body))


def by_probe(observations: list[Observation], probe: str) -> list[Observation]:
    return [o for o in observations if o.probe == probe]


def test_https_port_records_certificate_once_and_pages(server_tls: ssl.SSLContext) -> None:
    async def scenario() -> list[Observation]:
        async with tcp_server(http_handler(page), ssl=server_tls) as port:
            net = make_net()
            return await http.run(net, HOST, port)  # not a TLS_PORT: detected by retry

    observations = asyncio.run(scenario())
    (cert,) = by_probe(observations, "tls")
    assert cert.fields["subject"] == "O=Example Camera Maker,CN=IPC"
    assert cert.raw == der(SELF_SIGNED)
    pages = by_probe(observations, "http")
    root = [o for o in pages if o.fields["path"] == "/" and o.fields["tls"]]
    assert root and root[0].fields["title"] == "Web Service"
    assert {o.fields["path"] for o in pages if o.fields["tls"]} >= {"/favicon.ico",
                                                                   "/RPC2_Login"}


def test_tls_first_on_443_style_port(server_tls: ssl.SSLContext,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> list[Observation]:
        seen = Seen()
        async with tcp_server(http_handler(page, seen), ssl=server_tls) as port:
            monkeypatch.setattr(http, "TLS_PORTS", frozenset({port}))
            result = await http.run(make_net(), HOST, port)
        assert all(r.startswith(b"GET / ") or b" /" in r for r in seen.requests)
        return result

    observations = asyncio.run(scenario())
    assert all(o.fields["tls"] for o in by_probe(observations, "http"))
    assert len(by_probe(observations, "tls")) == 1


def test_plain_http_on_a_tls_port_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> list[Observation]:
        async with tcp_server(http_handler(page)) as port:
            monkeypatch.setattr(http, "TLS_PORTS", frozenset({port}))
            return await http.run(make_net(), HOST, port)

    observations = asyncio.run(scenario())
    assert not by_probe(observations, "tls")
    root = by_probe(observations, "http")[0]
    assert root.fields["path"] == "/" and root.fields["tls"] is False
    assert root.fields["status"] == 200


def test_handshake_that_never_completes_costs_bounded_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> tuple[object, float]:
        async with tcp_server(silent) as port:
            monkeypatch.setattr(http, "TLS_PORTS", frozenset({port}))
            loop = asyncio.get_running_loop()
            started = loop.time()
            try:
                outcome: object = await http.run(make_net(read_timeout=0.3), HOST, port)
            except NetError as exc:
                outcome = type(exc).__name__
            return outcome, loop.time() - started

    outcome, elapsed = asyncio.run(scenario())
    # TLS handshake times out (connect timeout), the plain retry hears nothing either.
    assert outcome == [] and elapsed < 2.0


def test_handshake_garbage_yields_no_exception_but_net_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(b"\x16\x03\x01\x00\x05hello-not-tls" * 10)
        await writer.drain()

    async def scenario() -> list[Observation] | str:
        async with tcp_server(garbage) as port:
            monkeypatch.setattr(http, "TLS_PORTS", frozenset({port}))
            try:
                return await http.run(make_net(read_timeout=0.3), HOST, port)
            except NetError as exc:
                return type(exc).__name__

    result = asyncio.run(scenario())
    if isinstance(result, str):
        assert result in ("Refused", "TimedOut")
    else:  # fell back to plain text: garbage recorded as evidence, nothing parsed
        assert not by_probe(result, "tls")
        assert all("status" not in o.fields and o.fields.get("error")
                   for o in by_probe(result, "http"))
