"""Vendor HTTP endpoints that name a device's maker, model and firmware, sans-IO.

These endpoints reveal the real maker behind an OEM label: a Lorex recorder
still answers Dahua's ``magicBox.cgi``, an Annke camera Hikvision's ISAPI.
Each parser takes a response body and returns observation fields, raising
only :class:`camaudit.errors.ParseError` (a 404 page, an HTML login page, an
error document or garbage is a ParseError, never a half-filled result).
:data:`REQUESTS` lists what the HTTP probe asks, in order; the probe decides
when (see :mod:`camaudit.probes.http`).

Sources (all checked 2026-11-25):

- Hikvision ISAPI ``GET /ISAPI/System/deviceInfo``: ``<DeviceInfo>`` in the
  ``http://www.hikvision.com/ver20/XMLSchema`` namespace (cameras) or
  ``http://www.isapi.org/ver20/XMLSchema`` (newer NVRs); maciej-or/hikvision_next
  ``tests/fixtures/ISAPI/System.deviceInfo/{ipc,ipc1,nvr}.xml`` at commit
  b1dc1b9477aba092602cca66f8a2d81e066210a3 (copies in shared/fixtures).
- Dahua CGI ``GET /cgi-bin/magicBox.cgi?action=getSystemInfo`` and
  ``action=getSoftwareVersion``: ``key=value`` lines; rroller/dahua
  ``custom_components/dahua/client.py`` at c2b8b41c98856af457721f2523bd6a2f37588b15.
  Lorex (Dahua OEM) recorders answer ``deviceType=31`` with the Dahua model in
  ``updateSerial`` (rroller/dahua ``custom_components/dahua/__init__.py``, same commit).
  ``action=getDeviceClass`` answers ``class=<class>``: measured ``class=NVR`` on a
  DHI-NVR5464-16P-EI and ``class=VTO`` on a VTO2000A (rroller/dahua
  ``tests/dahua/test_device_class.py`` at 21bc5dd4d2eb6b6bd42a63916b67751e5523b3ec);
  asked only of a device that gave the Dahua RPC2 login challenge.
- Dahua ``POST /RPC2_Login`` first step of ``global.login`` with an empty
  password: the device answers ``result:false`` with a challenge whose
  ``params`` hold ``realm`` (``Login to <serial>``), ``random``, ``encryption``
  and often ``mac``; request per rroller/dahua ``custom_components/dahua/rpc2.py``
  at 03fbd423eeb9c146bd333f58b72dce2c2461e927 (``login``, "login1"); reply
  example in Clivebi/nvtscript ``2019/qsee/gb_qsee_ip_camera_default_credentials.sc``
  at 069735f859ac3db450fa1483227e17aa1b1331a0 (Greenbone). No password is
  sent and the login is never completed.
- Axis VAPIX ``GET /axis-cgi/param.cgi?action=list&group=root.Brand`` and
  ``group=root.Properties``: ``root.Group.Param=value`` lines (Axis VAPIX
  "Parameter management", https://developer.axis.com/vapix/network-video/parameter-management);
  samples in Kane610/axis ``tests/parameters/test_brand.py`` and
  ``test_properties.py`` at de855ed4edf0c4796d2eb5f3e46cc2e79b348069.
- Uniview LAPI ``GET /LAPI/V1.0/System/DeviceInfo`` (HTTP Digest): JSON
  ``{"Response": {"ResponseURL", "ResponseCode", "StatusCode", "Data": {...}}}`` with
  ``Data.DeviceName``, ``SerialNumber``, ``FirmwareVersion``, ``DeviceModel``;
  apache/hertzbeat ``hertzbeat-manager/src/main/resources/define/app-uniview.yml`` at
  1df0901ed739744bd67517d55f42b11f004b8cd7 (``parseScript: '$.Response.Data'``) and
  ``home/docs/help/uniview.md`` at a1965963d181b8e52976b3bee118c7c7bcbc3738; a whole
  envelope of an NVR302-16S2 (``ResponseCode: 0``, ``ResponseString: "Succeed"``,
  ``DeviceType: 1``) is a test fixture of a public NetBox sync tool's Uniview collector.
- Reolink HTTP API ``POST /cgi-bin/api.cgi?cmd=<Cmd>`` with a JSON list body
  ``[{"cmd", "action", "param"}]``; ``Login`` carries ``param.User.userName/password`` in the
  body and answers ``value.Token.name``; later calls add ``&token=<name>``; ``GetDevInfo``
  answers ``value.DevInfo`` (model, firmVer, hardVer, serial, type, buildDay, name).
  ReolinkCameraAPI/reolinkapipy ``reolinkapi/handlers/api_handler.py`` (``login``) at
  1f62a2423b4096940622e63f45d50f91c2fcfc71, ``examples/response/Login.json`` at
  e776715c1cff4f71d2e3af7ebd529ba774904b1d and ``examples/response/GetDevInfo.json`` at
  3f6e0b2b7e915df8d41fdade690f2ec6bd1f7199 (an RLC-411WS). Without a token the device
  answers ``code`` 1 with ``error.rspCode`` -6 and ``detail`` "please login first" (the
  re-login condition of public Reolink clients: rspCode -6 / -7 = session missing or expired).
  The login is attempted only with operator credentials and only after that Reolink error
  came back (:func:`reolink_needs_login`), so a password never goes to another server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from camaudit.errors import ParseError
from camaudit.model import FieldValue
from camaudit.probes import xmlsafe
from camaudit.probes.base import Parser

#: Largest vendor reply body parsed (real ones are well under 4 KiB).
MAX_BODY = 64 * 1024
#: Longest value kept per field.
MAX_VALUE = 256
#: Most key=value lines read from a CGI reply.
MAX_LINES = 2000


def _value(text: str) -> str:
    return text.replace("\0", "").strip()[:MAX_VALUE]


def _check_size(body: bytes, what: str) -> None:
    if not body.strip():
        raise ParseError(f"{what}: empty body", 0)
    if len(body) > MAX_BODY:
        raise ParseError(f"{what}: body of {len(body)} bytes exceeds {MAX_BODY}", MAX_BODY)


# --- Hikvision ISAPI -------------------------------------------------------------------

_ISAPI_FIELDS = {
    "model": "model",
    "firmwareVersion": "firmware",
    "firmwareReleasedDate": "firmware_build",
    "serialNumber": "serial",
    "macAddress": "mac",
    "deviceType": "device_type",
    "manufacturer": "manufacturer",
    "deviceName": "device_name",
}


def parse_isapi_device_info(body: bytes) -> dict[str, FieldValue]:
    """``isapi`` fields from a ``<DeviceInfo>`` document (any namespace)."""
    _check_size(body, "isapi")
    root = xmlsafe.parse_xml(body, what="isapi deviceInfo", max_bytes=MAX_BODY)
    if xmlsafe.local(root.tag) != "DeviceInfo":
        raise ParseError(f"isapi: root element is {xmlsafe.local(root.tag)[:40]!r}, "
                         "not DeviceInfo", 0)
    fields: dict[str, FieldValue] = {}
    for tag, name in _ISAPI_FIELDS.items():
        text = xmlsafe.child_text(root, tag)
        if text:
            fields[name] = _value(text)
    if not fields:
        raise ParseError("isapi: DeviceInfo without any known element", 0)
    return fields


# --- key=value CGI replies (Dahua magicBox, Axis param.cgi) ----------------------------

def _key_values(body: bytes, what: str, encoding: str) -> list[tuple[str, str]]:
    _check_size(body, what)
    text = body.decode(encoding, "replace")
    pairs: list[tuple[str, str]] = []
    for line in text.splitlines()[:MAX_LINES]:
        key, sep, value = line.partition("=")
        key = key.strip()
        if sep and key and all(c.isalnum() or c in "._[]" for c in key):
            pairs.append((key, value))
    return pairs


_MAGICBOX_FIELDS = {
    "deviceType": "device_type",
    "type": "device_type",  # action=getDeviceType
    "class": "device_class",  # action=getDeviceClass: IPC, NVR, VTO...
    "serialNumber": "serial",
    "hardwareVersion": "hardware",
    "updateSerial": "update_serial",
}


def parse_magicbox(body: bytes) -> dict[str, FieldValue]:
    """``dahua-cgi`` fields from a magicBox.cgi ``key=value`` reply."""
    fields: dict[str, FieldValue] = {}
    for key, value in _key_values(body, "dahua-cgi", "utf-8"):
        if key == "version":  # "2.800.0000016.0.R,build:2020-06-05"
            firmware, _, build = value.partition(",build:")
            fields.setdefault("firmware", _value(firmware))
            if build.strip():
                fields.setdefault("firmware_build", _value(build))
        elif key in _MAGICBOX_FIELDS:
            fields.setdefault(_MAGICBOX_FIELDS[key], _value(value))
    fields = {k: v for k, v in fields.items() if v}
    if not fields:
        raise ParseError("dahua-cgi: no magicBox keys in reply", 0)
    return fields


_VAPIX_FIELDS = {
    "Brand.Brand": "brand",
    "Brand.ProdNbr": "model",
    "Brand.ProdType": "product_type",
    "Properties.Firmware.Version": "firmware",
    "Properties.System.SerialNumber": "serial",
}


def parse_vapix_params(body: bytes) -> dict[str, FieldValue]:
    """``vapix`` fields from a param.cgi ``action=list`` reply (ISO-8859-1 text)."""
    fields: dict[str, FieldValue] = {}
    for key, value in _key_values(body, "vapix", "latin-1"):
        name = _VAPIX_FIELDS.get(key.removeprefix("root."))
        if name and _value(value):
            fields.setdefault(name, _value(value))
    if not fields:
        raise ParseError("vapix: no Brand/Properties parameters in reply", 0)
    return fields


# --- Uniview LAPI -----------------------------------------------------------------------

_LAPI_FIELDS = {
    "DeviceModel": "model",
    "FirmwareVersion": "firmware",
    "SerialNumber": "serial",
    "DeviceName": "device_name",
    "DeviceType": "device_type_code",
    "HardwareID": "hardware",
}


def parse_lapi_device_info(body: bytes) -> dict[str, FieldValue]:
    """``lapi`` fields from a ``/LAPI/V1.0/System/DeviceInfo`` JSON envelope.

    ``envelope`` is always set (``Response`` with ``ResponseURL``/``Data``): the
    reply shape itself is the Uniview telltale, even when every value is empty.
    """
    _check_size(body, "lapi")
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ParseError(f"lapi: not JSON ({type(exc).__name__})", 0) from exc
    response = doc.get("Response") if isinstance(doc, dict) else None
    if not isinstance(response, dict):
        raise ParseError("lapi: reply without a Response object", 0)
    data = response.get("Data")
    if not isinstance(data, dict):
        raise ParseError("lapi: Response without a Data object", 0)
    code = response.get("ResponseCode")
    if isinstance(code, int) and not isinstance(code, bool) and code != 0:
        raise ParseError(f"lapi: ResponseCode {code} (an error envelope)", 0)
    url = response.get("ResponseURL")
    fields: dict[str, FieldValue] = {
        "envelope": _value(url) if isinstance(url, str) and url.strip() else "Response.Data"}
    for key, name in _LAPI_FIELDS.items():
        value = data.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            text = _value(str(value))
            if text:
                fields[name] = text
    return fields


# --- Dahua RPC2 login challenge --------------------------------------------------------

RPC2_LOGIN_BODY = json.dumps({
    "method": "global.login",
    "params": {"userName": "admin", "password": "", "clientType": "Web3.0",
               "loginType": "Direct"},
    "id": 1,
}, separators=(",", ":")).encode()


def parse_rpc2_login(body: bytes) -> dict[str, FieldValue]:
    """``dahua-rpc2`` fields from the ``global.login`` challenge reply."""
    _check_size(body, "dahua-rpc2")
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ParseError(f"dahua-rpc2: not JSON ({type(exc).__name__})", 0) from exc
    params = doc.get("params") if isinstance(doc, dict) else None
    if not isinstance(params, dict):
        raise ParseError("dahua-rpc2: reply without params object", 0)
    fields: dict[str, FieldValue] = {}
    for key in ("realm", "random", "encryption", "mac"):
        value = params.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            text = _value(str(value))
            if text:
                fields[key] = text
    if "realm" not in fields and "random" not in fields:
        raise ParseError("dahua-rpc2: params without realm or random", 0)
    return fields


# --- Reolink HTTP API (credentialed) ---------------------------------------------------

REOLINK_API = "/cgi-bin/api.cgi"
REOLINK_DEVINFO_BODY = b'[{"cmd":"GetDevInfo","action":0,"param":{}}]'
#: Error codes of a call made without a valid session (login required / session expired).
_REOLINK_LOGIN_CODES = frozenset({-6, -7})
_REOLINK_FIELDS = {
    "model": "model",
    "firmVer": "firmware",
    "hardVer": "hardware",
    "serial": "serial",
    "type": "device_type",
    "buildDay": "build_day",
    "name": "device_name",
}


def _reolink_first(body: bytes, what: str, cmd: str) -> dict[str, object]:
    """The first reply object of a Reolink API answer for `cmd` (a JSON list of objects)."""
    _check_size(body, what)
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ParseError(f"{what}: not JSON ({type(exc).__name__})", 0) from exc
    first = doc[0] if isinstance(doc, list) and doc else None
    if not isinstance(first, dict) or first.get("cmd") != cmd:
        raise ParseError(f"{what}: not a Reolink answer to {cmd}", 0)
    return first


def reolink_needs_login(body: bytes) -> bool:
    """True when `body` is Reolink's "please login first" answer to GetDevInfo."""
    first = _reolink_first(body, "reolink", "GetDevInfo")
    error = first.get("error")
    if not isinstance(error, dict):
        return False
    code = error.get("rspCode")
    detail = str(error.get("detail", "")).strip().casefold()
    return (isinstance(code, int) and code in _REOLINK_LOGIN_CODES) or detail == \
        "please login first"


