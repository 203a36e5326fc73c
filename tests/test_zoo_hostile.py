"""Hostile personas misbehave as described, within bounded waits."""

from __future__ import annotations

import socket
import ssl
import time

import pytest

from camaudit.zoo import ZooProcess


def addr(zoo: ZooProcess, persona: str) -> str:
    found = zoo.by_persona(persona)
    assert found, persona
    return str(found[0]["address"])


def test_blackhole_accepts_and_never_answers(zoo: ZooProcess) -> None:
    with socket.create_connection((addr(zoo, "hostile-blackhole"), 80), timeout=3) as s:
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        s.settimeout(1.0)
        with pytest.raises(TimeoutError):
            s.recv(1)


def test_drip_sends_one_byte_per_second(zoo: ZooProcess) -> None:
    with socket.create_connection((addr(zoo, "hostile-drip"), 554), timeout=3) as s:
        start = time.monotonic()
        got = b""
        while len(got) < 3:
            got += s.recv(10)
        elapsed = time.monotonic() - start
    assert got == b"HTT" and 1.7 < elapsed < 3.5


def test_endless_body_never_ends(zoo: ZooProcess) -> None:
    with socket.create_connection((addr(zoo, "hostile-endless"), 80), timeout=3) as s:
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        total = 0
        while total < 4 * 1024 * 1024:
            chunk = s.recv(65536)
            assert chunk, "the endless body ended"
            total += len(chunk)
    assert total >= 4 * 1024 * 1024


def test_huge_content_length_then_silence(zoo: ZooProcess) -> None:
    with socket.create_connection((addr(zoo, "hostile-huge-length"), 8080), timeout=3) as s:
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        head = s.recv(4096)
        s.settimeout(1.0)
        with pytest.raises(TimeoutError):
            while True:
                if not s.recv(4096):
                    break
    assert b"Content-Length: 1073741824\r\n" in head


def test_malformed_status_line_and_headers(zoo: ZooProcess) -> None:
    with socket.create_connection((addr(zoo, "hostile-malformed"), 80), timeout=3) as s:
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        reply = s.recv(4096)
    status = reply.split(b"\r\n")[0]
    assert not status[9:12].isdigit()
    assert b"Content-Length: -12" in reply and b"\x00" in reply


def test_garbage_on_every_port(zoo: ZooProcess) -> None:
    for port in (80, 443, 554, 8000):
        with socket.create_connection((addr(zoo, "hostile-garbage"), port), timeout=3) as s:
            data = s.recv(512)
        assert len(data) > 0
        assert not data.startswith((b"HTTP/", b"RTSP/", b"\x16\x03"))


def test_tls_fails_mid_handshake(zoo: ZooProcess) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    start = time.monotonic()
    with socket.create_connection((addr(zoo, "hostile-tls-abort"), 443), timeout=3) as raw, \
            pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        ctx.wrap_socket(raw)
    assert time.monotonic() - start < 3


def test_xml_bomb_and_external_entities(zoo: ZooProcess) -> None:
    a = addr(zoo, "hostile-xml-bomb")
    body = b"<s:Envelope><s:Body><GetDeviceInformation/></s:Body></s:Envelope>"
    with socket.create_connection((a, 80), timeout=3) as s:
        s.sendall(b"POST /onvif/device_service HTTP/1.1\r\nConnection: close\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body)
        reply = s.makefile("rb").read()
    assert b"<!ENTITY lol9" in reply and b"&lol9;" in reply
    with socket.create_connection((a, 80), timeout=3) as s:
        s.sendall(b"GET /description.xml HTTP/1.1\r\nConnection: close\r\n\r\n")
        xxe = s.makefile("rb").read()
    trap = zoo.manifest["out_of_scope"]["address"]
    assert b'SYSTEM "file:///etc/passwd"' in xxe and trap.encode() in xxe


def test_out_of_scope_redirect_xaddr_and_location(zoo: ZooProcess) -> None:
    a = addr(zoo, "hostile-out-of-scope")
    trap = zoo.manifest["out_of_scope"]["address"]
    with socket.create_connection((a, 80), timeout=3) as s:
        s.sendall(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        reply = s.makefile("rb").read()
    assert reply.startswith(b"HTTP/1.1 302")
    assert f"Location: http://{trap}/".encode() in reply
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(3)
        u.sendto(b"<Envelope><Body><Probe/></Body></Envelope>", (a, 3702))
        wsd = u.recvfrom(65536)[0]
        u.sendto(b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n'
                 b"MX: 1\r\nST: ssdp:all\r\n\r\n", (a, 1900))
        ssdp = u.recvfrom(65536)[0]
    assert f"<wsdd:XAddrs>http://{trap}/".encode() in wsd
    assert f"LOCATION: http://{trap}/".encode() in ssdp
    # the zoo listens on the trap address and counts; nothing in this test followed the links
    assert zoo.manifest["out_of_scope"]["listening"] is True


def test_title_with_script_and_terminal_escapes(zoo: ZooProcess) -> None:
    with socket.create_connection((addr(zoo, "hostile-escapes"), 80), timeout=3) as s:
        s.sendall(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        reply = s.makefile("rb").read()
    assert b"<title><script>" in reply and b"\x1b]8;;" in reply and b"\x1b[2J" in reply
    assert b"Server: \x1b[31m" in reply


def test_a_hostile_connection_does_not_block_others(zoo: ZooProcess) -> None:
    holders = [socket.create_connection((addr(zoo, "hostile-blackhole"), 80), timeout=3)
               for _ in range(20)]
    try:
        good = zoo.by_persona("nginx-default")[0]["address"]
        with socket.create_connection((good, 80), timeout=3) as s:
            s.sendall(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            assert s.makefile("rb").read().startswith(b"HTTP/1.1 200")
    finally:
        for h in holders:
            h.close()
