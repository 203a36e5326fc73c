"""ONVIF device service: GetSystemDateAndTime, GetDeviceInformation, GetScopes over SOAP/HTTP.

With the operator's login, any maker's device is also asked GetCapabilities (the service
addresses it offers, analytics among them) and GetNetworkInterfaces (its MAC address):
the maker-neutral way to read model, firmware and MAC.

ONVIF cameras and recorders answer SOAP 1.2 POSTs on their HTTP port at
``/onvif/device_service``. GetSystemDateAndTime must be answered without
authentication (so clients can sync clocks); many devices also answer
GetDeviceInformation and GetScopes without it. When a call is refused and
the operator supplied credentials (``Net.credentials``), it is retried once
with a WS-Security UsernameToken (password digest); a device that asks for
HTTP Digest instead is answered by :mod:`camaudit.probes.httpclient`, which
also bounds every exchange (bytes and time). Every call is a read.

On ports shared with other protocols (8000 is also Hikvision's SDK port) the
first reply decides: if it is not HTTP, no further request is sent.

Sources (checked 2026-11-25):
- ONVIF Core Specification v2.x (https://www.onvif.org/specs/core/ONVIF-Core-Specification.pdf):
  §5.9.2 device service entry point ``http://<address>/onvif/device_service``;
  §5.12 security, ``GetSystemDateAndTime`` pre-authentication; §8.3.1
  GetDeviceInformation (Manufacturer, Model, FirmwareVersion, SerialNumber,
  HardwareId); §8.3.2 GetScopes (Scopes/ScopeItem); §5.11.2 SOAP faults
  (``ter:NotAuthorized``).
- ONVIF device WSDL, namespace http://www.onvif.org/ver10/device/wsdl
  (https://www.onvif.org/ver10/device/wsdl/devicemgmt.wsdl), schema
  http://www.onvif.org/ver10/schema (UTCDateTime/Date/Time).
- OASIS Web Services Security UsernameToken Profile 1.0 §3.1
  (https://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0.pdf):
  ``PasswordDigest = Base64(SHA-1(nonce + created + password))``.
- ONVIF Core Specification §8.1.2.2 GetCapabilities (Capabilities/<Service>/XAddr, e.g.
  Analytics, Media, Device) and §8.2.6 GetNetworkInterfaces
  (NetworkInterfaces/Info/HwAddress, Info/Name); devicemgmt.wsdl above.
- SOAP 1.2 Part 1 §5.4 Fault (Code/Value, Subcode/Value, Reason/Text)
  (https://www.w3.org/TR/soap12-part1/#soapfault); SOAP 1.1 faultcode/faultstring.

No genuine captured GetDeviceInformation reply was found in public sources
(see shared/fixtures/README.md); tests build replies from the WSDL above.

Fields (``onvif``): action, status (int, HTTP), manufacturer, model, firmware,
serial, hardware_id, scopes (list), device_time (UTC, ISO 8601), fault,
authenticated (bool: credentials were used for this answer); with a login also
capabilities (list: "<Service> <XAddr>" pairs), mac, interface; and one ``analytics``
observation of the Analytics service (:mod:`camaudit.probes.onvif_analytics`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import time
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation
from camaudit.netio import Net, NetError
from camaudit.probes import follow, httpclient, onvif_analytics
from camaudit.probes.base import Credentials, Probe
from camaudit.probes.xmlsafe import child_text, first_text, iter_local, local, parse_xml

DEVICE_PATH = "/onvif/device_service"
NS_DEVICE = "http://www.onvif.org/ver10/device/wsdl"
ACTIONS = ("GetSystemDateAndTime", "GetDeviceInformation", "GetScopes")
#: Asked only with the operator's login, after the device answered the questions above.
LOGIN_ACTIONS = ("GetCapabilities", "GetNetworkInterfaces")
#: Largest SOAP reply we read.
MAX_REPLY = 128 * 1024
#: Whole-probe time budget, in read timeouts.
BUDGET_READS = 4

_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_DIGEST_TYPE = ("http://docs.oasis-open.org/wss/2004/01/"
                "oasis-200401-wss-username-token-profile-1.0#PasswordDigest")
_NONCE_TYPE = ("http://docs.oasis-open.org/wss/2004/01/"
               "oasis-200401-wss-soap-message-security-1.0#Base64Binary")
_INFO_FIELDS = (("Manufacturer", "manufacturer"), ("Model", "model"),
                ("FirmwareVersion", "firmware"), ("SerialNumber", "serial"),
                ("HardwareId", "hardware_id"))


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WS-Security UsernameToken PasswordDigest (UsernameToken Profile 1.0 §3.1)."""
    raw = nonce + created.encode("utf-8") + password.encode("utf-8")
    return base64.b64encode(hashlib.sha1(raw).digest()).decode("ascii")


