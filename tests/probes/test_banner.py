"""FTP/Telnet banner probe: RFC 959/854 shapes, IAC stripping, fuzzing, listen-only transport."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import HOST, make_net, tcp_server

from camaudit.errors import ParseError
from camaudit.probes import banner

IAC, DO, WILL, SB, SE = 255, 253, 251, 250, 240


def test_ftp_multiline_greeting() -> None:
    fields = banner.parse_banner(b"220-Welcome\r\n220 FTP server ready.\r\n", 21)
    assert fields == {"service": "ftp", "banner": "220-Welcome\r\n220 FTP server ready."}


def test_telnet_negotiation_is_stripped() -> None:
    data = bytes([IAC, DO, 1, IAC, WILL, 3, IAC, SB, 24, 1, IAC, SE]) + b"\r\nlogin: "
    fields = banner.parse_banner(data, 23)
    assert fields == {"service": "telnet", "banner": "login:"}


def test_telnet_negotiation_only() -> None:
    assert banner.parse_banner(bytes([IAC, DO, 1]), 2323) == {"service": "telnet", "banner": ""}


def test_ssh_and_other() -> None:
    assert banner.parse_banner(b"SSH-2.0-dropbear\r\n", 23)["service"] == "ssh"
    assert banner.parse_banner(b"hello\n", 2121)["service"] == "other"


# nmap-service-probes 'match digifort' (port 8600; nmap 7.92 copy cyal1/nmap-7.92
# @dafc4cea5916d8ca3287b37476a36fed76d18080), with a nonce of 32 upper-case hex digits.
DIGIFORT = (b"\xd1Q\xf0'\0\0\0;\x01\x05LOGIN\0\0\0\x30\x01\x01\0\0\0\x05NONCE\x08 \0\0\0"
            + b"0123456789ABCDEF0123456789ABCDEF")


def test_digifort_greeting() -> None:
    fields = banner.parse_banner(DIGIFORT, 8600)
    assert fields["service"] == "digifort"
    tail = "LOGIN   0      NONCE     0123456789ABCDEF0123456789ABCDEF"
    assert str(fields["banner"]).endswith(tail)
    assert 8600 in banner.PROBE.ports


def test_iac_iac_is_a_literal_byte() -> None:
    text, seen = banner.strip_telnet(b"a" + bytes([IAC, IAC]) + b"b")
    assert (text, seen) == (b"a\xffb", True)


@pytest.mark.parametrize("data", [b"", b"\x00\x01\x02"])
def test_nothing_readable(data: bytes) -> None:
    with pytest.raises(ParseError):
        banner.parse_banner(data, 21)


def test_ftp_done() -> None:
    assert not banner.ftp_done(b"220-first\r\n")
    assert banner.ftp_done(b"220-first\r\n220 last\r\n")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.sampled_from([21, 23, 2121, 8600]))
def test_fuzz(data: bytes, port: int) -> None:
    try:
        fields = banner.parse_banner(data, port)
    except ParseError:
        return
    assert fields["service"] in ("ftp", "telnet", "ssh", "digifort", "other")
    assert len(str(fields["banner"])) <= banner.MAX_TEXT


def test_run_listens_and_sends_nothing() -> None:
    received: list[bytes] = []

    async def ftp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 DVR FTP ready\r\n")
        await writer.drain()
        received.append(await reader.read())

    async def scenario() -> list:
        async with tcp_server(ftp) as port:
            out = await banner.run(make_net(read_timeout=2.0), HOST, port)
            for _ in range(100):
                if received:
                    break
                await asyncio.sleep(0.01)
            return out

    obs = asyncio.run(scenario())
    assert obs[0].fields == {"service": "ftp", "banner": "220 DVR FTP ready"}
    assert received == [b""]  # the client closed without writing a byte