def reolink_login_body(user: str, password: str) -> bytes:
    """The ``Login`` request body (the password travels in the body, as the API does)."""
    return json.dumps([{"cmd": "Login", "action": 0,
                        "param": {"User": {"userName": user, "password": password}}}],
                      separators=(",", ":")).encode()


def parse_reolink_login(body: bytes) -> str:
    """The session token of a successful ``Login`` answer (ParseError otherwise)."""
    first = _reolink_first(body, "reolink login", "Login")
    value = first.get("value")
    token = value.get("Token") if isinstance(value, dict) else None
    name = token.get("name") if isinstance(token, dict) else None
    if first.get("code") != 0 or not isinstance(name, str) or not name.strip() \
            or len(name) > MAX_VALUE or not name.isascii() or not name.isalnum():
        raise ParseError("reolink login: no token (login refused or unknown answer)", 0)
    return name


def parse_reolink_devinfo(body: bytes) -> dict[str, FieldValue]:
    """``reolink`` fields from a ``GetDevInfo`` answer (``value.DevInfo``)."""
    first = _reolink_first(body, "reolink", "GetDevInfo")
    value = first.get("value")
    info = value.get("DevInfo") if isinstance(value, dict) else None
    if first.get("code") != 0 or not isinstance(info, dict):
        raise ParseError("reolink: GetDevInfo answer without value.DevInfo", 0)
    fields: dict[str, FieldValue] = {}
    for key, name in _REOLINK_FIELDS.items():
        item = info.get(key)
        if isinstance(item, str | int) and not isinstance(item, bool):
            text = _value(str(item))
            if text:
                fields[name] = text
    if not fields:
        raise ParseError("reolink: DevInfo without any known key", 0)
    return fields


