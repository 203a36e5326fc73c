"""Replay held-out samples on loopback: each sample answers on its own address as the device did.

The samples (tests/identify/heldout/*.yaml) hold what a real device sent, as
observations (probe, port, fields, optional ``raw`` reply text). This module turns
the ones a TCP client can ask for back into servers:

- ``http``: a reply per observation with its status (200 when the source does not show
  it), ``Server``, ``WWW-Authenticate``
  (scheme and realm), ``Location``, ``Content-Type``, the other ``headers`` and the
  ``body``; a ``title`` without a body is sent in a minimal HTML page. ``raw`` that
  starts with ``HTTP/`` is sent as is. A reply recorded on another path is also
  served on ``/`` (scanners ask ``/`` and fixed paths, rarely the one in the source);
  any other path gets ``404`` with the same ``Server`` header. A favicon is never
  served: only its hash is known, not its bytes.
- ``rtsp``: each request gets the observation recorded for its method (OPTIONS,
  DESCRIBE), else the first one (status 200 when not shown); ``CSeq`` is echoed; a
  Digest challenge gets a fixed dummy nonce; the SDP session level
  (``sdp_origin``, ``sdp_session``, ``sdp_info``, ``sdp_tool``) becomes the body of a
  200 ``application/sdp`` answer. Several requests per connection, as RFC 2326 allows.
- ``banner``: the greeting is sent on connect (FTP, Telnet, SSH, other), nothing else.
- ``tls``: the port speaks TLS with a certificate carrying the sample's subject,
  issuer and SAN, generated here with ``cryptography`` (self-signed when the source
  says so or issuer equals subject, else signed by a throw-away issuer key). HTTP on
  the same port runs inside it; without HTTP the server closes after the handshake.

Everything else (UPnP/SSDP, WS-Discovery and other UDP protocols, MAC addresses,
vendor APIs known only by parsed fields, passive ``nmap``/``dhcp``/``mdns`` records)
is not replayed and is reported as skipped, per sample.

Servers bind only to addresses in :data:`NET` (checked), a loopback block.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import re
import ssl
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: The loopback block the replay uses; no test or other benchmark binds in it.
NET = ipaddress.ip_network("127.203.0.0/16")
HELDOUT = Path(__file__).resolve().parent.parent / "tests" / "identify" / "heldout"
REPLAYED = ("http", "rtsp", "banner", "tls")
REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 400: "Bad Request",
           401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           453: "Not Enough Bandwidth", 454: "Session Not Found", 500: "Internal Server Error",
           501: "Not Implemented", 503: "Service Unavailable"}
MAX_REQUEST = 16 * 1024
IDLE = 10.0


@dataclass
class Service:
    """What one port of one replayed sample answers."""

    port: int
    kind: str  # http | rtsp | banner | tls-only
    http: list[dict[str, Any]] = field(default_factory=list)
    rtsp: list[dict[str, Any]] = field(default_factory=list)
    banner: str = ""
    tls: dict[str, Any] | None = None


@dataclass
class Replay:
    """One sample on its address: the services served and what was left out."""

    sample: dict[str, Any]
    address: str
    services: dict[int, Service] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    @property
    def replayable(self) -> bool:
        return bool(self.services)


def load_samples(folder: Path = HELDOUT) -> list[dict[str, Any]]:
    """Every sample of every *.yaml in the held-out folder, each tagged with its file."""
    out: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.yaml")):
        for sample in yaml.safe_load(path.read_text("utf-8")).get("samples") or []:
            out.append({**sample, "file": path.name})
    return out


def address_for(index: int) -> str:
    """127.203.X.Y for the index-th sample (200 per /24, never .0 or .255)."""
    address = ipaddress.ip_address(int(NET.network_address) + 256 * (1 + index // 200)
                                   + 1 + index % 200)
    if address not in NET:
        raise ValueError(f"sample {index} falls outside {NET}")
    return str(address)


def _obs(o: dict[str, Any]) -> tuple[dict[str, Any], str]:
    raw = o.get("raw")
    return dict(o.get("fields") or {}), raw if isinstance(raw, str) else ""


def plan(samples: Iterable[dict[str, Any]]) -> list[Replay]:
    """A :class:`Replay` per sample: which port serves what, and what cannot be replayed."""
    replays: list[Replay] = []
    for index, sample in enumerate(samples):
        replay = Replay(sample, address_for(index))
        for o in sample.get("observations") or []:
            probe, port = o.get("probe"), o.get("port")
            fields, raw = _obs(o)
            if probe not in REPLAYED or not isinstance(port, int):
                why = "UDP" if probe in ("upnp", "wsd", "ubnt", "dhip") else "not replayed"
                replay.skipped.append(f"{probe}:{port} ({why})")
                continue
            kind = {"http": "http", "rtsp": "rtsp", "banner": "banner", "tls": "tls-only"}[probe]
            service = replay.services.get(port)
            if service is None:
                service = replay.services[port] = Service(port, kind)
            elif kind != service.kind and not {kind, service.kind} <= {"http", "tls-only"}:
                replay.skipped.append(f"{probe}:{port} (port already serves {service.kind})")
                continue
            if probe == "http":
                service.kind = "http"
                service.http.append({**fields, "_raw": raw})
                if fields.get("favicon_md5") or fields.get("favicon_mmh3"):
                    replay.skipped.append(f"http:{port} favicon (hash only, bytes unknown)")
                if fields.get("tls") and service.tls is None:
                    service.tls = {}
            elif probe == "rtsp":
                service.rtsp.append({**fields, "_raw": raw})
            elif probe == "banner":
                service.banner = str(fields.get("banner") or raw)
            else:
                service.tls = fields
        replays.append(replay)
    return replays


# -- certificates ------------------------------------------------------------------
_EXTRA_OIDS = {"E": NameOID.EMAIL_ADDRESS, "EMAIL": NameOID.EMAIL_ADDRESS,
               "EMAILADDRESS": NameOID.EMAIL_ADDRESS, "SERIALNUMBER": NameOID.SERIAL_NUMBER}


def _name(text: str) -> x509.Name:
    return x509.Name.from_rfc4514_string(text, _EXTRA_OIDS) if text else x509.Name([])


def certificate(fields: dict[str, Any], workdir: Path, tag: str) -> tuple[Path, Path]:
    """PEM files (cert, key) for a TLS observation: its subject, issuer and SAN, else empty."""
    subject = _name(str(fields.get("subject") or ""))
    issuer = _name(str(fields.get("issuer") or fields.get("subject") or ""))
    key = ec.generate_private_key(ec.SECP256R1())
    self_signed = fields.get("self_signed", True) is not False or issuer == subject
    signer = key if self_signed else ec.generate_private_key(ec.SECP256R1())
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=7300)))
    sans = [x509.DNSName(str(s)) for s in fields.get("san") or [] if str(s)]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(signer, hashes.SHA256())
    cert_path, key_path = workdir / f"{tag}.crt", workdir / f"{tag}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# -- replies -------------------------------------------------------------------------
def _crlf(text: str) -> bytes:
    """A recorded message with CRLF line ends in its head (sources often show bare LF)."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    head = head.rstrip("\n").replace("\n", "\r\n")
    return (head + "\r\n\r\n").encode("utf-8", "replace") + body.encode("utf-8", "replace")


