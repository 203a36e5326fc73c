"""HTTP/HTTPS probe: a few read-only requests per web port, each reply kept as evidence.

Per port, in this order (on one connection when the device keeps it open, see
:class:`camaudit.probes.httpclient.Client`; else one connection each):

1. ``GET /`` — TLS first on :data:`TLS_PORTS`, plain elsewhere. A plain
   reply that looks like a TLS server (a TLS alert record, nginx's "plain HTTP
   request was sent to HTTPS port" page, or a silent close) is retried once
   over TLS; a failed handshake on a TLS port is retried once in plain text.
2. Redirects (301/302/303/307/308) are followed at most :data:`MAX_REDIRECTS`
   times, and only to addresses the scope gate allows
   (:func:`camaudit.probes.follow.gate`; host names are never resolved). A
   refused hop is recorded in ``redirect_refused`` and ``Scope.refused``.
3. The favicon: the page's ``<link rel="icon">`` on the same host and port,
   else ``/favicon.ico`` (as nmap's http-favicon does), hashed by
   :mod:`camaudit.probes.favicon`.
4. The vendor endpoints of :data:`camaudit.probes.vendor_http.REQUESTS`
   (ISAPI, Dahua magicBox and RPC2_Login, Axis param.cgi, Uniview LAPI).
5. With operator credentials only, on a device whose Hikvision or Dahua endpoint
   answered: the connected cameras and analytics capabilities of
   :data:`camaudit.probes.deep.REQUESTS` (read-only GETs; :meth:`_Session.deep`).
6. With operator credentials only, and only when no other vendor endpoint
   answered: Reolink's API (:meth:`_Session.reolink`). An anonymous
   ``GetDevInfo`` must first come back with Reolink's "please login first"
   error; only then is ``Login`` sent (password in the JSON body, as the API
   does), then ``GetDevInfo`` with the token, then ``Logout``. The token is
   redacted from every path and reply kept, the password from every reply kept.

Why the vendor endpoints are always asked instead of only after a hint: the
point of camaudit is to name the maker behind an OEM label, and OEM login
pages are exactly the ones that hide the maker. Each is one small read-only
request, and the whole port is bounded anyway: at most
:data:`MAX_REQUESTS` requests, :data:`TIME_FACTOR` x ``net.read_timeout``
seconds and ``net.max_bytes`` bytes. Any reply that is not a complete,
well-formed HTTP message (timeout, cap, garbage) ends the port's session, so a
hostile device costs one read timeout.

Observations: ``http`` (one per path fetched; see :func:`response_fields`),
``tls`` (once per TLS endpoint, :mod:`camaudit.probes.tls`) and the vendor
probes ``isapi``, ``dahua-cgi``, ``dahua-rpc2``, ``vapix``, ``lapi``, ``reolink``. This module holds
the HTTP family's only :data:`PROBE`.
"""

from __future__ import annotations

import codecs
import json
import re
import time
from urllib.parse import urljoin

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation, sha256_hex
from camaudit.netio import Net, NetError, Refused, TimedOut
from camaudit.probes import (
    deep,
    favicon,
    follow,
    httpauth,
    httpclient,
    httpwire,
    tls,
    vendor_http,
)
from camaudit.probes.base import Probe

PORTS = frozenset({80, 81, 88, 443, 8080, 8081, 8443, 8888})
TLS_PORTS = frozenset({443, 8443})
MAX_REDIRECTS = 2
MAX_REQUESTS = 18
#: The whole port may take this many read timeouts.
TIME_FACTOR = 3
#: Bytes read per response (the session is also bounded by net.max_bytes).
RESPONSE_CAP = 96 * 1024

BODY_TEXT = 4096
TITLE_MAX = 256
VALUE_MAX = 512
HEADERS_MAX = 64
_TITLE_SCAN = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TITLE_RE = re.compile(r"<title\b[^>]{0,256}>(.{0,2048}?)</title\s*>", re.I | re.S)
_CHARSET_RE = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._:-]{1,40})", re.I)
# Plain HTTP sent to a TLS port: nginx's 497 page (nginx/nginx
# src/http/ngx_http_special_response.c, commit d66b7a8a1ae71d0c4e2d767f4d06f05890169b56,
# checked 2026-11-25) and the TLS alert record type 21, version 3.x (RFC 8446 5.1).
_TLS_HINTS = (b"The plain HTTP request was sent to HTTPS port",)


