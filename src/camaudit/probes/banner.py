"""Greetings volunteered on connect (FTP 21, Telnet 23, Digifort 8600): listen, never log in.

Recorders often leave FTP and Telnet open, and their greetings name the
stack or the board ("220 DVR FTP server ready", a BusyBox login prompt).
We send nothing: we read what the server volunteers within a short window
and close. Telnet option negotiation (IAC sequences) is stripped from the
text, not answered, so no session is ever set up.

Sources (checked 2026-11-25):
- RFC 959 §4.2 (https://www.rfc-editor.org/rfc/rfc959): FTP replies are a
  3-digit code, ``-`` for a multi-line reply, and text; the greeting is 220.
- RFC 854 (https://www.rfc-editor.org/rfc/rfc854): Telnet commands start
  with IAC (255); WILL/WONT/DO/DONT (251-254) take one option byte,
  SB (250) ... IAC SE (240) is a subnegotiation, IAC IAC is a literal 255.
- nmap-service-probes (nmap/nmap): the NULL probe (send nothing, wait) is how
  nmap reads these banners; ``match telnet m|^\\xff|`` and ``^220`` FTP.
- Digifort server greeting on TCP 8600: nmap-service-probes (nmap 7.92, copy in
  cyal1/nmap-7.92 ``nmap-service-probes`` at dafc4cea5916d8ca3287b37476a36fed76d18080,
  "# Digifort port 8600."): ``match digifort m|^\\xd1Q\\xf0'\\0\\0\\0;\\x01\\x05LOGIN...NONCE
  ...[0-9A-F]{32}$|``; the Digifort analytics (8610) and LPR (8611) services send frames
  with the same 4-byte start ``\\xd1Q\\xf0'``. Such a greeting is service ``digifort``.

Fields (``banner``): service (ftp|telnet|ssh|digifort|other), banner (text, at most 1 KiB;
control bytes of a binary greeting shown as spaces).
"""

from __future__ import annotations

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation
from camaudit.netio import Net, open_tcp
from camaudit.probes.base import Probe

IAC, SB, SE = 255, 250, 240
#: First bytes of every Digifort server frame (nmap digifort, digifort-analytics, digifort-lpr).
DIGIFORT_MAGIC = b"\xd1Q\xf0'"
MAX_BANNER = 4096
MAX_TEXT = 1024
#: How long we listen for a greeting.
LISTEN = 2.0


def strip_telnet(data: bytes) -> tuple[bytes, bool]:
    """(text bytes without IAC sequences, whether any IAC sequence was seen)."""
    out = bytearray()
    seen = False
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b != IAC:
            out.append(b)
            i += 1
            continue
        seen = True
        if i + 1 >= n:
            break
        cmd = data[i + 1]
        if cmd == IAC:
            out.append(IAC)
            i += 2
        elif 251 <= cmd <= 254:
            i += 3
        elif cmd == SB:
            end = data.find(bytes((IAC, SE)), i + 2)
            i = n if end < 0 else end + 2
        else:
            i += 2
    return bytes(out), seen


def ftp_done(data: bytes) -> bool:
    """True once a final FTP reply line (``NNN text``, RFC 959 §4.2) has fully arrived."""
    if not data.endswith(b"\n"):
        return False
    last = data.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    return len(last) >= 4 and last[:3].isdigit() and last[3:4] == b" "


def parse_banner(data: bytes, port: int) -> dict[str, FieldValue]:
    """Greeting bytes -> {service, banner}; ParseError if there is nothing to read."""
    if not data:
        raise ParseError("banner: nothing received", offset=0)
    raw, telnet = strip_telnet(data[:MAX_BANNER])
    text = raw.decode("utf-8", "replace")
    text = "".join(ch if ch.isprintable() or ch in "\r\n\t" else " " for ch in text)
    text = text.strip()[:MAX_TEXT]
    if data.startswith(DIGIFORT_MAGIC):
        service = "digifort"
    elif text.startswith("SSH-"):
        service = "ssh"
    elif text[:3] in ("220", "120", "421") and (port == 21 or text[3:4] in (" ", "-")):
        service = "ftp"
    elif telnet or port == 23:
        service = "telnet"
    else:
        service = "other"
    if not text and not telnet:
        raise ParseError("banner: no text in greeting", offset=0)
    return {"service": service, "banner": text}


async def run(net: Net, address: str, port: int) -> list[Observation]:
    """Listen for the greeting; send nothing."""
    async with open_tcp(net, address, port, why="banner probe") as conn:
        data = await conn.read_until_idle(deadline=min(LISTEN, net.read_timeout),
                                          cap=MAX_BANNER, done=ftp_done)
    try:
        fields = parse_banner(data, port)
    except ParseError:
        return []
    return [Observation(address=address, port=port, probe="banner", fields=fields, raw=data)]


PROBE = Probe(name="banner", ports=frozenset({21, 23, 8600}), run=run, order=40)
