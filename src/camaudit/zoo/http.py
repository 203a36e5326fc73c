"""HTTP/1.x as the persona's web server speaks it: route table, real headers, 401s, 404s.

A service (``proto: http`` or ``https``; TLS is added by the server) holds:

    server_headers: [ordered header lines, templated; "{{length}}" marks where
                     Content-Length goes, else it is appended]
    auth: {challenge: "Digest realm=...", status_line, headers, body, origin}
    not_found: {status_line, headers, body, origin}
    routes: [{method, path, prefix, status_line, headers, body | body_hex | body_file |
              body_var, auth (bool), no_length (bool), json_login, denied, origin}]
    onvif: {...}  (see camaudit.zoo.onvif), answered on POST to its path
    keep_alive: true | false  (default: as each reply says, see :func:`stays_open`)

Routes match on method (``*`` for any; HEAD uses the GET route) and on the
full target, then the path without the query, then prefix routes. A route's
path may hold ``{{name}}`` device values (a session token, say). A route with
``json_login: {user: "0.param.User.userName", password: "0.param.User.password"}``
reads those dotted paths (list indices are numbers) from the JSON request body
and serves the route only to the zoo login; anything else gets its ``denied``
item - a login carried in the body, as Reolink's API does. A route or
``not_found`` item ``{close: true}`` stands for a reply nobody has published: the
persona closes the connection rather than answer with something invented. A route with
``body_var: name`` serves the persona variable `name` as its body, and is absent (the
``not_found`` reply) for a persona whose variable is empty: a family base can offer a
configuration table that only some of its members hold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from camaudit.zoo import auth, onvif
from camaudit.zoo.render import ZOO_PASSWORD, ZOO_USER, Device, as_bytes, fill
from camaudit.zoo.wire import Answer, Head

_DEFAULT_404 = {"status_line": "HTTP/1.1 404 Not Found", "headers": ["Content-Type: text/html"],
                "body": "<html><body>404 Not Found</body></html>"}


@lru_cache(maxsize=256)
def _body_file(name: str) -> bytes:
    return (resources.files("camaudit.zoo") / "personas" / "files" / name).read_bytes()


def body_of(item: Mapping[str, Any]) -> bytes:
    """A route's body: inline text, hex, a file under personas/files/, or a variable."""
    if "body_var" in item:
        return b"{{" + str(item["body_var"]).encode() + b"}}"
    if "body_file" in item:
        return _body_file(str(item["body_file"]))
    return as_bytes(item)


def build_response(item: Mapping[str, Any], service: Mapping[str, Any], device: Device,
                   body: bytes | None = None, head_only: bool = False) -> bytes:
    """Status line, the service's ordered headers, the route's headers, then the body.

    Empty for a ``close: true`` item (a reply that is not published).
    """
    if item.get("close"):
        return b""
    values = device.values()
    payload = fill(body_of(item) if body is None else body, values)
    length = str(len(payload)).encode()
    extra = {b"length": length}
    lines = [str(item.get("status_line", "HTTP/1.1 200 OK"))]
    lines += [str(h) for h in service.get("server_headers", ()) or ()]
    lines += [str(h) for h in item.get("headers", ()) or ()]
    head = "\r\n".join(lines).encode("latin-1", "replace")
    head = fill(head, values, extra)
    if b"{{length}}" not in "\r\n".join(lines).encode("latin-1", "replace") and not item.get(
            "no_length"):
        head += b"\r\nContent-Length: " + length
    return head + b"\r\n\r\n" + (b"" if head_only else payload)


