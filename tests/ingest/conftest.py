"""Shared helpers of the ingest tests: a small device lab on loopback, tcpdump, nmap.

The lab serves real device replies (shared/fixtures, origins below) on
127.77.9.0/24 — a corner of loopback that neither the zoo (127.42.0.0/16) nor
the probe tests (127.77.5.0/24) use:

- 127.77.9.1 "camera": HTTP 80 (a login page, ``/favicon.ico``, Hikvision ISAPI
  deviceInfo from maciej-or/hikvision_next ``tests/fixtures/ISAPI/System.deviceInfo/ipc.xml``
  at b1dc1b9477aba092602cca66f8a2d81e066210a3, a UPnP description), HTTPS 443 limited to
  TLS 1.2 so its certificate crosses the wire in the clear, RTSP 554 (OPTIONS/DESCRIBE per
  RFC 2326), the Hikvision SDK port 8000 (nmap's published 16-byte signature), UDP 3702
  (WS-Discovery ProbeMatches from agsh/onvif ``test/serverMockup/Probe.xml`` at
  15abffe60e1528230f60eb2bccea5684155b45e4) and UDP 1900 (an SSDP reply per UDA 1.1 §1.3.3).
- 127.77.9.2 "recorder": HTTP 80 with Dahua magicBox getSystemInfo from rroller/dahua
  ``custom_components/dahua/client.py`` at c2b8b41c98856af457721f2523bd6a2f37588b15, and
  DVRIP 37777 answering the first login step with a ``Realm:`` challenge (framing of
  Tenable TRA-2020-20).

Traffic is only ever sent to these addresses; captures run on ``lo`` with a
BPF filter on the lab network.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from camaudit.model import Observation

LAB = "127.77.9.0/24"
CAMERA = "127.77.9.1"
RECORDER = "127.77.9.2"
BPF = "net 127.77.9.0/24"
#: Seconds a lab server waits for a request before closing. HTTP and RTSP wait longer than
#: nmap's NULL probe (6 s), or nmap calls a port that closes on silence "tcpwrapped".
WAIT = 1.0
HTTP_WAIT = 8.0
SAMPLES = Path(__file__).with_name("samples")


def fixture_text(name: str) -> str:
    """The response of a shared/fixtures sample (copied into samples/ with its origin)."""
    doc = json.loads((SAMPLES / f"{name}.json").read_text())
    return str(doc["response"])


ISAPI = fixture_text("hikvision-isapi-deviceinfo-xml-ipc-ds-2cd2386g2-iu-v5.7.14").encode()
MAGICBOX = fixture_text("dahua-cgi-getsysteminfo-ipc-hdw5831r-ze").replace("\n", "\r\n").encode()
PROBEMATCHES = fixture_text("onvif-ws-discovery-probematches-hd-predator").replace(
    "SERVICE_URI", f"http://{CAMERA}/onvif/device_service").encode()
LOGIN = (b"<!DOCTYPE html><html><head><title>Web Client</title>"
         b'<link rel="icon" href="/favicon.ico"></head><body>login</body></html>')
ICON = bytes(range(256)) * 4
DESCRIPTION = (b'<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">'
               b"<specVersion><major>1</major><minor>0</minor></specVersion><device>"
               b"<deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>"
               b"<friendlyName>DS-2CD2386G2-IU</friendlyName><manufacturer>Hikvision"
               b"</manufacturer><modelName>DS-2CD2386G2-IU</modelName>"
               b"<UDN>uuid:11111111-2222-3333-4444-555555555555</UDN></device></root>")
HIK_SIGNATURE = b"\x00\x00\x00\x10\x00\x00\x00\x1e\x00\x00\x00\x1e\x00\x00\x00\x00"
DVRIP_CHALLENGE = b"Realm:Login to 4X7C5A1ZAG21L3F\r\nRandom:1234567890\r\n"


def _http(status: str, headers: list[str], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body)}",
             "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http_reply(host: str, method: str, target: str) -> bytes:
    server = ["Server: webserver"] if host == CAMERA else ["Server: Device Web Server"]
    if target == "/":
        return _http("200 OK", [*server, "Content-Type: text/html"], LOGIN)
    if target == "/favicon.ico":
        return _http("200 OK", [*server, "Content-Type: image/x-icon"], ICON)
    if host == CAMERA and target == "/ISAPI/System/deviceInfo":
        return _http("200 OK", [*server, 'Content-Type: application/xml; charset="UTF-8"'],
                     ISAPI)
    if host == CAMERA and target == "/description.xml":
        return _http("200 OK", [*server, "Content-Type: text/xml"], DESCRIPTION)
    if host == RECORDER and target == "/cgi-bin/magicBox.cgi?action=getSystemInfo":
        return _http("200 OK", [*server, "Content-Type: text/plain"], MAGICBOX)
    return _http("404 Not Found", [*server, "Content-Type: text/html"],
                 b"<html><body>404</body></html>")


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate shaped like a camera's factory one (written for the tests)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Camera Maker"),
                      x509.NameAttribute(NameOID.COMMON_NAME, CAMERA)])
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(0x1234)
            .not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Lab:
    """The lab's servers in a background event loop."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.servers: list[asyncio.AbstractServer] = []
        self.transports: list[asyncio.BaseTransport] = []
        self.endpoints = {CAMERA: [80, 443, 554, 8000], RECORDER: [80, 37777]}

    def __enter__(self) -> Lab:
        self.thread.start()
        self.ready.wait(10)
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._start())
        except BaseException as exc:
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()
        for server in self.servers:
            server.close()
        for transport in self.transports:
            transport.close()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()

    async def _start(self) -> None:
        cert, key = make_certificate(self.folder)
        tls12 = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls12.maximum_version = ssl.TLSVersion.TLSv1_2
        tls12.load_cert_chain(cert, key)
        for host in (CAMERA, RECORDER):
            self.servers.append(await asyncio.start_server(
                lambda r, w, h=host: self._http(r, w, h), host, 80, reuse_address=True))
        self.servers.append(await asyncio.start_server(
            lambda r, w: self._http(r, w, CAMERA), CAMERA, 443, ssl=tls12, reuse_address=True))
        self.servers.append(await asyncio.start_server(self._rtsp, CAMERA, 554,
                                                       reuse_address=True))
        self.servers.append(await asyncio.start_server(self._hik, CAMERA, 8000,
                                                       reuse_address=True))
        self.servers.append(await asyncio.start_server(self._dvrip, RECORDER, 37777,
                                                       reuse_address=True))
        for port, reply in ((3702, PROBEMATCHES), (1900, self._ssdp())):
            transport, _ = await self.loop.create_datagram_endpoint(
                lambda reply=reply: _Udp(reply), local_addr=(CAMERA, port))
            self.transports.append(transport)

    @staticmethod
    def _ssdp() -> bytes:
        return ("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
                f"LOCATION: http://{CAMERA}:80/description.xml\r\n"
                "SERVER: Linux/3.0, UPnP/1.0, test-camera/1.0\r\nST: upnp:rootdevice\r\n"
                "USN: uuid:11111111-2222-3333-4444-555555555555::upnp:rootdevice\r\n\r\n"
                ).encode()

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    host: str) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ssl.SSLError,
                                 TimeoutError, ValueError, asyncio.LimitOverrunError):
            head = await _request_head(reader)
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            length = 0
            for line in head.decode("latin-1").split("\r\n"):
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            if length:
                await reader.readexactly(length)
            reply = http_reply(host, method, target)
            if method == "HEAD":  # RFC 9110 9.3.2: same head, no body
                reply = reply[:reply.find(b"\r\n\r\n") + 4]
            # Send the head and body in separate segments: reassembly must join them.
            split = reply.find(b"\r\n\r\n") + 4
            writer.write(reply[:split])
            await writer.drain()
            writer.write(reply[split:])
            await writer.drain()
        writer.close()

    async def _rtsp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError,
                                 TimeoutError, asyncio.LimitOverrunError, ValueError):
            while True:
                head = await _request_head(reader)
                text = head.decode("latin-1")
                method = text.split(" ", 1)[0]
                cseq = next((ln.split(":", 1)[1].strip() for ln in text.split("\r\n")
                             if ln.lower().startswith("cseq:")), "1")
                if method == "OPTIONS":
                    reply = (f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: OPTIONS, DESCRIBE, "
                             "PLAY, PAUSE, SETUP, TEARDOWN, SET_PARAMETER, GET_PARAMETER\r\n"
                             "Date: Tue, 25 Nov 2026 10:00:00 GMT\r\n\r\n")
                else:
                    reply = (f"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\n"
                             'WWW-Authenticate: Digest realm="IP Camera(C2183)", '
                             'nonce="a0b1c2d3e4f5", stale="FALSE"\r\n\r\n')
                writer.write(reply.encode())
                await writer.drain()
        writer.close()

    async def _hik(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError):
            await asyncio.wait_for(reader.read(64), 3 * WAIT)  # the probe nudges after 1 s
            writer.write(HIK_SIGNATURE)
            await writer.drain()
        writer.close()

    async def _dvrip(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            await asyncio.wait_for(reader.readexactly(32), WAIT)
            header = (b"\xb0\x00\x00\x78" + len(DVRIP_CHALLENGE).to_bytes(4, "little")
                      + b"\x00" * 24)
            writer.write(header + DVRIP_CHALLENGE)
            await writer.drain()
        writer.close()


async def _request_head(reader: asyncio.StreamReader) -> bytes:
    """A request head; anything that does not start like one (a TLS hello) is refused at once."""
    first = await asyncio.wait_for(reader.readexactly(1), HTTP_WAIT)
    if not first.isalpha():
        raise ValueError("not a text request")
    return first + await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and addr[0].startswith("127."):
            self.transport.sendto(self.reply, addr)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    with tempfile.TemporaryDirectory(prefix="camaudit-ingest-lab-") as folder, \
            Lab(Path(folder)) as running:
        yield running


@contextlib.contextmanager
def capture(path: Path, bpf: str = BPF) -> Iterator[Path]:
    """Capture on ``lo`` only, filtered to `bpf`, into `path` (pcap) while the block runs."""
    tcpdump = shutil.which("tcpdump")
    if tcpdump is None:
        pytest.skip("tcpdump is not installed (CI installs it with `make sysdeps`)")
    # --immediate-mode and a 32 MiB buffer: on lo (64 KiB MTU) the default buffer drops
    # packets, and without immediate mode the last second is lost when tcpdump stops.
    proc = subprocess.Popen([tcpdump, "-i", "lo", "-n", "-U", "--immediate-mode", "-B", "32768",
                             "-s", "0", "-w", str(path), bpf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    deadline = time.monotonic() + 10
    line = b""
    while time.monotonic() < deadline and b"listening on" not in line:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            pytest.fail(f"tcpdump did not start (exit {proc.returncode})")
    try:
        yield path
    finally:
        time.sleep(0.3)  # let the last packets reach the capture
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        tail = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        if "0 packets dropped by kernel" not in tail:
            print(f"tcpdump: {tail.strip()}")


def run_nmap(targets: list[str], ports: str, out: Path, scripts: str = "", *,
             extra: tuple[str, ...] = (), light: bool = True) -> Path:
    """nmap (Debian package) against loopback lab or zoo addresses only; XML into `out`.

    `light` is ``--version-light``; without it nmap tries every probe on a service it
    cannot name and writes the replies as a service fingerprint (``servicefp``).
    """
    nmap = shutil.which("nmap")
    if nmap is None:
        pytest.skip("nmap is not installed (CI installs it with `make sysdeps`)")
    assert all(t.startswith("127.") for t in targets), "nmap may only target loopback"
    cmd = [nmap, "-n", "-Pn", "-sT", "-sV", *(["--version-light"] if light else []),
           "-p", ports, *(["--script", scripts] if scripts else []),
           "--host-timeout", "60s", "-oX", str(out), *extra, *targets]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=240)
    return out


async def _probe_lab() -> list[Observation]:
    """The camaudit probes a scan runs on these ports, run for real against the lab."""
    from camaudit.netio import Budget, Net
    from camaudit.probes import dvrip, hik_sdk, http, rtsp, upnp, wsd
    from camaudit.scope import Scope

    net = Net(scope=Scope([LAB]), budget=Budget(max_sockets=32), connect_timeout=1.0,
              read_timeout=1.0)
    out: list[Observation] = []
    for module, address, port in ((http, CAMERA, 80), (http, CAMERA, 443), (rtsp, CAMERA, 554),
                                  (hik_sdk, CAMERA, 8000), (wsd, CAMERA, 0),
                                  (upnp, CAMERA, 0), (http, RECORDER, 80),
                                  (dvrip, RECORDER, 37777)):
        out += await module.run(net, address, port)  # type: ignore[attr-defined]
    return out


@dataclass
class LabCapture:
    pcap: Path
    active: list[Observation]


@pytest.fixture(scope="session")
def lab_capture(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> LabCapture:
    """A tcpdump capture (lo, lab network only) of camaudit's probes talking to the lab."""
    path = tmp_path_factory.mktemp("capture") / "lab.pcap"
    with capture(path):
        active = asyncio.run(_probe_lab())
    return LabCapture(path, active)


@pytest.fixture(scope="session")
def lab_nmap(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """nmap's own XML of a version scan with scripts against the lab."""
    out = tmp_path_factory.mktemp("nmap") / "lab.xml"
    # DVRIP (37777) is left out: nmap knows no probe for it and tries them all (slow).
    ports = ",".join(str(p) for p in sorted({p for ps in lab.endpoints.values() for p in ps
                                             if p != 37777}))
    return run_nmap([CAMERA, RECORDER], ports, out,
                    "http-title,http-headers,http-server-header,ssl-cert,rtsp-methods,"
                    "http-favicon")


def nmap_observations(path: Path) -> dict[str, list[Observation]]:
    """The observations an nmap XML file gives, by address (read with camaudit's ingest)."""
    from camaudit.ingest import nmapxml

    out: dict[str, list[Observation]] = {}
    with path.open("rb") as fh:
        for record in nmapxml.parse_nmap_xml(fh, path.name):
            if isinstance(record, Observation):
                out.setdefault(record.address, []).append(record)
    return out
