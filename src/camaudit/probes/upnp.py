"""UPnP: a unicast SSDP M-SEARCH to UDP 1900 of the device, then its description XML.

Many cameras and recorders run a UPnP stack; its ``SERVER`` header and the
device description (friendlyName, manufacturer, modelName, serialNumber)
name the product. camaudit never multicasts: the M-SEARCH goes to the
device's own address, which UDA 1.1 allows ("unicast search"). The
description is fetched only when the ``LOCATION`` host is inside the scope;
otherwise the URL is recorded (``location_refused``) and the host is added
to the scope's refusal list — never contacted.

Sources (checked 2026-11-25):
- UPnP Device Architecture 1.1, §1.3.2 search request (``M-SEARCH * HTTP/1.1``,
  ``HOST``, ``MAN: "ssdp:discover"``, ``ST``; for a unicast search HOST is the
  device address and MX is not used), §1.3.3 search response (``LOCATION``,
  ``SERVER``, ``ST``, ``USN``), §2.3 device description
  (``root/device/friendlyName, manufacturer, modelDescription, modelName,
  modelNumber, serialNumber``; namespace urn:schemas-upnp-org:device-1-0)
  (https://openconnectivity.org/upnp-specs/UPnP-arch-DeviceArchitecture-v1.1.pdf).
- The SSDP reply and the description GET are HTTP/1.1 messages, parsed by
  :mod:`camaudit.probes.httpwire`; the GET goes through
  :mod:`camaudit.probes.httpclient` (bounded in bytes and time).

No raw camera SSDP capture was found in public sources (see
shared/fixtures/README.md); tests build replies from the specification.

Fields (``upnp``): server, location, st, usn, location_refused (the LOCATION
URL when not followed) — from the SSDP reply; friendly_name, manufacturer,
model_name, model_number, model_description, serial, udn — from the description.

Host-level probe (``ports=None``): runs once per host that has any open TCP port.
"""

from __future__ import annotations

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation
from camaudit.netio import Net, NetError, udp_exchange
from camaudit.probes import follow, httpclient, httpwire
from camaudit.probes.base import Probe
from camaudit.probes.xmlsafe import child_text, iter_local, local, parse_xml

PORT = 1900
MAX_DESCRIPTION = 128 * 1024
#: Distinct LOCATIONs followed per host.
MAX_FOLLOW = 2
_DESCRIPTION_FIELDS = (("friendlyName", "friendly_name"), ("manufacturer", "manufacturer"),
                       ("modelName", "model_name"), ("modelNumber", "model_number"),
                       ("modelDescription", "model_description"),
                       ("serialNumber", "serial"), ("UDN", "udn"))


def build_msearch(address: str, st: str = "ssdp:all") -> bytes:
    """A unicast M-SEARCH addressed to the device itself (UDA 1.1 §1.3.2)."""
    host = f"[{address}]" if ":" in address else address
    return ("M-SEARCH * HTTP/1.1\r\n"
            f"HOST: {host}:{PORT}\r\n"
            'MAN: "ssdp:discover"\r\n'
            f"ST: {st}\r\n"
            f"USER-AGENT: {httpwire.USER_AGENT}\r\n\r\n").encode("ascii")


def parse_search_reply(data: bytes) -> dict[str, FieldValue]:
    """An SSDP search response -> {server, location, st, usn}; ParseError otherwise."""
    reply = httpwire.parse_response(data, eof=True)
    if reply.status != 200:
        raise ParseError(f"ssdp: status {reply.status}, not a search response", offset=0)
    fields: dict[str, FieldValue] = {}
    for header, name in (("Server", "server"), ("Location", "location"), ("ST", "st"),
                         ("USN", "usn")):
        value = reply.header(header)
        if value:
            fields[name] = value[:follow.MAX_URL if name == "location" else 512]
    if "location" not in fields and "st" not in fields:
        raise ParseError("ssdp: reply has neither LOCATION nor ST", offset=0)
    return fields


def parse_description(data: bytes) -> dict[str, FieldValue]:
    """A UPnP device description -> fields of its root device; ParseError otherwise."""
    root = parse_xml(data, what="upnp description", max_bytes=MAX_DESCRIPTION)
    if local(root.tag) != "root":
        raise ParseError("upnp description: root element is not <root>", offset=0)
    device = next((el for el in root if local(el.tag) == "device"), None)
    if device is None:
        device = next(iter_local(root, "device"), None)
    if device is None:
        raise ParseError("upnp description: no <device> element", offset=0)
    fields: dict[str, FieldValue] = {}
    for element, name in _DESCRIPTION_FIELDS:
        value = child_text(device, element)
        if value:
            fields[name] = value
    return fields


async def fetch_description(net: Net, target: follow.Target) -> tuple[bytes, bytes]:
    """GET the description: (raw reply, body). Raises NetError or ParseError."""
    ex = await httpclient.request(net, target.host, target.port, "GET", target.path,
                                  tls=target.scheme == "https", cap=MAX_DESCRIPTION + 4096,
                                  why="upnp description")
    if not ex.ok or ex.response is None:
        raise ParseError(f"upnp description: {ex.error or 'no reply'}", offset=len(ex.raw))
    if ex.response.status != 200:
        raise ParseError(f"upnp description: HTTP status {ex.response.status}", offset=0)
    return ex.raw, ex.response.body


async def run(net: Net, address: str, port: int) -> list[Observation]:
    """M-SEARCH the device; follow each distinct in-scope LOCATION once."""
    replies = await udp_exchange(net, address, PORT, build_msearch(address), max_replies=4,
                                 why="ssdp search")
    out: list[Observation] = []
    seen: set[str] = set()
    for reply in replies:
        try:
            fields = parse_search_reply(reply)
        except ParseError:
            continue
        location = fields.get("location")
        target = None
        if isinstance(location, str) and location not in seen:
            seen.add(location)
            target = follow.gate(net, location, "ssdp location")
            if target is None:
                fields["location_refused"] = location
        out.append(Observation(address=address, port=PORT, probe="upnp", fields=fields,
                               raw=reply))
        if target is None or len(seen) > MAX_FOLLOW:
            continue
        try:
            raw, body = await fetch_description(net, target)
            described = parse_description(body)
        except (NetError, ParseError):
            continue
        if isinstance(location, str):
            described["location"] = location
        out.append(Observation(address=target.host, port=target.port, probe="upnp",
                               fields=described, raw=raw))
    return out


PROBE = Probe(name="upnp", ports=None, run=run, order=30)