def security_header(creds: Credentials, created: datetime, nonce: bytes | None = None) -> str:
    """A ``wsse:Security`` header carrying a digest UsernameToken."""
    nonce = nonce if nonce is not None else os.urandom(16)
    stamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f'<wsse:Security xmlns:wsse="{_WSSE}" xmlns:wsu="{_WSU}">'
            "<wsse:UsernameToken>"
            f"<wsse:Username>{escape(creds.user)}</wsse:Username>"
            f'<wsse:Password Type="{_DIGEST_TYPE}">'
            f"{password_digest(nonce, stamp, creds.password)}</wsse:Password>"
            f'<wsse:Nonce EncodingType="{_NONCE_TYPE}">'
            f"{base64.b64encode(nonce).decode('ascii')}</wsse:Nonce>"
            f"<wsu:Created>{stamp}</wsu:Created>"
            "</wsse:UsernameToken></wsse:Security>")


def build_envelope(action: str, security: str = "") -> bytes:
    """A SOAP 1.2 envelope calling a parameterless device-service `action`."""
    if action not in ACTIONS + LOGIN_ACTIONS:
        raise ValueError(f"unsupported ONVIF action {action!r}")
    header = f"<s:Header>{security}</s:Header>" if security else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
            f'{header}<s:Body><{action} xmlns="{NS_DEVICE}"/></s:Body></s:Envelope>').encode()


def _fault(root: Element) -> str | None:
    """The most specific fault code of a SOAP 1.2 or 1.1 fault, else None."""
    for fault in iter_local(root, "Fault"):
        values = [(v.text or "").strip() for v in iter_local(fault, "Value")]
        code = next((v for v in reversed(values) if v), None)
        code = code or first_text(fault, "faultcode")
        reason = first_text(fault, "Text") or first_text(fault, "faultstring")
        return (code or reason or "fault")[:256]
    return None


def _utc_time(root: Element) -> str | None:
    """``UTCDateTime`` (tt:Date Year/Month/Day, tt:Time Hour/Minute/Second) as ISO 8601."""
    for utc in iter_local(root, "UTCDateTime"):
        parts: dict[str, int] = {}
        for name in ("Year", "Month", "Day", "Hour", "Minute", "Second"):
            text = first_text(utc, name)
            if text is None or not text.isdigit() or len(text) > 4:
                return None
            parts[name] = int(text)
        try:
            stamp = datetime(parts["Year"], parts["Month"], parts["Day"], parts["Hour"],
                             parts["Minute"], parts["Second"], tzinfo=UTC)
        except ValueError:
            return None
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