REDACTED = "<redacted>"


def scrub(raw: bytes, secrets: tuple[str, ...]) -> bytes:
    """`raw` without any of `secrets` (as sent and JSON-escaped)."""
    for secret in secrets:
        for form in {secret, json.dumps(secret)[1:-1]}:
            if form:
                raw = raw.replace(form.encode("utf-8", "replace"), REDACTED.encode())
    return raw


def scrub_fields(fields: dict[str, FieldValue], secrets: tuple[str, ...]) -> None:
    """Remove `secrets` from every text value of `fields`, in place."""
    def one(text: str) -> str:
        for secret in secrets:
            for form in {secret, json.dumps(secret)[1:-1]}:
                if form:
                    text = text.replace(form, REDACTED)
        return text

    for key, value in fields.items():
        if isinstance(value, str):
            fields[key] = one(value)
        elif isinstance(value, list):
            fields[key] = [one(v) if isinstance(v, str) else v for v in value]


_COOKIE_VALUE_RE = re.compile(r"^(\s*[^=;]*=)[^;]*")
_SET_COOKIE_LINE_RE = re.compile(r"(?im)^(set-cookie[ \t]*:)([^\r\n]*)")


def redact_cookie(value: str) -> str:
    """A Set-Cookie value with the cookie's value hidden (name and attributes kept)."""
    return _COOKIE_VALUE_RE.sub(r"\1<redacted>", value, count=1)


def redact_raw_cookies(raw: bytes, head_size: int) -> bytes:
    """`raw` with every Set-Cookie value in its head hidden (latin-1 round-trips bytes)."""
    head = raw[:head_size].decode("latin-1")
    head = _SET_COOKIE_LINE_RE.sub(lambda m: m.group(1) + redact_cookie(m.group(2)), head)
    return head.encode("latin-1") + raw[head_size:]


def _text(value: str, limit: int = VALUE_MAX) -> str:
    return value.replace("\0", "")[:limit]


def _charset(content_type: str | None) -> str:
    match = _CHARSET_RE.search(content_type or "")
    if match:
        try:
            return codecs.lookup(match.group(1)).name
        except LookupError:
            pass
    return "utf-8"


def _is_text(content_type: str | None, body: bytes) -> bool:
    if content_type:
        low = content_type.lower()
        return low.startswith("text/") or any(k in low for k in ("xml", "json", "javascript"))
    return b"\0" not in body[:512]


def body_text(response: httpwire.Response, limit: int) -> str:
    """The first `limit` characters of a textual body, decoded by its charset."""
    data = response.body[: limit * 4]
    try:
        text = data.decode(_charset(response.header("Content-Type")), "replace")
    except (LookupError, UnicodeError, ValueError):  # "charset=base64", "idna", ...
        text = data.decode("utf-8", "replace")
    return text.replace("\0", "")[:limit]


def response_fields(response: httpwire.Response, *,
                    redact_cookies: bool = False) -> dict[str, FieldValue]:
    """The ``http`` fields of one response (strings as sent, NULs removed, capped)."""
    fields: dict[str, FieldValue] = {"status": response.status}
    content_type = response.header("Content-Type")
    for name, key in (("Server", "server"), ("Location", "location"),
                      ("Content-Type", "content_type")):
        value = response.header(name)
        if value is not None:
            fields[key] = _text(value)
    challenges = [c for v in response.header_all("WWW-Authenticate")
                  for c in httpauth.parse_challenges(v)]
    if challenges:
        fields["auth_scheme"] = _text(challenges[0].scheme, 64)
        realm = next((c.realm for c in challenges if c.realm is not None), None)
        if realm is not None:
            fields["realm"] = _text(realm)
    headers = []
    for name, value in response.headers[:HEADERS_MAX]:
        if redact_cookies and name.lower() == "set-cookie":
            value = redact_cookie(value)
        headers.append(_text(f"{name}: {value}"))
    fields["headers"] = headers
    if response.body and _is_text(content_type, response.body):
        fields["body"] = body_text(response, BODY_TEXT)
        match = _TITLE_RE.search(body_text(response, _TITLE_SCAN))
        if match:
            fields["title"] = _text(match.group(1).strip(), TITLE_MAX)
    return fields


