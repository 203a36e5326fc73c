"""HTTP/1.x on the wire, sans-IO: build a request, frame and parse a response.

Shared by every probe that speaks HTTP or an HTTP-shaped protocol (the HTTP
family, ONVIF SOAP POSTs, UPnP description fetches, RTSP replies via
``protocol=b"RTSP"``). Nothing here opens a socket; the transport feeds bytes
and asks :func:`message_end` whether a whole message has arrived.

Devices are sloppy, so the parser is lenient where RFC 9112 allows it (bare LF
line endings, missing reason phrase, junk header lines are skipped) and strict
only where guessing would be wrong: a reply that does not start with a status
line, an unreadable Content-Length or chunk size raises
:class:`camaudit.errors.ParseError` with the offset. Framing follows RFC 9112
section 6.3 (message body length): no body for 1xx/204/304 and HEAD, chunked
when Transfer-Encoding ends in ``chunked``, else Content-Length, else until the
peer closes.

Stable API: :func:`build_request`, :func:`host_header`, :func:`safe_target`,
:func:`message_end`, :func:`complete_response`, :func:`parse_response`,
:func:`keeps_connection`, :class:`Response`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from camaudit import __version__
from camaudit.errors import ParseError

#: Largest status line + header section we accept (devices send a few hundred bytes).
MAX_HEAD = 32 * 1024
#: Header lines kept; later ones are ignored.
MAX_HEADERS = 100
#: Longest chunk-size line (RFC 9112 7.1 allows extensions; real ones are short).
MAX_CHUNK_LINE = 1024
#: Interim (1xx) responses skipped before the final one.
MAX_INTERIM = 4

USER_AGENT = f"camaudit/{__version__} (read-only audit)"

_STATUS_RE = re.compile(rb"([A-Z]{2,10})/(\d)\.(\d) +(\d{3})(?: +([^\r\n]*)|[ \t]*)\r?$")
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Characters sent as-is in a request target; everything else is percent-encoded.
_TARGET_SAFE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "-._~!$&'()*+,;=:@/?%[]")
_SAFE_TARGET_RE = re.compile("[" + re.escape("".join(sorted(_TARGET_SAFE))) + "]*")


@dataclass(frozen=True)
class Response:
    """One parsed reply. `complete` is False when framing says more was due."""

    protocol: str  # "HTTP/1.1", "RTSP/1.0"
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # as sent, in order (latin-1 decoded, NULs removed)
    body: bytes  # de-chunked; possibly partial
    complete: bool
    head_size: int  # offset of the body in the bytes given

    def header(self, name: str) -> str | None:
        """First value of header `name` (case-insensitive), or None."""
        values = self._by_name.get(name.lower())
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        return list(self._by_name.get(name.lower(), ()))

    @cached_property
    def _by_name(self) -> dict[str, list[str]]:
        """Header values by lower-case name, in order (probes ask for several headers)."""
        found: dict[str, list[str]] = {}
        for key, value in self.headers:
            found.setdefault(key.lower(), []).append(value)
        return found


def safe_target(target: str) -> str:
    """Percent-encode a request target so that no byte of it can break the request line.

    Redirect Locations and icon links come from the device; a CR, LF, space or
    non-ASCII character in them must never reach the wire as-is.
    """
    target = target.split("#", 1)[0] or "/"
    if _SAFE_TARGET_RE.fullmatch(target):  # the usual case: nothing to encode
        return target if target.startswith("/") else "/" + target
    out = []
    for ch in target:
        if ch in _TARGET_SAFE:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
    encoded = "".join(out)
    return encoded if encoded.startswith("/") else "/" + encoded


def host_header(address: str, port: int, tls: bool) -> str:
    """The Host header value for an address literal (RFC 9110 7.2): brackets for IPv6."""
    host = f"[{address}]" if ":" in address else address
    default = 443 if tls else 80
    return host if port == default else f"{host}:{port}"


def build_request(method: str, target: str, host: str, *,
                  headers: Sequence[tuple[str, str]] = (), body: bytes = b"",
                  protocol: str = "HTTP/1.1", keep_alive: bool = False) -> bytes:
    """Serialise one request with ``Connection: close`` (``keep-alive`` when asked: more
    requests follow on this connection); extra `headers` follow the defaults.

    Header names must be tokens and values may not hold CR/LF/NUL: a value that
    came from a device cannot inject a header.
    """
    if not _TOKEN_RE.fullmatch(method):
        raise ValueError(f"bad method {method!r}")
    lines = [f"{method} {safe_target(target)} {protocol}", f"Host: {host}",
             f"User-Agent: {USER_AGENT}", "Accept: */*",
             f"Connection: {'keep-alive' if keep_alive else 'close'}"]
    for name, value in headers:
        if not _TOKEN_RE.fullmatch(name) or any(c in value for c in "\r\n\0"):
            raise ValueError(f"bad header {name!r}")
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("latin-1", "replace") + body


def _find_head_end(data: bytes, start: int) -> tuple[int, int] | None:
    """(end of header lines, start of body) or None if the blank line has not arrived."""
    candidates = []
    crlf = data.find(b"\r\n\r\n", start)
    if crlf >= 0:
        candidates.append((crlf, crlf + 4))
    lf = data.find(b"\n\n", start)
    if lf >= 0:
        candidates.append((lf, lf + 2))
    mixed = data.find(b"\n\r\n", start)
    if mixed >= 0:
        candidates.append((mixed, mixed + 3))
    return min(candidates) if candidates else None


@dataclass
class _Head:
    protocol: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body_start: int


def _clean(raw: bytes) -> str:
    return _tidy(raw.decode("latin-1"))


def _tidy(text: str) -> str:
    return text.replace("\0", "").strip()


#: What bytes.strip() strips (str.strip() also strips \x1c-\x1f, \x85 and \xa0).
_ASCII_SPACE = " \t\n\r\x0b\x0c"


def _parse_head(data: bytes, start: int, protocol: bytes, *, final: bool) -> _Head | None:
    """Parse the status line and headers at `start`; None if more bytes are needed."""
    if len(data) <= start:
        if final:
            raise ParseError("empty reply", start)
        return None
    first_nl = data.find(b"\n", start)
    line_end = first_nl if first_nl >= 0 else len(data)
    status_line = data[start:line_end].rstrip(b"\r")
    if first_nl < 0 and not final:
        if len(status_line) > MAX_HEAD:
            raise ParseError("status line too long", start)
        prefix = protocol + b"/"
        probe = status_line[: len(prefix)]
        if not prefix.startswith(probe):
            raise ParseError(f"not a {protocol.decode()} status line", start)
        return None
    match = _STATUS_RE.fullmatch(status_line)
    if match is None or match.group(1) != protocol:
        raise ParseError(f"not a {protocol.decode()} status line", start)
    found = _find_head_end(data, start)
    if found is None:
        if len(data) - start > MAX_HEAD:
            raise ParseError("header section too long", start)
        if not final:
            return None
        # The peer stopped inside the header section: keep the complete lines only.
        last_nl = data.rfind(b"\n")
        head_end = max(last_nl, line_end)
        body_start = len(data)
    else:
        head_end, body_start = found
        if head_end - start > MAX_HEAD:
            raise ParseError("header section too long", start)
    headers: list[tuple[str, str]] = []
    # latin-1 maps each byte to one character: the text splits as the bytes would
    for line in data[line_end + 1:head_end].decode("latin-1").split("\n"):
        line = line.rstrip("\r")
        if not line:
            continue
        if line[:1] in (" ", "\t") and headers:  # obsolete line folding (RFC 9112 5.2)
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {_tidy(line)}")
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip(_ASCII_SPACE) or len(headers) >= MAX_HEADERS:
            continue
        headers.append((_tidy(name), _tidy(value)))
    version = f"{protocol.decode()}/{match.group(2).decode()}.{match.group(3).decode()}"
    return _Head(version, int(match.group(4)), _clean(match.group(5) or b""),
                 headers, body_start)


def _content_length(head: _Head) -> int | None:
    values = [v for k, v in head.headers if k.lower() == "content-length"]
    if not values:
        return None
    # RFC 9110 8.6: a list of identical values is acceptable; anything else is an error.
    parts = {p.strip() for v in values for p in v.split(",")}
    if len(parts) != 1:
        raise ParseError("conflicting Content-Length values", head.body_start)
    text = parts.pop()
    if not text.isdigit() or len(text) > 18:
        raise ParseError(f"bad Content-Length {text[:20]!r}", head.body_start)
    return int(text)


def _is_chunked(head: _Head) -> bool:
    codings = [c.strip().lower() for k, v in head.headers
               if k.lower() == "transfer-encoding" for c in v.split(",")]
    return bool(codings) and codings[-1] == "chunked"


def _dechunk(data: bytes, pos: int) -> tuple[bytes, int | None]:
    """Decode chunked data from `pos`: (body so far, end offset or None if incomplete)."""
    body = bytearray()
    while True:
        nl = data.find(b"\n", pos, pos + MAX_CHUNK_LINE)
        if nl < 0:
            if len(data) - pos >= MAX_CHUNK_LINE:
                raise ParseError("chunk-size line too long", pos)
            return bytes(body), None
        size_text = data[pos:nl].split(b";", 1)[0].strip()
        if not size_text or len(size_text) > 16 or any(
                c not in b"0123456789abcdefABCDEF" for c in size_text):
            raise ParseError("bad chunk size", pos)
        size = int(size_text, 16)
        pos = nl + 1
        if size == 0:
            break
        available = min(size, len(data) - pos)
        body += data[pos:pos + available]
        if available < size:
            return bytes(body), None
        pos += size
        if data[pos:pos + 2] == b"\r\n":
            pos += 2
        elif data[pos:pos + 1] == b"\n":
            pos += 1
        elif len(data) - pos < 2:
            return bytes(body), None
        else:
            raise ParseError("chunk not followed by CRLF", pos)
    # Trailer section: header lines up to an empty line.
    while True:
        nl = data.find(b"\n", pos, pos + MAX_HEAD)
        if nl < 0:
            return bytes(body), None
        line = data[pos:nl].rstrip(b"\r")
        pos = nl + 1
        if not line:
            return bytes(body), pos


def _frame(data: bytes, head: _Head, method: str,
           protocol: bytes) -> tuple[bytes, int | None]:
    """Body bytes and the message end (None: needs more, or ends when the peer closes)."""
    start = head.body_start
    if method == "HEAD" or 100 <= head.status < 200 or head.status in (204, 304):
        return b"", start
    if protocol == b"HTTP" and _is_chunked(head):
        return _dechunk(data, start)
    length = _content_length(head)
    if length is not None:
        end = start + length
        return data[start:end], (end if len(data) >= end else None)
    if protocol != b"HTTP":  # RTSP and friends: no Content-Length means no body
        return b"", start
    return data[start:], None


def _final_head(data: bytes, method: str, protocol: bytes,
                *, final: bool) -> _Head | None:
    """Skip interim 1xx replies (except 101) and return the head of the final one."""
    start = 0
    for _ in range(MAX_INTERIM + 1):
        head = _parse_head(data, start, protocol, final=final)
        if head is None or not (100 <= head.status < 200 and head.status != 101):
            return head
        start = head.body_start
    raise ParseError("too many interim responses", start)


def complete_response(data: bytes, *, method: str = "GET",
                      protocol: bytes = b"HTTP") -> tuple[Response, int] | None:
    """The response in `data` and the offset just past it once its framing says it is
    whole, else None (more is needed); see :func:`message_end`.

    What :func:`parse_response` would give for the same bytes: a transport that keeps
    it parses the head once, not once more when the reply is in.
    """
    head = _final_head(data, method, protocol, final=False)
    if head is None:
        return None
    body, end = _frame(data, head, method, protocol)
    if end is None:
        return None
    return Response(protocol=head.protocol, status=head.status, reason=head.reason,
                    headers=tuple(head.headers), body=body, complete=True,
                    head_size=head.body_start), end


def message_end(data: bytes, *, method: str = "GET", protocol: bytes = b"HTTP") -> int | None:
    """Offset just past a complete response in `data`, or None if more is needed.

    A close-delimited body (no length, not chunked) is never complete here: the
    transport reads until the peer closes or a bound is hit.
    """
    found = complete_response(data, method=method, protocol=protocol)
    return found[1] if found is not None else None


def keeps_connection(response: Response) -> bool:
    """Whether the server keeps the connection open after `response` (RFC 9112 9.3).

    HTTP/1.1 persists unless it says ``Connection: close``; HTTP/1.0 only when it says
    ``Connection: keep-alive``. (A body that ends when the peer closes is the caller's
    to rule out: only a response framed by its length can be followed by another.)
    """
    tokens = {token.strip().lower() for value in response.header_all("Connection")
              for token in value.split(",")}
    if "close" in tokens:
        return False
    return response.protocol == "HTTP/1.1" or (response.protocol == "HTTP/1.0"
                                               and "keep-alive" in tokens)


def parse_response(data: bytes, *, method: str = "GET", eof: bool = True,
                   protocol: bytes = b"HTTP") -> Response:
    """Parse everything received for one request.

    `eof` says the peer closed the connection, which completes a
    close-delimited body; a message cut short by a bound has ``complete=False``.
    """
    head = _final_head(data, method, protocol, final=True)
    if head is None:  # pragma: no cover - final=True never asks for more
        raise ParseError("incomplete reply", 0)
    body, end = _frame(data, head, method, protocol)
    close_delimited = (end is None and eof and protocol == b"HTTP"
                       and _content_length(head) is None and not _is_chunked(head))
    return Response(protocol=head.protocol, status=head.status, reason=head.reason,
                    headers=tuple(head.headers), body=body,
                    complete=end is not None or close_delimited, head_size=head.body_start)