def parse_soap(body: bytes, action: str) -> dict[str, FieldValue]:
    """A SOAP reply to `action` -> fields; ParseError when it is neither an answer nor a fault."""
    root = parse_xml(body, what=f"onvif {action} reply")
    if local(root.tag) != "Envelope":
        raise ParseError(f"onvif {action} reply: root is not a SOAP Envelope", offset=0)
    fields: dict[str, FieldValue] = {"action": action}
    fault = _fault(root)
    if fault is not None:
        fields["fault"] = fault
        return fields
    answer = next(iter_local(root, f"{action}Response"), None)
    if answer is None:
        raise ParseError(f"onvif {action} reply: no {action}Response element", offset=0)
    if action == "GetDeviceInformation":
        for element, name in _INFO_FIELDS:
            value = child_text(answer, element)
            if value:
                fields[name] = value
    elif action == "GetCapabilities":
        services: list[str] = []
        for caps in iter_local(answer, "Capabilities"):
            for service in caps:
                xaddr = child_text(service, "XAddr")
                name = local(service.tag)
                if xaddr and name and len(services) < 32:
                    services.append(f"{name[:40]} {xaddr[:256]}")
            break
        fields["capabilities"] = services
    elif action == "GetNetworkInterfaces":
        for info in iter_local(answer, "Info"):
            mac = child_text(info, "HwAddress")
            if mac:
                fields["mac"] = mac[:64]
                iface = child_text(info, "Name")
                if iface:
                    fields["interface"] = iface[:64]
                break
    elif action == "GetScopes":
        scopes: list[str] = []
        for item in iter_local(answer, "ScopeItem"):
            text = (item.text or "").strip()[:512]
            if text and text not in scopes and len(scopes) < 64:
                scopes.append(text)
        fields["scopes"] = scopes
    else:
        stamp = _utc_time(answer)
        if stamp:
            fields["device_time"] = stamp
    return fields


def _refused(status: int | None, fields: dict[str, FieldValue] | None) -> bool:
    return status in (400, 401, 403) or (fields is not None and "fault" in fields)


class _Session:
    """One device-service endpoint: call actions, retry with credentials, keep the clock."""

    def __init__(self, net: Net, address: str, port: int, path: str) -> None:
        self.net, self.address, self.port, self.path = net, address, port, path
        self.client = httpclient.Client(net, address, port, why="onvif probe")
        self.offset = timedelta(0)  # device clock minus ours, for UsernameToken Created
        self.deadline = time.monotonic() + BUDGET_READS * net.read_timeout
        self.secure = False  # a UsernameToken was accepted: later calls carry one directly

    async def post(self, target: follow.Target, namespace: str, action: str,
                   token: str | None = None) -> httpclient.Exchange:
        """One SOAP POST to another service of the device, with the UsernameToken."""
        creds = self.net.credentials
        security = security_header(creds, datetime.now(UTC) + self.offset) if creds else ""
        ctype = f'application/soap+xml; charset=utf-8; action="{namespace}/{action}"'
        body = onvif_analytics.envelope(namespace, action, token, security)
        return await httpclient.request(self.net, target.host, target.port, "POST", target.path,
                                        tls=target.scheme == "https", body=body,
                                        content_type=ctype, cap=onvif_analytics.MAX_REPLY,
                                        why="onvif analytics")

    async def call(self, action: str, security: str = "") -> httpclient.Exchange:
        """One SOAP POST (httpclient answers an HTTP 401 itself when we hold credentials)."""
        ctype = f'application/soap+xml; charset=utf-8; action="{NS_DEVICE}/{action}"'
        return await self.client.request("POST", self.path, body=build_envelope(action, security),
                                         content_type=ctype, cap=MAX_REPLY)

    def observe(self, action: str, ex: httpclient.Exchange,
                authenticated: bool) -> Observation | None:
        if ex.response is None:
            return None
        try:
            fields = parse_soap(ex.response.body, action)
        except ParseError:
            return None
        fields["status"] = ex.response.status
        fields["authenticated"] = authenticated or ex.authenticated
        if isinstance(fields.get("device_time"), str):
            device = datetime.strptime(str(fields["device_time"]), "%Y-%m-%dT%H:%M:%SZ")
            self.offset = device.replace(tzinfo=UTC) - datetime.now(UTC)
        return Observation(address=self.address, port=self.port, probe="onvif",
                           fields=fields, raw=ex.raw)

    async def ask(self, action: str) -> tuple[Observation | None, bool]:
        """(observation, whether the port answered HTTP at all) for one action.

        With operator credentials a refused call is retried once with a
        WS-Security UsernameToken (clock taken from the device's own answer).
        """
        creds = self.net.credentials
        if self.secure and creds is not None:  # the device took our token: send it at once
            security = security_header(creds, datetime.now(UTC) + self.offset)
            ex = await self.call(action, security)
            return self.observe(action, ex, authenticated=True), ex.response is not None
        ex = await self.call(action)
        obs = self.observe(action, ex, authenticated=False)
        if creds is None or not _refused(ex.status, obs.fields if obs else None) \
                or time.monotonic() > self.deadline:
            return obs, ex.response is not None
        security = security_header(creds, datetime.now(UTC) + self.offset)
        retry = await self.call(action, security)
        answer = self.observe(action, retry, authenticated=True)
        self.secure = answer is not None and "fault" not in answer.fields
        return answer or obs, True