# --- what the HTTP probe asks ----------------------------------------------------------

@dataclass(frozen=True)
class VendorRequest:
    """One vendor endpoint: how to ask, which probe name its observation gets, how to read it."""

    key: str
    probe: str
    method: str
    path: str
    parse: Parser
    body: bytes = b""
    content_type: str | None = None
    after: str | None = None  # ask only if this earlier request was read successfully


REQUESTS: tuple[VendorRequest, ...] = (
    VendorRequest("isapi-deviceinfo", "isapi", "GET", "/ISAPI/System/deviceInfo",
                  parse_isapi_device_info),
    VendorRequest("dahua-systeminfo", "dahua-cgi", "GET",
                  "/cgi-bin/magicBox.cgi?action=getSystemInfo", parse_magicbox),
    VendorRequest("dahua-softwareversion", "dahua-cgi", "GET",
                  "/cgi-bin/magicBox.cgi?action=getSoftwareVersion", parse_magicbox,
                  after="dahua-systeminfo"),
    VendorRequest("dahua-rpc2-login", "dahua-rpc2", "POST", "/RPC2_Login",
                  parse_rpc2_login, body=RPC2_LOGIN_BODY,
                  content_type="application/json"),
    VendorRequest("dahua-deviceclass", "dahua-cgi", "GET",
                  "/cgi-bin/magicBox.cgi?action=getDeviceClass", parse_magicbox,
                  after="dahua-rpc2-login"),
    VendorRequest("vapix-brand", "vapix", "GET",
                  "/axis-cgi/param.cgi?action=list&group=root.Brand", parse_vapix_params),
    VendorRequest("vapix-properties", "vapix", "GET",
                  "/axis-cgi/param.cgi?action=list&group=root.Properties",
                  parse_vapix_params, after="vapix-brand"),
    VendorRequest("lapi-deviceinfo", "lapi", "GET", "/LAPI/V1.0/System/DeviceInfo",
                  parse_lapi_device_info),
)