def parse_http(raw: bytes, *, method: str = "GET") -> dict[str, FieldValue]:
    """Sans-IO entry point: the ``http`` fields of a raw response; ParseError if not HTTP."""
    return response_fields(httpwire.parse_response(raw, method=method))


def looks_like_tls(exchange: httpclient.Exchange) -> bool:
    """A plain-text request hit a TLS server (alert record, nginx 497 page, silent close).

    A silent close may reach us as a reset instead, when our request arrived after it.
    """
    raw = exchange.raw
    if not raw:
        error = exchange.error or ""
        return error == "closed without a reply" or error.startswith("connection broken")
    if raw[:1] == b"\x15" and raw[1:2] == b"\x03":
        return True
    return exchange.status == 400 and any(h in raw for h in _TLS_HINTS)


def _url(target: follow.Target, path: str) -> str:
    host = httpwire.host_header(target.host, target.port, target.scheme == "https")
    return f"{target.scheme}://{host}{path}"


class _Session:
    """The requests made on one web port, sharing one time, byte and request budget."""

    def __init__(self, net: Net, address: str, port: int) -> None:
        self.net = net
        self.address = address
        self.port = port
        self.deadline = time.monotonic() + TIME_FACTOR * net.read_timeout
        self.bytes_left = net.max_bytes
        self.requests = 0
        self.extra = 0  # requests allowed past MAX_REQUESTS (the credentialed reads)
        self.observations: list[Observation] = []
        self.certs: set[tuple[str, int]] = set()
        self.last_http: Observation | None = None  # the observation of the latest reply
        #: one client per endpoint (redirects may lead to another), each keeping its
        #: connection for the next request when the device allows it
        self.clients: dict[tuple[str, int, str], httpclient.Client] = {}

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()

    def _can_ask(self) -> bool:
        return (self.requests < MAX_REQUESTS + self.extra and self.bytes_left > 0
                and self.deadline - time.monotonic() > 0)

    async def fetch(self, target: follow.Target, method: str = "GET", path: str | None = None,
                    *, body: bytes = b"", content_type: str | None = None, record: bool = True
                    ) -> httpclient.Exchange | None:
        """One request within the session budget; records its observations unless told not."""
        if not self._can_ask():
            return None
        self.requests += 1
        path = path or target.path
        key = (target.host, target.port, target.scheme)
        client = self.clients.get(key)
        if client is None:
            client = self.clients[key] = httpclient.Client(
                self.net, target.host, target.port, tls=target.scheme == "https", why="http")
        exchange = await client.request(
            method, path, body=body, content_type=content_type,
            cap=min(RESPONSE_CAP, self.bytes_left),
            deadline=min(self.net.read_timeout, max(0.05, self.deadline - time.monotonic())))
        for ex in (exchange.challenged, exchange):
            if ex is not None:
                self.bytes_left -= len(ex.raw)
                if record:
                    self._record(target, path, ex)
        return exchange

    def _record(self, target: follow.Target, path: str, ex: httpclient.Exchange,
                secrets: tuple[str, ...] = ()) -> None:
        if ex.cert and (target.host, target.port) not in self.certs:
            self.certs.add((target.host, target.port))
            try:
                cert_fields = tls.parse_certificate(ex.cert)
            except ParseError as exc:
                cert_fields = {"error": _text(str(exc))}
            self.observations.append(Observation(target.host, target.port, "tls",
                                                 cert_fields, raw=ex.cert))
        if not ex.raw:
            return
        fields: dict[str, FieldValue] = {"path": _text(path, 1024), "tls": ex.tls}
        raw = ex.raw
        if ex.response is not None:
            fields.update(response_fields(ex.response, redact_cookies=ex.authenticated))
            if ex.authenticated:  # a session won with the operator's login is a secret too
                raw = redact_raw_cookies(raw, ex.response.head_size)
        if ex.error is not None:
            fields["error"] = _text(ex.error)
        if secrets:
            raw = scrub(raw, secrets)
            scrub_fields(fields, secrets)
        self.last_http = Observation(target.host, target.port, "http", fields, raw=raw,
                                     raw_size=len(ex.raw))
        self.observations.append(self.last_http)

    async def root(self) -> tuple[follow.Target, httpclient.Exchange] | None:
        """``GET /`` with TLS detection; NetError only if no connection could be made."""
        schemes = ["https", "http"] if self.port in TLS_PORTS else ["http", "https"]
        first = follow.Target(schemes[0], self.address, self.port, "/")
        try:
            exchange = await self.fetch(first)
        except (Refused, TimedOut):
            if schemes[0] != "https":
                raise
            exchange = None  # handshake failed or hung: maybe plain HTTP on a TLS port
        if exchange is not None and (schemes[0] == "https" or not looks_like_tls(exchange)):
            return first, exchange
        second = follow.Target(schemes[1], self.address, self.port, "/")
        try:
            retry = await self.fetch(second)
        except NetError:
            if exchange is None:
                raise
            return first, exchange
        if retry is None:
            return (first, exchange) if exchange is not None else None
        return second, retry

    async def redirects(self, target: follow.Target,
                        exchange: httpclient.Exchange) -> tuple[follow.Target,
                                                                httpclient.Exchange]:
        """Follow in-scope redirects; return the landing page."""
        seen = {(target.host, target.port, target.scheme, target.path)}
        for _ in range(MAX_REDIRECTS):
            location = exchange.response.header("Location") if exchange.response else None
            if exchange.status not in _REDIRECTS or not location:
                break
            url = urljoin(_url(target, target.path), location.strip())
            nxt = follow.gate(self.net, url,
                              f"redirect from {self.address}:{self.port}{target.path}")
            if nxt is None:
                if self.last_http is not None:
                    self.last_http.fields["redirect_refused"] = _text(location)
                break
            key = (nxt.host, nxt.port, nxt.scheme, nxt.path)
            if key in seen:
                break
            seen.add(key)
            try:
                hop = await self.fetch(nxt)
            except NetError:
                break
            if hop is None or not hop.ok:
                break
            target, exchange = nxt, hop
        return target, exchange

    async def favicon(self, target: follow.Target, exchange: httpclient.Exchange) -> None:
        """Hash the page's icon (same host and port) or ``/favicon.ico``."""
        paths = []
        response = exchange.response
        if response is not None and _is_text(response.header("Content-Type"), response.body):
            href = favicon.icon_href(body_text(response, favicon.MAX_SCAN))
            if href:
                icon = follow.parse_target(urljoin(_url(target, target.path), href))
                if icon and (icon.host, icon.port, icon.scheme) == (
                        target.host, target.port, target.scheme):
                    paths.append(icon.path)
        if "/favicon.ico" not in paths:
            paths.append("/favicon.ico")
        for path in paths:
            try:
                got = await self.fetch(target, path=path)
            except NetError:
                return
            if got is None or not got.ok:
                return
            if (got.status == 200 and got.response is not None and _is_icon(got.response)
                    and self.last_http is not None):
                self.last_http.fields.update(favicon.favicon_hashes(got.response.body))
                return

    async def vendors(self, target: follow.Target) -> set[str]:
        """Ask each vendor endpoint; a well-formed 200 adds that vendor's observation.

        Returns the keys of the requests that were answered and read.
        """
        succeeded: set[str] = set()
        for req in vendor_http.REQUESTS:
            if req.after is not None and req.after not in succeeded:
                continue
            try:
                got = await self.fetch(target, req.method, req.path, body=req.body,
                                       content_type=req.content_type)
            except NetError:
                return succeeded
            if got is None or not got.ok:
                return succeeded  # out of budget, or the device stopped answering properly
            if got.status != 200 or got.response is None:
                continue
            try:
                fields = req.parse(got.response.body)
            except ParseError:
                continue
            succeeded.add(req.key)
            self.observations.append(Observation(target.host, target.port, req.probe,
                                                 fields, raw=got.response.body))
        return succeeded

    async def deep(self, target: follow.Target, succeeded: set[str]) -> None:
        """Connected cameras and analytics, with the operator's login (probes/deep.py)."""
        if self.net.credentials is None:
            return
        wanted = [r for r in deep.REQUESTS if succeeded.intersection(r.after)]
        self.extra = len(wanted)
        for req in wanted:
            try:
                got = await self.fetch(target, "GET", req.path)
            except NetError:
                return
            if got is None or not got.ok:
                return
            if got.status != 200 or got.response is None:
                continue
            body = got.response.body
            try:
                channels, analytics = deep.parse(req.key, body)
            except ParseError:
                continue
            document = f"sha256:{sha256_hex(body)}"
            for fields in analytics:
                self.observations.append(Observation(target.host, target.port, "analytics",
                                                     fields, raw=body))
            for fields in channels:
                fields["document"] = document
                self.observations.append(Observation(target.host, target.port, "channel",
                                                     fields))

    async def _reolink_call(self, target: follow.Target, cmd: str, body: bytes,
                            token: str | None, secrets: tuple[str, ...]
                            ) -> httpclient.Exchange | None:
        """One Reolink API POST; recorded with the token and password redacted."""
        path = f"{vendor_http.REOLINK_API}?cmd={cmd}&token={token or 'null'}"
        shown = f"{vendor_http.REOLINK_API}?cmd={cmd}&token={REDACTED if token else 'null'}"
        try:
            got = await self.fetch(target, "POST", path, body=body,
                                   content_type="application/json", record=False)
        except NetError:
            return None
        if got is None:
            return None
        for ex in (got.challenged, got):
            if ex is not None:
                self._record(target, shown, ex, secrets)
        return got if got.ok and got.status == 200 and got.response is not None else None

    async def reolink(self, target: follow.Target) -> None:
        """Reolink firmware through its API, with the operator's login (see module doc)."""
        creds = self.net.credentials
        if creds is None or not creds.password:
            return
        try:
            probe = await self.fetch(target, "POST",
                                     f"{vendor_http.REOLINK_API}?cmd=GetDevInfo",
                                     body=vendor_http.REOLINK_DEVINFO_BODY,
                                     content_type="application/json")
        except NetError:
            return
        if probe is None or not probe.ok or probe.response is None:
            return
        try:
            if not vendor_http.reolink_needs_login(probe.response.body):
                return  # not Reolink's "please login first": the password stays here
        except ParseError:
            return
        secrets: tuple[str, ...] = (creds.password,)
        login = await self._reolink_call(
            target, "Login", vendor_http.reolink_login_body(creds.user, creds.password),
            None, secrets)
        if login is None or login.response is None:
            return
        try:
            token = vendor_http.parse_reolink_login(login.response.body)
        except ParseError:
            return
        secrets = (creds.password, token)
        # the login reply was recorded before the token was known: scrub it now
        for obs in self.observations:
            if obs.probe == "http" and obs.raw and token.encode() in obs.raw:
                obs.raw = scrub(obs.raw, secrets)
                scrub_fields(obs.fields, secrets)
        info = await self._reolink_call(target, "GetDevInfo", vendor_http.REOLINK_DEVINFO_BODY,
                                        token, secrets)
        if info is not None and info.response is not None:
            try:
                fields = vendor_http.parse_reolink_devinfo(info.response.body)
            except ParseError:
                fields = {}
            if fields:
                scrub_fields(fields, secrets)
                self.observations.append(Observation(
                    target.host, target.port, "reolink", fields,
                    raw=scrub(info.response.body, secrets)))
        await self._reolink_call(target, "Logout", b'[{"cmd":"Logout","action":0,"param":{}}]',
                                 token, secrets)


def _is_icon(response: httpwire.Response) -> bool:
    """A non-empty body that is not an HTML page served for every path."""
    body = response.body
    if not body:
        return False
    if "html" in (response.header("Content-Type") or "").lower():
        return False
    head = body.lstrip()[:15].lower()
    return not (head.startswith(b"<!doctype html") or head.startswith(b"<html"))


async def run(net: Net, address: str, port: int) -> list[Observation]:
    """Probe one web port; NetError only when no connection could be made at all."""
    session = _Session(net, address, port)
    try:
        return await _requests(session)
    finally:
        await session.close()


async def _requests(session: _Session) -> list[Observation]:
    """The requests of the module docstring, in order, within the session's budget."""
    first = await session.root()
    if first is None:
        return session.observations
    target, exchange = first
    if not exchange.ok:
        return session.observations  # slow, oversized or not HTTP: stop here
    landing, page = await session.redirects(target, exchange)
    await session.favicon(landing, page)
    succeeded = await session.vendors(target)
    if succeeded:
        await session.deep(target, succeeded)
    else:
        await session.reolink(target)
    return session.observations


PROBE = Probe(name="http", ports=PORTS, run=run, order=40, any_port=True)
