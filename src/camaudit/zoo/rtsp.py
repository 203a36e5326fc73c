"""RTSP/1.0 (RFC 2326) as the persona's media server answers OPTIONS, DESCRIBE and the rest.

Service config (``proto: rtsp``):

    responses: {METHOD or "*": {status_line, headers: [...], body, origin}}

Header lines are templated; ``{{cseq}}`` is the request's CSeq, ``{{nonce}}``
a fresh nonce. A persona whose real server omits CSeq (nmap shows Hikvision
DVRs doing so) simply leaves it out of its headers. An item ``{close: true}``
stands for a reply nobody has published: the persona closes the connection
rather than answer with something invented.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from camaudit.zoo.render import Device, as_bytes, fill
from camaudit.zoo.wire import Answer, Head

_DEFAULT = {"status_line": "RTSP/1.0 405 Method Not Allowed", "headers": ["CSeq: {{cseq}}"]}


def respond(service: Mapping[str, Any], device: Device, method: str, cseq: str) -> bytes:
    """The response bytes for one RTSP request (sans-IO)."""
    table = service.get("responses") or {}
    item = table.get(method) or table.get("*") or _DEFAULT
    if item.get("close"):
        return b""
    body = as_bytes(item)
    lines = [str(item.get("status_line", "RTSP/1.0 200 OK")), *map(str, item.get("headers", ()))]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    extra = {b"cseq": cseq.encode("latin-1", "replace")[:32]}
    head = fill("\r\n".join(lines).encode("latin-1", "replace"), device.values(), extra)
    return head + b"\r\n\r\n" + fill(body, device.values(), extra)


#: The reply to a request head that does not parse.
BAD_REQUEST = b"RTSP/1.0 400 Bad Request\r\n\r\n"


def answerer(device: Device, service: Mapping[str, Any]) -> Answer:
    """The service's answer to each request on a connection (see wire.RequestServer); the
    connection stays open unless the service says ``close_after_reply``."""
    keep = not service.get("close_after_reply")

    def answer(head: Head, body: bytes) -> tuple[bytes, bool]:
        return respond(service, device, head.method, head.header("CSeq") or "0"), keep

    return answer
