"""RTSP: OPTIONS and DESCRIBE on one connection; record Server, Public and the auth challenge.

Cameras and recorders answer ``OPTIONS`` without credentials with the
methods they support (``Public``) and often a ``Server`` header naming their
stack; ``DESCRIBE`` usually earns a ``401`` whose ``WWW-Authenticate`` realm
is vendor-specific. Both are read-only requests.

Sources (checked 2026-11-25):
- RFC 2326 (RTSP 1.0, https://www.rfc-editor.org/rfc/rfc2326): §6 request
  line, §7 status line ``RTSP/1.0 SP code SP reason``, §10.1 OPTIONS,
  §10.2 DESCRIBE, §12.17 CSeq (mandatory in every request), §12.14 Content-Length,
  §12.44 WWW-Authenticate (syntax of RFC 2617: ``scheme realm="..."``).
- RFC 4566 (SDP, https://www.rfc-editor.org/rfc/rfc4566) §5: a session description
  is ``<type>=<value>`` lines; §5.2 ``o=`` origin (its first token the user name),
  §5.3 ``s=`` session name, §5.4 ``i=`` session information, §6 ``a=tool:`` the tool
  that wrote it. Only lines before the first ``m=`` (the session level, §5) are read:
  a camera's streaming stack names itself there.
- nmap-service-probes (nmap/nmap, file ``nmap-service-probes``) sends
  ``OPTIONS / RTSP/1.0`` as its RTSPRequest probe; we send the full
  ``rtsp://address:port/`` URL that RFC 2326 §3.2 asks for plus a CSeq.

Fields (``rtsp`` in the vocabulary): method, path, status (int), server, realm,
auth_scheme, public (list), content_type, and from an SDP body sdp_origin, sdp_session,
sdp_info, sdp_tool.

The reply is parsed by :mod:`camaudit.probes.httpwire` with ``protocol=b"RTSP"``
(RTSP reuses HTTP/1.1 message syntax) and the challenge by
:mod:`camaudit.probes.httpauth`; only the request line differs (RTSP wants an
absolute ``rtsp://`` URL), so requests are built here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation
from camaudit.netio import Connection, Net, NetError, open_tcp
from camaudit.probes import httpauth, httpwire
from camaudit.probes.base import Probe

#: Largest reply (head and SDP body) we read.
MAX_REPLY = 24 * 1024
#: SDP session-level lines kept (RFC 4566 §5), by type letter; longest value kept.
_SDP_FIELDS = {"o": "sdp_origin", "s": "sdp_session", "i": "sdp_info"}
MAX_SDP_VALUE = 256


def build_request(method: str, address: str, port: int, cseq: int) -> bytes:
    """An RTSP/1.0 request without credentials (RFC 2326 §6, CSeq per §12.17)."""
    host = f"[{address}]" if ":" in address else address
    lines = [f"{method} rtsp://{host}:{port}/ RTSP/1.0", f"CSeq: {cseq}",
             f"User-Agent: {httpwire.USER_AGENT}"]
    if method == "DESCRIBE":
        lines.append("Accept: application/sdp")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def parse_response(data: bytes) -> dict[str, FieldValue]:
    """An RTSP reply -> fields; ParseError if it is not RTSP."""
    reply = httpwire.parse_response(data, protocol=b"RTSP", eof=True)
    fields: dict[str, FieldValue] = {"status": reply.status}
    server = reply.header("Server")
    if server:
        fields["server"] = server[:512]
    public = [m.strip() for v in reply.header_all("Public") for m in v.split(",")]
    if any(public):
        fields["public"] = [m[:32] for m in public if m][:32]
    ctype = reply.header("Content-Type")
    if ctype:
        fields["content_type"] = ctype[:128]
    if ctype and ctype.split(";")[0].strip().lower() == "application/sdp":
        fields.update(parse_sdp_session(reply.body))
    challenges = [c for v in reply.header_all("WWW-Authenticate")
                  for c in httpauth.parse_challenges(v)]
    if challenges:
        fields["auth_scheme"] = challenges[0].scheme[:32]
        realm = next((c.realm for c in challenges if c.realm is not None), None)
        if realm is not None:
            fields["realm"] = realm[:256]
    return fields


def request_path(target: str) -> str:
    """The path and query of a request's ``rtsp://host:port/path?query`` URL (RFC 2326 §3.2):
    what a client asked a camera for (``/Streaming/Channels/101``, ``/cam/realmonitor?...``)."""
    parts = urlsplit(target)
    path = (parts.path or "/") if parts.scheme else target
    return (path + (f"?{parts.query}" if parts.query else ""))[:MAX_SDP_VALUE]


def parse_sdp_session(body: bytes) -> dict[str, FieldValue]:
    """The session-level origin, name, information and tool of an SDP body (RFC 4566 §5).

    Lines are read up to the first media description (``m=``); a value that is
    not text or is empty is skipped, never an error: the SDP only adds evidence.
    """
    out: dict[str, FieldValue] = {}
    for raw_line in body[:MAX_REPLY].splitlines():
        line = raw_line.decode("utf-8", "replace").strip()
        if line.startswith("m="):
            break
        kind, sep, value = line.partition("=")
        value = value.strip()[:MAX_SDP_VALUE]
        if not sep or not value:
            continue
        if kind in _SDP_FIELDS:
            out.setdefault(_SDP_FIELDS[kind], value)
        elif kind == "a" and value.startswith("tool:") and value[5:].strip():
            out.setdefault("sdp_tool", value[5:].strip())
    return out


def _complete(data: bytes) -> bool:
    try:
        return httpwire.message_end(data, protocol=b"RTSP") is not None
    except ParseError:
        return True  # not RTSP: no point waiting for more


async def _exchange(conn: Connection, request: bytes) -> bytes:
    await conn.send(request)
    return await conn.read_until_idle(cap=MAX_REPLY, done=_complete)


async def run(net: Net, address: str, port: int) -> list[Observation]:
    """OPTIONS then DESCRIBE on one connection; one observation per answered request."""
    out: list[Observation] = []
    async with open_tcp(net, address, port, why="rtsp probe") as conn:
        for cseq, method in enumerate(("OPTIONS", "DESCRIBE"), start=1):
            try:
                reply = await _exchange(conn, build_request(method, address, port, cseq))
                fields = parse_response(reply)
            except (NetError, ParseError):
                break
            fields["method"] = method
            fields["path"] = "/"  # what build_request asks for
            out.append(Observation(address=address, port=port, probe="rtsp", fields=fields,
                                   raw=reply))
    return out


PROBE = Probe(name="rtsp", ports=frozenset({554, 8554}), run=run, order=20)
