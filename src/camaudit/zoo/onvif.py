"""ONVIF device service over SOAP, as a persona's ONVIF stack answers it.

Element names follow the ONVIF device management WSDL
(https://www.onvif.org/ver10/device/wsdl/devicemgmt.wsdl) and the ONVIF Core
Specification: GetSystemDateAndTime is callable before authentication (Core
spec, access class PRE_AUTH), GetDeviceInformation / GetScopes need a login on
most firmware, and a refused call is a SOAP Fault with subcode
``ter:NotAuthorized`` (or a plain HTTP 401 on stacks that use HTTP Digest).

Persona config (``onvif:`` inside an http service):

    path: /onvif/device_service
    login: none | required        # GetDeviceInformation/GetScopes without a login
    refuse: fault | http401        # how a refused call looks
    device_information: {Manufacturer, Model, FirmwareVersion, SerialNumber, HardwareId}
    scopes: [onvif://www.onvif.org/..., ...]
    xaddr: "http://{{address}}/onvif/device_service"
    analytics: {GetSupportedAnalyticsModules: file, GetSupportedRules: file,
                GetAnalyticsModules: file, GetRules: file, token: VideoAnalyticsToken}
                                   # answered at the same path, which GetCapabilities then
                                   # gives as the Media and Analytics XAddr (files under
                                   # personas/files hold the Body's answer element)
    origin: key
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

from camaudit.zoo import auth
from camaudit.zoo.render import ZOO_PASSWORD, ZOO_USER, Device, fill

_NS = ('xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" '
       'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
       'xmlns:tt="http://www.onvif.org/ver10/schema" '
       'xmlns:ter="http://www.onvif.org/ver10/error"')
_ACTION = re.compile(rb"<(?:[\w-]+:)?(Get\w+)[\s/>]")
# "Username" must not match the enclosing <wsse:UsernameToken>: the name ends at '>' or a space.
_TOKEN = {name: re.compile(rf"<(?:[\w-]+:)?{name}(?:\s[^>]*)?>([^<]*)<".encode())
          for name in ("Username", "Password", "Nonce", "Created")}
_PRE_AUTH = {"GetSystemDateAndTime"}


@lru_cache(maxsize=64)
def _body_file(name: str) -> bytes:
    return (resources.files("camaudit.zoo") / "personas" / "files" / name).read_bytes()


def _envelope(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope {_NS}>'
            f"<SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()


def _fault(subcode: str, reason: str) -> bytes:
    return _envelope(
        "<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value>"
        f"<SOAP-ENV:Subcode><SOAP-ENV:Value>{subcode}</SOAP-ENV:Value></SOAP-ENV:Subcode>"
        f"</SOAP-ENV:Code><SOAP-ENV:Reason><SOAP-ENV:Text xml:lang=\"en\">{reason}"
        "</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault>")


def wsse_ok(body: bytes) -> bool:
    """True when a WS-Security UsernameToken digest carries the zoo login.

    PasswordDigest = Base64(SHA-1(nonce + created + password)) (WS-Security
    UsernameToken Profile 1.0, section 3.1; the ONVIF Core spec requires it).
    """
    found = {k: p.search(body[:65536]) for k, p in _TOKEN.items()}
    if any(m is None for m in found.values()):
        return False
    user, digest, nonce, created = (found[k].group(1).decode("latin-1")  # type: ignore[union-attr]
                                    for k in ("Username", "Password", "Nonce", "Created"))
    try:
        raw_nonce = base64.b64decode(nonce)
    except ValueError:
        return False
    sha = hashlib.sha1(raw_nonce + created.encode() + ZOO_PASSWORD.encode(),
                       usedforsecurity=False).digest()
    return user == ZOO_USER and base64.b64encode(sha).decode() == digest


def action_of(body: bytes) -> str | None:
    """The first Get* operation named in the SOAP body (bounded search)."""
    start = body.find(b"Body")
    match = _ACTION.search(body[max(start, 0): max(start, 0) + 8192])
    return match.group(1).decode() if match else None


def answer(cfg: Mapping[str, Any], device: Device, body: bytes,
           authorization: str | None) -> tuple[str, bytes]:
    """(HTTP status line, SOAP reply) for one device-service request."""
    action = action_of(body)
    values = device.values()
    if action is None:
        return "HTTP/1.1 400 Bad Request", _fault("ter:InvalidArgVal", "No operation")
    logged_in = wsse_ok(body) or auth.check(authorization, "POST")
    if action not in _PRE_AUTH and cfg.get("login", "required") == "required" and not logged_in:
        if cfg.get("refuse", "fault") == "http401":
            return "HTTP/1.1 401 Unauthorized", b""
        return "HTTP/1.1 400 Bad Request", _fault("ter:NotAuthorized",
                                                  "Sender not Authorized")
    if action == "GetSystemDateAndTime":
        now = datetime.now(UTC)
        reply = ("<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
                 "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false"
                 "</tt:DaylightSavings><tt:UTCDateTime><tt:Time>"
                 f"<tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute>"
                 f"<tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>{now.year}"
                 f"</tt:Year><tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day>"
                 "</tt:Date></tt:UTCDateTime></tds:SystemDateAndTime>"
                 "</tds:GetSystemDateAndTimeResponse>")
    elif action == "GetDeviceInformation":
        info = cfg.get("device_information") or {}
        fields = "".join(f"<tds:{k}>{escape(str(info.get(k, '')))}</tds:{k}>" for k in (
            "Manufacturer", "Model", "FirmwareVersion", "SerialNumber", "HardwareId"))
        reply = f"<tds:GetDeviceInformationResponse>{fields}</tds:GetDeviceInformationResponse>"
    elif action == "GetScopes":
        scopes = "".join(
            "<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef>"
            f"<tt:ScopeItem>{escape(str(s))}</tt:ScopeItem></tds:Scopes>"
            for s in cfg.get("scopes") or ())
        reply = f"<tds:GetScopesResponse>{scopes}</tds:GetScopesResponse>"
    elif action == "GetNetworkInterfaces":
        # ONVIF Core §8.2.6: NetworkInterfaces with Info (Name, HwAddress, MTU)
        reply = ('<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth0">'
                 "<tt:Enabled>true</tt:Enabled><tt:Info><tt:Name>eth0</tt:Name>"
                 "<tt:HwAddress>{{mac_lower}}</tt:HwAddress><tt:MTU>1500</tt:MTU></tt:Info>"
                 "</tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>")
    elif action in ("GetCapabilities", "GetServices"):
        xaddr = escape(str(cfg.get("xaddr", "http://{{address}}/onvif/device_service")))
        more = "".join(f"<tt:{service}><tt:XAddr>{xaddr}</tt:XAddr></tt:{service}>"
                       for service in ("Analytics", "Media") if cfg.get("analytics"))
        reply = (f"<tds:{action}Response><tds:Capabilities>{more}<tt:Device><tt:XAddr>{xaddr}"
                 f"</tt:XAddr></tt:Device></tds:Capabilities></tds:{action}Response>")
    elif action == "GetVideoAnalyticsConfigurations" and cfg.get("analytics"):
        token = escape(str(cfg["analytics"].get("token", "VideoAnalyticsToken")))
        reply = ('<trt:GetVideoAnalyticsConfigurationsResponse '
                 'xmlns:trt="http://www.onvif.org/ver10/media/wsdl">'
                 f'<trt:Configurations token="{token}"><tt:Name>{token}</tt:Name>'
                 "<tt:UseCount>1</tt:UseCount></trt:Configurations>"
                 "</trt:GetVideoAnalyticsConfigurationsResponse>")
    elif cfg.get("analytics") and action in cfg["analytics"]:
        reply = _body_file(str(cfg["analytics"][action])).decode("utf-8")
    else:
        return "HTTP/1.1 400 Bad Request", _fault("ter:ActionNotSupported",
                                                  "Optional Action Not Implemented")
    return "HTTP/1.1 200 OK", fill(_envelope(reply), values)