def _json_at(doc: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        elif isinstance(doc, dict) and part in doc:
            doc = doc[part]
        else:
            return None
    return doc


def json_login_ok(spec: Mapping[str, Any], body: bytes) -> bool:
    """Whether the JSON request body carries the zoo login at the spec's dotted paths."""
    try:
        doc = json.loads(body[:65536])
    except (ValueError, RecursionError):
        return False
    user = _json_at(doc, str(spec.get("user", "")))
    password = _json_at(doc, str(spec.get("password", "")))
    return bool(user == ZOO_USER and password == ZOO_PASSWORD)


def _route(service: Mapping[str, Any], method: str, target: str,
           device: Device | None = None) -> Mapping[str, Any] | None:
    routes: list[Mapping[str, Any]] = list(service.get("routes", ()) or ())
    path = target.split("?", 1)[0]
    want = "GET" if method == "HEAD" else method
    values = device.values() if device is not None else {}

    def ok(r: Mapping[str, Any]) -> bool:
        return str(r.get("method", "GET")) in ("*", want)

    def where(r: Mapping[str, Any]) -> str:
        text = str(r.get("path"))
        return fill(text.encode(), values).decode() if "{{" in text else text

    for r in routes:
        if ok(r) and not r.get("prefix") and where(r) == target:
            return r
    for r in routes:
        if ok(r) and not r.get("prefix") and where(r) == path:
            return r
    for r in routes:
        if ok(r) and r.get("prefix") and target.startswith(str(r.get("path"))):
            return r
    return None


def respond(service: Mapping[str, Any], device: Device, method: str, target: str,
            authorization: str | None, body: bytes) -> bytes:
    """The full response bytes for one request (sans-IO: no socket here)."""
    head_only = method == "HEAD"
    route = _route(service, method, target, device)
    ov = service.get("onvif")
    if route is None and ov and method == "POST" and target.split("?")[0] == ov.get("path"):
        status, reply = onvif.answer(ov, device, body, authorization)
        item = {"status_line": status, "headers": ["Content-Type: application/soap+xml; "
                                                    "charset=utf-8"]}
        if status.split(" ")[1] == "401":
            challenge = (service.get("auth") or {}).get("challenge", 'Digest realm="onvif"')
            item["headers"] = [*item["headers"], f"WWW-Authenticate: {challenge}"]
        return build_response(item, service, device, body=reply)
    if route is not None and route.get("body_var") and not device.values().get(
            str(route["body_var"]).encode()):
        route = None
    if route is None:
        return build_response(service.get("not_found") or _DEFAULT_404, service, device,
                              head_only=head_only)
    if route.get("auth") and not auth.check(authorization, method):
        challenge = service.get("auth") or {}
        item = dict(challenge)
        item.setdefault("status_line", "HTTP/1.1 401 Unauthorized")
        item["headers"] = [*(challenge.get("headers") or ()),
                           f"WWW-Authenticate: {challenge.get('challenge', 'Basic realm=zoo')}"]
        return build_response(item, service, device, head_only=head_only)
    login = route.get("json_login")
    if login and not json_login_ok(login, body):
        return build_response(route.get("denied") or _DEFAULT_404, service, device,
                              head_only=head_only)
    return build_response(route, service, device, head_only=head_only)


def _reply_head(reply: bytes) -> tuple[str, str, dict[str, str]]:
    """Version, status code and headers (lower-case) of a reply the persona sends."""
    lines = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip().lower())
    version, _, rest = lines[0].partition(" ")
    return version, rest[:3], headers


def stays_open(reply: bytes, request: Head, setting: bool | None = None) -> bool:
    """Whether the connection outlives `reply`, as HTTP/1.1 says (RFC 9112 9.3, 9.6).

    The persona's status line and headers are the device's own, and they decide: a
    reply that says ``Connection: close``, an HTTP/1.0 reply without ``Connection:
    keep-alive`` and a reply that has no length (its end is the close) end the
    connection, as on the device; otherwise it stays open for the client's next
    request unless the client asked to close. A service's ``keep_alive`` overrides the
    reply (True: keep, False: close after every reply).
    """
    asked = (request.header("Connection") or "").lower()
    if setting is False or asked == "close" or (request.version == "HTTP/1.0"
                                                and asked != "keep-alive"):
        return False
    if setting is True:
        return True
    version, status, headers = _reply_head(reply)
    said = headers.get("connection", "")
    framed = ("content-length" in headers or "chunked" in headers.get("transfer-encoding", "")
              or request.method == "HEAD" or status in ("204", "304"))
    if not framed or "close" in said:
        return False
    return version == "HTTP/1.1" or "keep-alive" in said


#: The reply to a request head that does not parse.
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"


def answerer(device: Device, service: Mapping[str, Any]) -> Answer:
    """The service's answer to each request on a connection (see wire.RequestServer)."""
    setting = service.get("keep_alive")
    keep = None if setting is None else bool(setting)

    def answer(head: Head, body: bytes) -> tuple[bytes, bool]:
        reply = respond(service, device, head.method, head.target,
                        head.header("Authorization"), body)
        return reply, bool(reply) and stays_open(reply, head, keep)

    return answer
