"""What a device says with the operator's login: its connected channels and analytics, sans-IO.

Asked only when the operator supplied credentials, only of a device whose maker API
already answered (ISAPI deviceInfo, Dahua magicBox/RPC2), and only with read-only GETs
(:data:`REQUESTS`; the HTTP probe sends them, :mod:`camaudit.probes.http`). Nothing here
decides what is a protected trait: the parsers hand on the device's own words (capability
and attribute names, which rules are switched on) and ``assess`` compares them with the
vocabulary of ``knowledge/data/analytics_terms.yaml``. camaudit never analyses a person:
it reads what equipment says it can do.

Observations:

``channel`` (one per connected camera a recorder reports; the pipeline makes each a device
of its own, never contacted): api, channel (int, 1-based as the recorder numbers it),
address, port (int), protocol (how the recorder reaches it: ``HIKVISION``, ``ONVIF``,
``Dahua2``), vendor (Dahua's ``Vendor`` key: ``Private``, ``Onvif``), model, firmware, serial,
mac, name, enabled (bool), source_path.

``analytics`` (one per capability or rule document read): api, endpoint, channel (int,
0 = the device itself), offered (list: capability, rule-type and attribute names the
device says it supports), enabled (list: those switched on in its configuration),
platform (list: settings naming a video-image platform upload, e.g. GA/T 1400 "VIID").

Sources (checked 2026-12-01):

- Hikvision ISAPI ``GET /ISAPI/ContentMgmt/InputProxy/channels``: ``InputProxyChannelList``
  of ``InputProxyChannel`` (``id``, ``name``, ``sourceInputPortDescriptor`` with
  ``proxyProtocol``, ``ipAddress``, ``managePortNo``, ``model``, ``serialNumber``,
  ``firmwareVersion``); maciej-or/hikvision_next ``tests/fixtures/devices/DS-7608NXI-I2.json``,
  ``DS-7616NI-K2.json``, ``DS-7616NI-Q2.json``, ``DS-7732NI-M4.json`` at
  f6dac0dabb26281cf6e287181621ffbead573ce9 (real NVR answers; the Q2's entries carry no
  model, the M4 holds ONVIF-connected cameras of another maker).
- Hikvision ISAPI ``GET /ISAPI/System/capabilities``: ``DeviceCap`` whose leaves are
  ``isSupport<Feature>`` booleans and ``@opt`` option lists (``EventCap/isSupportFaceSnap``,
  ``isSupportHumanRecognition``, ``RacmCap/pictureSearchType/@opt``...); the 15 devices of
  the same folder and commit.
- Dahua CGI ``GET /cgi-bin/configManager.cgi?action=getConfig&name=RemoteDevice``:
  ``table.RemoteDevice.uuid:System_CONFIG_NETCAMERA_INFO_<slot>.<Key>=<value>`` lines, slot
  0-based = channel slot+1; keys Enable, Address, Port, Name, Mac, SerialNo, DeviceType
  (the model), Version, Vendor (``Private``, ``Onvif``), ProtocolType; unused slots say
  ``Enable=false`` / ``Address=192.168.0.0``. Real answers in public test code (a
  DH-NVR4216-HDS2 capture, and a Lorex NVR6XX-4KS2 fronting Hikvision DS-2CD1143G0-I
  cameras) found through the code index; see tests/probes/samples/deep/*.json for each.
- Dahua CGI ``GET /cgi-bin/configManager.cgi?action=getConfig&name=VideoAnalyseRule``:
  ``table.VideoAnalyseRule[<channel>][<rule>].<Key>=<value>`` with ``Enable``, ``Name``,
  ``Type``; rroller/dahua ``README.md`` and ``custom_components/dahua/client.py``
  (``async_get_ivs_rules``) at c2b8b41c98856af457721f2523bd6a2f37588b15. The face-analysis
  rule's attribute list (Dahua NetSDK ``CFG_FACEANALYSIS_INFO.emFaceFeatureType``,
  mindfree4u/NetSDK_Demo ``inetsdk/src/main/java/com/company/NetSDK/CFG_FACEANALYSIS_INFO.java``
  at 98a4d0418f9bb1feb1979250cb51877337217015) is read from any ``...FeatureList[i]`` /
  ``...Feature[i]`` key under a rule: its values are the attribute names.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from camaudit.errors import ParseError
from camaudit.model import FieldValue
from camaudit.probes import xmlsafe

#: Largest document read (a 16-channel InputProxy list is ~10 KiB, a DeviceCap ~12 KiB).
MAX_BODY = 256 * 1024
#: Most channels kept from one list (real recorders have up to 256 channels).
MAX_CHANNELS = 256
#: Most names kept per list field of an analytics observation.
MAX_NAMES = 512
#: Longest value kept.
MAX_VALUE = 128
#: Most key=value lines read from a CGI answer.
MAX_LINES = 20000
#: Most XML elements walked in one capability document.
MAX_ELEMENTS = 20000

Channel = dict[str, FieldValue]


def _value(text: object) -> str:
    return str(text).replace("\0", "").strip()[:MAX_VALUE]


def _check(body: bytes, what: str) -> None:
    if not body.strip():
        raise ParseError(f"{what}: empty body", 0)
    if len(body) > MAX_BODY:
        raise ParseError(f"{what}: body of {len(body)} bytes exceeds {MAX_BODY}", MAX_BODY)


def _port(text: str | None) -> int | None:
    if text and text.isdigit() and len(text) <= 5 and 0 < int(text) < 65536:
        return int(text)
    return None


def _address(text: str | None) -> str | None:
    """A reported address worth keeping (placeholders 0.0.0.0 / 192.168.0.0 dropped)."""
    if not text:
        return None
    value = _value(text)
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return value if value and " " not in value else None  # a host name, as reported
    if ip.is_unspecified or str(ip) == "192.168.0.0":
        return None
    return str(ip)


# --- Hikvision ISAPI: InputProxy channels ------------------------------------------------

_HIK_SOURCE = {"proxyProtocol": "protocol", "model": "model", "serialNumber": "serial",
               "firmwareVersion": "firmware", "macAddress": "mac"}


def parse_isapi_inputproxy(body: bytes) -> list[Channel]:
    """The connected cameras of an ``InputProxyChannelList`` (any namespace)."""
    _check(body, "isapi inputproxy")
    root = xmlsafe.parse_xml(body, what="isapi InputProxyChannelList", max_bytes=MAX_BODY)
    if xmlsafe.local(root.tag) != "InputProxyChannelList":
        raise ParseError(f"isapi inputproxy: root element is {xmlsafe.local(root.tag)[:40]!r}",
                         0)
    out: list[Channel] = []
    for item in root:
        if xmlsafe.local(item.tag) != "InputProxyChannel" or len(out) >= MAX_CHANNELS:
            continue
        number = xmlsafe.child_text(item, "id") or ""
        if not number.isdigit() or len(number) > 4:
            continue
        channel: Channel = {"api": "isapi", "channel": int(number), "enabled": True,
                            "source_path": "/ISAPI/ContentMgmt/InputProxy/channels"}
        name = xmlsafe.child_text(item, "name")
        if name:
            channel["name"] = _value(name)
        source = next((c for c in item if xmlsafe.local(c.tag) == "sourceInputPortDescriptor"),
                      None)
        if source is not None:
            _hik_source(source, channel)
        out.append(channel)
    return out


def _hik_source(source: Element, channel: Channel) -> None:
    for tag, key in _HIK_SOURCE.items():
        text = xmlsafe.child_text(source, tag)
        if text and _value(text):
            channel[key] = _value(text)
    address = _address(xmlsafe.child_text(source, "ipAddress")
                       or xmlsafe.child_text(source, "hostName"))
    if address:
        channel["address"] = address
    port = _port(xmlsafe.child_text(source, "managePortNo"))
    if port:
        channel["port"] = port


# --- Hikvision ISAPI: capability documents ------------------------------------------------

def parse_isapi_capabilities(body: bytes, endpoint: str = "/ISAPI/System/capabilities"
                             ) -> dict[str, FieldValue]:
    """``analytics`` fields of a capability document: every supported feature and option.

    A leaf whose text is ``true`` names a feature the device offers (``isSupportFaceSnap``);
    an ``opt`` attribute lists options it offers (``pictureSearchType/@opt``). The root
    element must end in ``Cap`` or ``Capabilities`` (``DeviceCap``, ``SmartCap``...).
    """
    _check(body, "isapi capabilities")
    root = xmlsafe.parse_xml(body, what="isapi capabilities", max_bytes=MAX_BODY)
    name = xmlsafe.local(root.tag)
    if not (name.endswith("Cap") or name.endswith("Capabilities") or name.endswith("Caps")):
        raise ParseError(f"isapi capabilities: root element is {name[:40]!r}", 0)
    offered: list[str] = []
    platform: list[str] = []
    stack: list[tuple[Element, str]] = [(root, "")]
    count = 0
    while stack and count < MAX_ELEMENTS:
        el, parent = stack.pop()
        count += 1
        tag = xmlsafe.local(el.tag)
        text = (el.text or "").strip()
        shown = f"{parent}.{tag}" if tag == "isSupport" else tag  # SnmpCap.isSupport
        if len(el) == 0 and text.lower() == "true":
            _add(offered, shown)
        opt = el.get("opt")
        if opt:
            for option in opt.split(",")[:64]:
                _add(offered, f"{shown}:{option.strip()}")
        if _PLATFORM.search(tag):
            _add(platform, f"{tag}={_value(text)}" if text else tag)
        stack.extend((child, tag) for child in reversed(el))
    return {"api": "isapi", "endpoint": endpoint, "channel": 0, "offered": offered,
            "enabled": [], "platform": platform}


def _add(names: list[str], name: str) -> None:
    name = _value(name)
    if name and name not in names and len(names) < MAX_NAMES:
        names.append(name)


#: Setting names that point at a video-image platform upload: GA/T 1400 "view library"
#: (视图库, VIID) as shared/kb/analytics.yaml records it, in the spellings device keys use.
_PLATFORM = re.compile(r"(?:GAT|GA_T|GA/T)?_?1400|VIID", re.IGNORECASE)


# --- Dahua CGI key=value tables ---------------------------------------------------------------

def _table(body: bytes, what: str, prefix: str) -> list[tuple[str, str]]:
    _check(body, what)
    text = body.decode("utf-8", "replace")
    pairs: list[tuple[str, str]] = []
    for line in text.splitlines()[:MAX_LINES]:
        key, sep, value = line.partition("=")
        key = key.strip()
        if sep and key.startswith(prefix) and len(key) <= 256:
            pairs.append((key[len(prefix):], value.strip()))
    if not pairs:
        raise ParseError(f"{what}: no {prefix.rstrip('.')} keys in reply", 0)
    return pairs


_SLOT = re.compile(r"^uuid:System_CONFIG_NETCAMERA_INFO_(\d{1,4})\.([A-Za-z][\w\[\].]{0,63})$")
_NO_MAC = frozenset({"", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"})
_DAHUA_KEYS = {"Address": "address", "Name": "name", "Mac": "mac", "SerialNo": "serial",
               "DeviceType": "model", "Version": "firmware", "Vendor": "vendor",
               "ProtocolType": "protocol"}


def parse_dahua_remote_device(body: bytes) -> list[Channel]:
    """Connected cameras of a Dahua ``RemoteDevice`` table: enabled slots with an address."""
    slots: dict[int, Channel] = {}
    for key, value in _table(body, "dahua RemoteDevice", "table.RemoteDevice."):
        match = _SLOT.match(key)
        if not match:
            continue
        slot, name = int(match.group(1)), match.group(2)
        if slot not in slots and len(slots) >= MAX_CHANNELS:
            continue
        entry = slots.setdefault(slot, {"api": "dahua-cgi", "channel": slot + 1,
                                        "source_path": "RemoteDevice"})
        if name == "Enable":
            entry["enabled"] = value.lower() == "true"
        elif name in ("Port", "HttpPort") and _port(value):
            entry.setdefault("port", _port(value))
        elif name == "Address":
            address = _address(value)
            if address:
                entry["address"] = address
        elif name == "Mac":
            if _value(value).lower() not in _NO_MAC:
                entry["mac"] = _value(value)
        elif name in _DAHUA_KEYS and _value(value):
            entry[_DAHUA_KEYS[name]] = _value(value)
    return [slots[s] for s in sorted(slots)
            if slots[s].get("enabled") is True and "address" in slots[s]]


_RULE = re.compile(r"^\[(\d{1,3})\]\[(\d{1,3})\]\.([A-Za-z][\w\[\].]{0,127})$")
_FEATURE = re.compile(r"(?:^|\.)(?:FeatureList|Feature|FaceFeature\w*|Attribute\w*)\[\d+\]$")


def parse_dahua_analyse_rules(body: bytes) -> list[dict[str, FieldValue]]:
    """``analytics`` fields per channel of a ``VideoAnalyseRule`` table.

    Each rule offers its ``Type`` (``FaceAnalysis``, ``CrossLineDetection``...) and the
    attribute names listed under it (``Type.Attribute``); a rule with ``Enable=true``
    puts the same names under ``enabled``.
    """
    rules: dict[tuple[int, int], dict[str, object]] = {}
    for key, value in _table(body, "dahua VideoAnalyseRule", "table.VideoAnalyseRule"):
        match = _RULE.match(key)
        if not match:
            continue
        where = (int(match.group(1)), int(match.group(2)))
        if where not in rules and len(rules) >= MAX_CHANNELS * 8:
            continue
        rule = rules.setdefault(where, {"features": []})
        name = match.group(3)
        if name in ("Enable", "Type", "Name"):
            rule[name] = _value(value)
        elif _FEATURE.search(name) and _value(value):
            features = rule["features"]
            assert isinstance(features, list)
            if len(features) < 64:
                features.append(_value(value))
    out: dict[int, dict[str, FieldValue]] = {}
    for (channel, _), rule in sorted(rules.items()):
        kind = str(rule.get("Type") or rule.get("Name") or "")
        if not kind:
            continue
        obs = out.setdefault(channel, {
            "api": "dahua-cgi", "endpoint": "VideoAnalyseRule", "channel": channel + 1,
            "offered": [], "enabled": [], "platform": []})
        features = rule["features"]
        assert isinstance(features, list)
        names = [kind, *(f"{kind}.{f}" for f in features)]
        for name in names:
            _add(obs["offered"], name)  # type: ignore[arg-type]
            if str(rule.get("Enable", "")).lower() == "true":
                _add(obs["enabled"], name)  # type: ignore[arg-type]
    return [out[c] for c in sorted(out)]


# --- what the HTTP probe asks -----------------------------------------------------------------

@dataclass(frozen=True)
class DeepRequest:
    """One credentialed read-only GET, asked only after one of the vendor requests `after`
    was read (the device speaks that maker's API)."""

    key: str
    after: tuple[str, ...]
    path: str
    kind: str  # "channels" or "analytics"


_DAHUA = ("dahua-systeminfo", "dahua-rpc2-login")
REQUESTS: tuple[DeepRequest, ...] = (
    DeepRequest("isapi-inputproxy", ("isapi-deviceinfo",),
                "/ISAPI/ContentMgmt/InputProxy/channels", "channels"),
    DeepRequest("isapi-capabilities", ("isapi-deviceinfo",), "/ISAPI/System/capabilities",
                "analytics"),
    DeepRequest("dahua-remotedevice", _DAHUA,
                "/cgi-bin/configManager.cgi?action=getConfig&name=RemoteDevice", "channels"),
    DeepRequest("dahua-analyserule", _DAHUA,
                "/cgi-bin/configManager.cgi?action=getConfig&name=VideoAnalyseRule",
                "analytics"),
)


def parse(key: str, body: bytes) -> tuple[list[Channel], list[dict[str, FieldValue]]]:
    """(channels, analytics observations' fields) of the answer to request `key`."""
    if key == "isapi-inputproxy":
        return parse_isapi_inputproxy(body), []
    if key == "isapi-capabilities":
        return [], [parse_isapi_capabilities(body)]
    if key == "dahua-remotedevice":
        return parse_dahua_remote_device(body), []
    if key == "dahua-analyserule":
        return [], parse_dahua_analyse_rules(body)
    raise KeyError(key)
