"""ONVIF Analytics with the operator's login, any maker: what a device says it can analyse, sans-IO.

After GetCapabilities names the Media and Analytics service addresses (both must pass the
scope gate), :mod:`camaudit.probes.onvif` asks, each a read with a WS-Security
UsernameToken:

1. Media ``GetVideoAnalyticsConfigurations`` -> the first configuration token;
2. Analytics ``GetSupportedAnalyticsModules`` and ``GetSupportedRules`` (what the device
   offers: module and rule types with their parameter and message item names);
3. Analytics ``GetAnalyticsModules`` and ``GetRules`` (what is configured, i.e. running:
   ONVIF has no separate on/off flag for a configured module).

The four answers become one ``analytics`` observation (api ``onvif``): ``offered`` the
names of every supported and configured module, rule and item, ``enabled`` those of the
configured ones (``Type``, ``Type.Item`` and ``Type.Item:Value`` for a textual value).
``assess`` decides what is a protected trait; nothing here does.

Sources (checked 2026-12-01): ONVIF Analytics Service Specification
(https://www.onvif.org/specs/srv/analytics/ONVIF-Analytics-Service-Spec.pdf) and its WSDL
http://www.onvif.org/ver20/analytics/wsdl (GetSupportedAnalyticsModules ->
SupportedAnalyticsModules/AnalyticsModuleDescription@Name with Parameters and Messages of
SimpleItemDescription/ElementItemDescription@Name; GetAnalyticsModules -> AnalyticsModule
@Name @Type with Parameters SimpleItem@Name@Value; GetSupportedRules ->
SupportedRules/RuleDescription@Name; GetRules -> Rule@Name@Type); ONVIF Media WSDL
http://www.onvif.org/ver10/media/wsdl (GetVideoAnalyticsConfigurations -> Configurations
@token). Real answers of a camera (A_ONVIF_CAMERA YMA42P_C2_WM701_AF) in
tests/probes/samples/deep/onvif-*.json.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from camaudit.errors import ParseError
from camaudit.model import FieldValue
from camaudit.probes.xmlsafe import iter_local, local, parse_xml

NS_MEDIA = "http://www.onvif.org/ver10/media/wsdl"
NS_ANALYTICS = "http://www.onvif.org/ver20/analytics/wsdl"
#: (namespace, action) asked with a configuration token, in order.
TOKEN_ACTIONS = (
    (NS_ANALYTICS, "GetSupportedAnalyticsModules"),
    (NS_ANALYTICS, "GetSupportedRules"),
    (NS_ANALYTICS, "GetAnalyticsModules"),
    (NS_ANALYTICS, "GetRules"),
)
#: Which answers describe what is configured (running) rather than what is supported.
CONFIGURED = frozenset({"GetAnalyticsModules", "GetRules"})
MAX_REPLY = 256 * 1024
MAX_NAMES = 512
_TOKEN = re.compile(r"^[\w.:\-]{1,64}$")
_WORD = re.compile(r"^[^\W\d_][\w .\-]{0,63}$")


def envelope(namespace: str, action: str, token: str | None = None,
             security: str = "") -> bytes:
    """A SOAP 1.2 request for `action`; `token` goes in ``ConfigurationToken``."""
    if token is not None and not _TOKEN.match(token):
        raise ValueError("configuration token is not a reference token")
    inner = (f"<ConfigurationToken>{escape(token)}</ConfigurationToken>"
             if token is not None else "")
    header = f"<s:Header>{security}</s:Header>" if security else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
            f'{header}<s:Body><{action} xmlns="{namespace}">{inner}</{action}></s:Body>'
            "</s:Envelope>").encode()


def _answer(body: bytes, action: str) -> Element:
    root = parse_xml(body, what=f"onvif {action} reply", max_bytes=MAX_REPLY)
    answer = next(iter_local(root, f"{action}Response"), None)
    if answer is None:
        raise ParseError(f"onvif {action} reply: no {action}Response element", 0)
    return answer


def parse_configuration_tokens(body: bytes) -> list[str]:
    """Tokens of a Media ``GetVideoAnalyticsConfigurations`` answer."""
    answer = _answer(body, "GetVideoAnalyticsConfigurations")
    tokens = [el.get("token", "") for el in answer if local(el.tag) == "Configurations"]
    return [t for t in tokens if _TOKEN.match(t)][:8]


def parse_names(action: str, body: bytes) -> list[str]:
    """The module, rule and item names of one Analytics answer, as the device wrote them."""
    answer = _answer(body, action)
    names: list[str] = []
    if action in CONFIGURED:
        for item in answer:
            if local(item.tag) in ("AnalyticsModule", "Rule"):
                _configured(item, names)
    else:
        tag = "AnalyticsModuleDescription" if action == "GetSupportedAnalyticsModules" \
            else "RuleDescription"
        for item in iter_local(answer, tag):
            kind = item.get("Name", "").strip()
            if not kind:
                continue
            _add(names, kind)
            for desc in item.iter():
                if local(desc.tag) in ("SimpleItemDescription", "ElementItemDescription"):
                    _add(names, f"{kind}.{desc.get('Name', '').strip()}")
    return names


def _configured(item: Element, names: list[str]) -> None:
    kind = (item.get("Type") or item.get("Name") or "").strip()
    if not kind:
        return
    _add(names, kind)
    for el in item.iter():
        if local(el.tag) not in ("SimpleItem", "ElementItem"):
            continue
        name = el.get("Name", "").strip()
        _add(names, f"{kind}.{name}")
        value = (el.get("Value") or "").strip()
        for part in re.split(r"[,;|]", value)[:16]:
            if _WORD.match(part.strip()):
                _add(names, f"{kind}.{name}:{part.strip()}")


def _add(names: list[str], name: str) -> None:
    name = name.replace("\0", "")[:128]
    if name and not name.endswith(".") and name not in names and len(names) < MAX_NAMES:
        names.append(name)


def fields(answers: dict[str, bytes]) -> dict[str, FieldValue]:
    """One ``analytics`` observation from the answers read (action -> body); ParseError
    when none of them could be read."""
    offered: list[str] = []
    enabled: list[str] = []
    read = 0
    for action, body in answers.items():
        try:
            names = parse_names(action, body)
        except ParseError:
            continue
        read += 1
        for name in names:
            _add(offered, name)
            if action in CONFIGURED:
                _add(enabled, name)
    if not read:
        raise ParseError("onvif analytics: no answer could be read", 0)
    return {"api": "onvif", "endpoint": "Analytics", "channel": 0, "offered": offered,
            "enabled": enabled, "platform": []}
