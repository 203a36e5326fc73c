"""The real-banners replay server answers as the held-out sample recorded (real sockets, loopback).

Only the replay is tested here, not the scores: benchmarks/realbanners.py measures those.
Ports are moved to free high ports so the test needs no privileges.
"""

from __future__ import annotations

import copy
import socket
import ssl
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import replay

SAMPLES = {s["id"]: s for s in replay.load_samples()}


def _free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def _moved(sample_id: str, index: int) -> tuple[replay.Replay, int]:
    """The sample, alone on 127.203.(index) with its one port moved to a free high port."""
    sample = copy.deepcopy(SAMPLES[sample_id])
    r = replay.plan([*([{}] * index), sample])[index]
    port = _free_port(r.address)
    old = next(iter(r.services))
    service = r.services.pop(old)
    service.port = port
    r.services[port] = service
    return r, port


def _exchange(address: str, port: int, request: bytes, tls: bool = False) -> tuple[bytes, Any]:
    sock = socket.create_connection((address, port), timeout=5)
    cert = None
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        sock = ctx.wrap_socket(sock)
        cert = x509.load_der_x509_certificate(sock.getpeercert(binary_form=True) or b"")
    with sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data, cert


def test_rtsp_sample_answers_options_with_its_server_and_cseq() -> None:
    r, port = _moved("wowza-streaming-engine-4-7-5", 10)
    with replay.ReplayServer([r]):
        data, _ = _exchange(r.address, port, b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 5\r\n\r\n")
    assert data.startswith(b"RTSP/1.0 200 OK\r\n")
    assert b"CSeq: 5\r\n" in data
    assert b"Server: Wowza Streaming Engine 4.7.5.01 build21752\r\n" in data


def test_http_sample_answers_its_status_and_realm_on_root() -> None:
    r, port = _moved("dsl-router-realm-http-stats", 11)
    with replay.ReplayServer([r]):
        data, _ = _exchange(r.address, port, b"GET / HTTP/1.0\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 401 Unauthorized\r\n")
    assert b'WWW-Authenticate: Basic realm="DSL Router"' in data


def test_tls_sample_presents_its_certificate_subject() -> None:
    r, port = _moved("qnap-qts-default-certificate", 12)
    with replay.ReplayServer([r]):
        _, cert = _exchange(r.address, port, b"", tls=True)
    assert cert.subject.rfc4514_string() == r"CN=QNAP NAS,OU=QTS,O=QNAP Systems\, Inc."


def test_udp_only_samples_are_counted_apart_and_addresses_stay_in_the_block() -> None:
    replays = replay.plan(SAMPLES.values())
    apart = {r.sample["id"] for r in replays if not r.replayable}
    assert "sonos-play1-ssdp-server" in apart
    assert all(replay.address_for(i) != replay.address_for(i + 1) for i in range(300))
    with pytest.raises(ValueError):
        replay.address_for(256 * 200)
