"""nmap service fingerprints (``servicefp``): the raw replies nmap recorded, read back.

When nmap's version scan cannot name a service it writes a fingerprint holding
the replies its probes earned (the text nmap asks users to submit). For the
devices nmap could not name, those replies are the best evidence an nmap file
holds, and camaudit's own probe parsers can read them: :func:`parse` turns the
text into :class:`Reply` records (probe name, reply bytes), and
:func:`reply_fields` sends each reply through the parser the active probe uses
(:mod:`camaudit.probes.http`, :mod:`camaudit.probes.rtsp`,
:mod:`camaudit.probes.banner`). Sans-IO; a malformed fingerprint raises
:class:`camaudit.errors.ParseError` with the offset where reading stopped.

The format, as nmap writes it (read in nmap/nmap at
db4aefddfa348ec815ffa83a109c97e05db88766, checked 2026-12-01; the Debian nmap 7.93
writes the same, see tests/ingest/test_servicefp_nmap.py):

- ``service_scan.cc``, ``ServiceNFO::addToServiceFingerprint``: the first reply
  opens the text with a header ``SF-Port<port>-<TCP|UDP>:`` followed by
  ``%``-separated ``key=value`` items (``V`` nmap version, ``T=SSL`` when the
  service was reached through TLS, ``I`` intensity, ``D`` month/day, ``Time``
  hex Unix time, ``P`` platform). Each reply then adds
  ``%r(<probe>,<length in upper-case hex>,"<escaped bytes>")``. The length is
  that of the whole reply, but only its first 900 bytes (1300 with debugging)
  are written, so fewer decoded bytes than declared means nmap cut the reply.
  Replies stop being added once the text passes about 2200 characters.
- Escaping, byte by byte, in the same function: ASCII letters and digits as
  they are; NUL as ``\\0``, or ``\\x00`` when a digit follows; the characters
  ``\\ ? " [ ] ( ) . * + $ ^ |`` behind a backslash; other ASCII punctuation as
  it is; CR, LF and TAB as ``\\r``, ``\\n``, ``\\t``; every other byte (space,
  control bytes, bytes above 0x7e) as ``\\x`` and two lower-case hex digits.
  So an unescaped ``"`` always ends a reply.
- ``ServiceNFO::addServiceChar`` wraps the text every 74 characters by inserting
  ``\\nSF:`` (anywhere, even inside an escape); ``getServiceFingerprint`` ends
  it with ``;``. Normal output shows those lines; in XML, ``output.cc``
  ``servicefp_sf_remove`` deletes every ``\\nSF:`` so the attribute is one line.
  :func:`parse` accepts both forms.

What nmap's probes send (facts from ``nmap-service-probes`` at the same commit): NULL
sends nothing and waits for a greeting, GenericLines two blank lines, GetRequest
``GET / HTTP/1.0``, HTTPOptions ``OPTIONS / HTTP/1.0``, RTSPRequest ``OPTIONS / RTSP/1.0``.
That is all :func:`reply_fields` needs to know of a probe; other names are only kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from camaudit.errors import ParseError
from camaudit.model import FieldValue
from camaudit.probes import banner, http, httpwire, rtsp, upnp

#: Longest fingerprint text read (nmap's own stop at ~2200 characters, 10000 with
#: debugging, plus one last reply of at most 1300 bytes written 4 characters each).
MAX_TEXT = 64 * 1024
#: Replies read from one fingerprint (nmap has under 200 probes; real ones hold a few).
MAX_REPLIES = 64

_HEADER_RE = re.compile(r"SF-Port(\d{1,5})-(TCP|UDP):")
#: nmap's probe names are letters, digits, ``_`` and ``-`` (at most 24 so far).
_REPLY_RE = re.compile(r"%r\(([A-Za-z0-9_.-]{1,64}),([0-9A-Fa-f]{1,8}),\"")
_HEX = frozenset("0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = {"0": 0, "r": 13, "n": 10, "t": 9}
#: Characters nmap puts behind a backslash (besides the letters above).
_QUOTED = frozenset('\\?"[]().*+$^|')
#: A status line of another text protocol (``SIP/2.0 200 OK``): not a banner.
_STATUS_LINE = re.compile(rb"^[A-Z]{2,10}/\d\.\d \d{3}\b")
#: Request path of the nmap probes whose request we know (both ask for ``/``).
_PATHS = {"GetRequest": "/", "HTTPOptions": "/"}
#: Method of the nmap probes that are not a GET, for HTTP framing (RFC 9112 6.3).
_METHODS = {"HTTPOptions": "OPTIONS", "RTSPRequest": "OPTIONS"}


@dataclass(frozen=True)
class Reply:
    """One probe's reply as nmap recorded it; `declared` is the reply's full length."""

    probe: str
    data: bytes
    declared: int

    @property
    def truncated(self) -> bool:
        return len(self.data) < self.declared


@dataclass(frozen=True)
class Fingerprint:
    port: int
    protocol: str  # "TCP" or "UDP"
    header: dict[str, str]  # V, T, I, D, Time, P as written
    replies: tuple[Reply, ...]

    @property
    def tls(self) -> bool:
        return self.header.get("T") == "SSL"


def join_lines(text: str) -> str:
    """The one-line form: every line break with its ``SF:`` continuation removed.

    nmap never writes white space inside a fingerprint (a space byte is ``\\x20``),
    so any run of it before ``SF:`` is a line break, also one that an XML parser
    normalised to a space or a copy-paste turned into CRLF.
    """
    return re.sub(r"\s+SF:", "", text.strip())


def _unescape(text: str, pos: int) -> tuple[bytes, int]:
    """Decode an escaped reply starting at `pos`; (bytes, offset of the closing quote)."""
    out = bytearray()
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch == '"':
            return bytes(out), pos
        if ch != "\\":
            if not ("!" <= ch <= "~"):
                raise ParseError(f"servicefp: unescaped byte {ch!r} in a reply", pos)
            out.append(ord(ch))
            pos += 1
            continue
        if pos + 1 >= n:
            break
        nxt = text[pos + 1]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            pos += 2
        elif nxt in _QUOTED:
            out.append(ord(nxt))
            pos += 2
        elif nxt == "x":
            digits = text[pos + 2:pos + 4]
            if len(digits) != 2 or not set(digits) <= _HEX:
                raise ParseError("servicefp: bad \\x escape", pos)
            out.append(int(digits, 16))
            pos += 4
        else:
            raise ParseError(f"servicefp: unknown escape \\{nxt}", pos)
    raise ParseError("servicefp: reply not closed (text cut short?)", pos)


def _header(text: str) -> tuple[int, str, dict[str, str], int]:
    match = _HEADER_RE.match(text)
    if match is None:
        raise ParseError("servicefp: does not start with SF-Port<n>-<TCP|UDP>:", 0)
    port = int(match.group(1))
    if not 0 < port < 65536:
        raise ParseError(f"servicefp: port {port} out of range", 7)
    end = text.find("%r(", match.end())
    if end < 0:
        end = len(text) - 1 if text.endswith(";") else len(text)
    items: dict[str, str] = {}
    pos = match.end()
    segment = text[match.end():end]
    for item in segment.split("%") if segment else ():
        key, sep, value = item.partition("=")
        if not sep or not key.isalnum() or len(key) > 16 or len(value) > 128 \
                or not value.isprintable():
            raise ParseError("servicefp: bad header item", pos)
        items.setdefault(key, value)
        pos += len(item) + 1
    return port, match.group(2), items, end


def parse(text: str) -> Fingerprint:
    """A service fingerprint (XML attribute or the ``SF:`` lines) -> its header and replies.

    Offsets in a ParseError count in the one-line form (:func:`join_lines`).
    """
    if len(text) > MAX_TEXT:
        raise ParseError(f"servicefp: longer than {MAX_TEXT} characters", MAX_TEXT)
    text = join_lines(text)
    port, protocol, header, pos = _header(text)
    replies: list[Reply] = []
    while pos < len(text):
        if text[pos] == ";" and pos == len(text) - 1:
            break
        match = _REPLY_RE.match(text, pos)
        if match is None:
            raise ParseError("servicefp: expected %r(probe,length,\"...\")", pos)
        if len(replies) >= MAX_REPLIES:
            raise ParseError(f"servicefp: more than {MAX_REPLIES} replies", pos)
        declared = int(match.group(2), 16)
        data, close = _unescape(text, match.end())
        if text[close:close + 2] != '")':
            raise ParseError("servicefp: reply not closed by \")", close)
        if not data or declared == 0:
            raise ParseError("servicefp: empty reply", match.end())
        if len(data) > declared:
            raise ParseError(f"servicefp: {len(data)} bytes decoded, {declared} declared",
                             match.start())
        replies.append(Reply(match.group(1), data, declared))
        pos = close + 2
    return Fingerprint(port, protocol, header, tuple(replies))


def _http_fields(reply: Reply, tls: bool) -> dict[str, FieldValue]:
    method = _METHODS.get(reply.probe, "GET")
    fields: dict[str, FieldValue] = {}
    if reply.probe in _PATHS:
        fields["path"] = _PATHS[reply.probe]
    fields["tls"] = tls
    fields.update(http.response_fields(httpwire.parse_response(reply.data, method=method)))
    if reply.truncated:
        fields["error"] = f"nmap kept the first {len(reply.data)} of {reply.declared} bytes"
    return fields


def reply_fields(reply: Reply, port: int, *, tls: bool = False, udp: bool = False,
                 banner_ok: bool = False) -> tuple[str, dict[str, FieldValue]] | None:
    """The observation (probe name, fields) one recorded reply makes, or None.

    A reply is read by what it is, whichever nmap probe earned it: an HTTP
    status line by the HTTP probe's field extraction (any probe may draw one
    from a web server) - over UDP first as an SSDP search response by the UPnP
    probe's parser -, an RTSP status line by the RTSP probe's parser. A reply
    to nmap's NULL probe (it sends nothing) is a greeting, read by the banner
    probe's parser; so is `banner_ok` (the caller's choice for GenericLines when
    the NULL probe got nothing). Anything else (SIP, binary protocols) is left:
    no camaudit probe names its fields.
    """
    data = reply.data
    try:
        if data.startswith(b"HTTP/"):
            if udp:
                try:
                    return "upnp", upnp.parse_search_reply(data)
                except ParseError:
                    pass
            return "http", _http_fields(reply, tls)
        if data.startswith(b"RTSP/"):
            fields = rtsp.parse_response(data)
            if reply.probe == "RTSPRequest":  # the one RTSP request nmap sends
                fields = {"method": "OPTIONS", "path": "/", **fields}
            return "rtsp", fields
        if (reply.probe == "NULL" or banner_ok) and not _STATUS_LINE.match(data):
            return "banner", banner.parse_banner(data, port)
    except ParseError:
        return None
    return None


def _native_first(reply: Reply) -> int:
    """0 for a reply to the probe of its own protocol (stable sort keeps nmap's order)."""
    native = {b"RTSP/": "RTSPRequest", b"HTTP/": "GetRequest"}.get(reply.data[:5])
    return 0 if reply.probe == native else 1


def readings(fingerprint: Fingerprint, port: int, *, tls: bool = False, udp: bool = False
             ) -> list[tuple[str, dict[str, FieldValue], Reply]]:
    """(probe name, fields, reply) for every reply a camaudit parser can read.

    A reply repeated byte for byte (a server answering several probes the same
    way) is read once, as the answer to the probe of its own protocol when that
    is one of them (RTSPRequest for RTSP, GetRequest for HTTP), whose request we
    know. GenericLines (nmap sends blank lines) counts as a greeting only when
    the NULL probe recorded none.
    """
    tls = tls or fingerprint.tls
    greeted = any(r.probe == "NULL" for r in fingerprint.replies)
    out: list[tuple[str, dict[str, FieldValue], Reply]] = []
    seen: set[bytes] = set()
    for reply in sorted(fingerprint.replies, key=_native_first):
        if reply.data in seen:
            continue
        seen.add(reply.data)
        result = reply_fields(reply, port, tls=tls, udp=udp,
                              banner_ok=reply.probe == "GenericLines" and not greeted)
        if result is not None:
            out.append((*result, reply))
    return out