def _auth(fields: dict[str, Any]) -> list[str]:
    realm, scheme = fields.get("realm"), fields.get("auth_scheme")
    if realm is None and not scheme:
        return []
    value = str(scheme or "Basic")
    if realm is not None:
        value += f' realm="{realm}"'
    if value.lower().startswith("digest"):
        value += ', nonce="0000000000000000"'
    return [f"WWW-Authenticate: {value}"]


def http_reply(fields: dict[str, Any] | None, server: str | None = None) -> bytes:
    """The HTTP/1.1 reply an observation records (None: a 404 with the port's Server)."""
    if fields is None:
        head = ["HTTP/1.1 404 Not Found"] + ([f"Server: {server}"] if server else [])
        return ("\r\n".join([*head, "Content-Length: 0", "Connection: close"])
                + "\r\n\r\n").encode("utf-8", "replace")
    raw = str(fields.get("_raw") or "")
    if raw.startswith("HTTP/"):
        return _crlf(raw)
    status = int(fields.get("status") or 200)
    body = str(fields.get("body") or raw)
    if not body and fields.get("title"):
        body = f"<html><head><title>{fields['title']}</title></head><body></body></html>"
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    if fields.get("server"):
        lines.append(f"Server: {fields['server']}")
    lines += _auth(fields)
    if fields.get("location"):
        lines.append(f"Location: {fields['location']}")
    if fields.get("content_type"):
        lines.append(f"Content-Type: {fields['content_type']}")
    elif body:
        lines.append("Content-Type: text/html")
    skip = {"server", "www-authenticate", "location", "content-type", "content-length",
            "transfer-encoding", "connection"}
    for header in fields.get("headers") or []:
        name = str(header).split(":", 1)[0].strip().lower()
        if name not in skip:
            lines.append(str(header))
    data = body.encode("utf-8", "replace")
    lines += [f"Content-Length: {len(data)}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "replace") + data


def rtsp_reply(fields: dict[str, Any], cseq: str | None) -> bytes:
    """The RTSP/1.0 reply an observation records, echoing the request's CSeq."""
    raw = str(fields.get("_raw") or "")
    if raw.startswith("RTSP/"):
        text = re.sub(r"(?im)^cseq:.*\n?", "", raw.replace("\r\n", "\n"))
        first, _, rest = text.partition("\n")
        text = first + (f"\nCSeq: {cseq}" if cseq else "") + "\n" + rest
        return _crlf(text)
    status = int(fields.get("status") or 200)
    lines = [f"RTSP/1.0 {status} {REASONS.get(status, 'Status')}"]
    if cseq:
        lines.append(f"CSeq: {cseq}")
    if fields.get("server"):
        lines.append(f"Server: {fields['server']}")
    if fields.get("public"):
        lines.append("Public: " + ", ".join(str(m) for m in fields["public"]))
    lines += _auth(fields)
    sdp = [f"{k}={fields[f]}" for k, f in (("o", "sdp_origin"), ("s", "sdp_session"),
                                           ("i", "sdp_info")) if fields.get(f)]
    if fields.get("sdp_tool"):
        sdp.append(f"a=tool:{fields['sdp_tool']}")
    body = b""
    if sdp and status == 200:
        body = ("v=0\r\n" + "\r\n".join(sdp) + "\r\nt=0 0\r\n").encode("utf-8", "replace")
        lines.append("Content-Type: application/sdp")
    elif fields.get("content_type"):
        lines.append(f"Content-Type: {fields['content_type']}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "replace") + body


def _pick_http(service: Service, path: str) -> dict[str, Any] | None:
    bare = path.split("?", 1)[0] or "/"
    for fields in service.http:
        if str(fields.get("path") or "/").split("?", 1)[0] == bare:
            return fields
    if bare == "/" and service.http:
        return service.http[0]
    return None


def _pick_rtsp(service: Service, method: str) -> dict[str, Any]:
    for fields in service.rtsp:
        if str(fields.get("method") or "").upper() == method:
            return fields
    return service.rtsp[0]


# -- servers -------------------------------------------------------------------------
async def _read_head(reader: asyncio.StreamReader) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data and len(data) < MAX_REQUEST:
        chunk = await asyncio.wait_for(reader.read(4096), IDLE)
        if not chunk:
            break
        data += chunk
    return data


async def _serve(service: Service, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
    try:
        if service.kind == "banner":
            writer.write((service.banner.rstrip("\r\n") + "\r\n").encode("utf-8", "replace"))
            await writer.drain()
            await asyncio.wait_for(reader.read(4096), IDLE)
        elif service.kind == "http":
            head = await _read_head(reader)
            parts = head.split(b"\r\n", 1)[0].split()
            path = parts[1].decode("latin-1") if len(parts) > 1 else "/"
            server = next((str(f["server"]) for f in service.http if f.get("server")), None)
            writer.write(http_reply(_pick_http(service, path), server))
            await writer.drain()
        elif service.kind == "rtsp":
            while True:
                head = await _read_head(reader)
                if not head.strip():
                    break
                text = head.decode("latin-1")
                method = text.split(" ", 1)[0].strip().upper()
                match = re.search(r"(?im)^cseq:\s*(\S+)", text)
                writer.write(rtsp_reply(_pick_rtsp(service, method),
                                        match.group(1) if match else None))
                await writer.drain()
        else:  # tls-only: the handshake was the point
            await asyncio.wait_for(reader.read(4096), 2.0)
    except (TimeoutError, ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        writer.close()


class ReplayServer:
    """Every replayable sample's services, on their addresses, in a background event loop."""

    def __init__(self, replays: list[Replay]) -> None:
        self.replays = [r for r in replays if r.replayable]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.servers: list[asyncio.Server] = []
        self.tmp = tempfile.TemporaryDirectory(prefix="camaudit-replay-")

    def _context(self, fields: dict[str, Any], tag: str) -> ssl.SSLContext:
        cert, key = certificate(fields, Path(self.tmp.name), tag)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        ctx.load_cert_chain(cert, key)
        return ctx

    async def _start(self) -> None:
        for replay in self.replays:
            if ipaddress.ip_address(replay.address) not in NET:
                raise ValueError(f"{replay.address} is outside {NET}")
            for port, service in sorted(replay.services.items()):
                ctx = None
                if service.tls is not None:
                    ctx = self._context(service.tls, f"{replay.address}-{port}")

                async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter,
                                 s: Service = service) -> None:
                    await _serve(s, r, w)

                self.servers.append(await asyncio.start_server(
                    handle, replay.address, port, ssl=ctx, reuse_address=True))

    def __enter__(self) -> ReplayServer:
        self.thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=60)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            for server in self.servers:
                server.close()
            handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
        self.tmp.cleanup()

    @property
    def ports(self) -> list[int]:
        return sorted({p for r in self.replays for p in r.services})

    @property
    def addresses(self) -> list[str]:
        return [r.address for r in self.replays]