async def query(net: Net, address: str, port: int,
                path: str = DEVICE_PATH) -> list[Observation]:
    """Ask the device service at address:port/path the three questions, in order."""
    session = _Session(net, address, port, path)
    async with session.client:
        return await _questions(session)


async def _questions(session: _Session) -> list[Observation]:
    """The three questions in order; then, with the operator's login, the login-only ones."""
    net = session.net
    out: list[Observation] = []
    for action in ACTIONS:
        if time.monotonic() > session.deadline:
            break
        try:
            obs, http = await session.ask(action)
        except NetError:
            break
        if not http:
            break  # not HTTP (e.g. the Hikvision SDK on 8000), or silent: ask nothing more
        if obs is None:
            if action == ACTIONS[0] and not out:
                break  # HTTP, but no ONVIF device service at this path
            continue
        out.append(obs)
    if net.credentials is not None and out and any(
            o.fields.get("action") == "GetDeviceInformation" and "fault" not in o.fields
            for o in out):
        for action in LOGIN_ACTIONS:
            if time.monotonic() > session.deadline:
                break
            try:
                obs, _ = await session.ask(action)
            except NetError:
                break
            if obs is not None and "fault" not in obs.fields:
                out.append(obs)
        with contextlib.suppress(NetError):
            found = await _analytics(session, out)
            if found is not None:
                out.append(found)
    return out


async def _analytics(session: _Session, out: list[Observation]) -> Observation | None:
    """What the device's ONVIF Analytics service offers and runs (probes/onvif_analytics.py).

    Asked only with the operator's login, of the Media and Analytics addresses the device
    gave in GetCapabilities, and only when the scope gate allows both.
    """
    creds = session.net.credentials
    caps = next((o.fields.get("capabilities") for o in out
                 if o.fields.get("action") == "GetCapabilities"), None)
    if creds is None or not isinstance(caps, list):
        return None
    services = dict(item.split(" ", 1) for item in caps if " " in item)
    why = f"ONVIF XAddr from {session.address}:{session.port}"
    media = follow.gate(session.net, services["Media"], why) if "Media" in services else None
    analytics = follow.gate(session.net, services["Analytics"], why) \
        if "Analytics" in services else None
    if media is None or analytics is None or time.monotonic() > session.deadline:
        return None
    ex = await session.post(media, onvif_analytics.NS_MEDIA, "GetVideoAnalyticsConfigurations")
    try:
        tokens = onvif_analytics.parse_configuration_tokens(ex.response.body) \
            if ex.ok and ex.response is not None else []
    except ParseError:
        tokens = []
    if not tokens:
        return None
    answers: dict[str, bytes] = {}
    for namespace, action in onvif_analytics.TOKEN_ACTIONS:
        if time.monotonic() > session.deadline:
            break
        ex = await session.post(analytics, namespace, action, tokens[0])
        if ex.ok and ex.status == 200 and ex.response is not None:
            answers[action] = ex.response.body
    try:
        fields = onvif_analytics.fields(answers)
    except ParseError:
        return None
    raw = b"\n".join(answers.values())
    return Observation(address=session.address, port=session.port, probe="analytics",
                       fields=fields, raw=raw)


async def run(net: Net, address: str, port: int) -> list[Observation]:
    return await query(net, address, port, DEVICE_PATH)


PROBE = Probe(name="onvif", ports=frozenset({80, 2020, 8000, 8080, 8899}), run=run, order=35)
