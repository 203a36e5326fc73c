"""WS-Discovery: one unicast Probe to UDP 3702 of an in-scope device; parse its ProbeMatches.

ONVIF devices announce themselves with WS-Discovery (the 2005/04 draft that
ONVIF adopted). camaudit never multicasts: the Probe is sent to the device's
own address only, which WS-Discovery allows ("directed probe") and which most
cameras answer exactly as they answer the multicast one.

Sources (checked 2026-11-25):
- WS-Discovery, April 2005, §5.2 Probe and §5.3 ProbeMatch, namespace
  http://schemas.xmlsoap.org/ws/2005/04/discovery, port 3702
  (https://specs.xmlsoap.org/ws/2005/04/discovery/ws-discovery.pdf).
  A Probe without ``Types`` matches every target service (§5.2), so we send
  none and also hear non-camera WSD devices (printers), which is evidence too.
- ONVIF Core Specification v2.x §7.3 "Device discovery": Types
  ``dn:NetworkVideoTransmitter`` / ``tds:Device``, scopes
  ``onvif://www.onvif.org/<category>/<value>`` (hardware, name, location, type,
  Profile), XAddrs = device service URLs
  (https://www.onvif.org/specs/core/ONVIF-Core-Specification.pdf).
- Real reply used in tests: agsh/onvif ``test/serverMockup/Probe.xml`` at
  15abffe60e1528230f60eb2bccea5684155b45e4 (MIT; see shared/fixtures).

Fields (``wsd`` in the vocabulary): types, scopes, xaddrs (lists), endpoint
(the EndpointReference address, often a uuid ending in the MAC), and
xaddrs_refused (XAddrs whose host is outside the scope; recorded, not fetched).

Host-level probe: UDP has no "open port" from the TCP sweep, so it runs once
per host that has any open TCP port. XAddrs inside the scope on a port the
ONVIF probe would not visit are queried with :func:`camaudit.probes.onvif.query`.
"""

from __future__ import annotations

import contextlib
import uuid

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation
from camaudit.netio import Net, NetError, udp_exchange
from camaudit.probes import follow, onvif
from camaudit.probes.base import Probe
from camaudit.probes.xmlsafe import child_text, iter_local, parse_xml, split_list

PORT = 3702
#: Seconds to wait for a second reply once the first is in. A unicast SOAP-over-UDP
#: message is sent once more after a random delay of UDP_MIN_DELAY..UDP_MAX_DELAY
#: (50..250 ms; SOAP-over-UDP 1.1, OASIS 2009, §3.4 and Appendix I:
#: http://docs.oasis-open.org/ws-dd/soapoverudp/1.1/os/wsdd-soapoverudp-1.1-spec-os.html),
#: so waiting the full read timeout for it only slows the scan.
REPEAT_WINDOW = 0.25
NS_DISCOVERY = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
#: At most this many in-scope XAddrs are followed per host.
MAX_FOLLOW = 2

_PROBE_TEMPLATE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
    ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
    f' xmlns:d="{NS_DISCOVERY}">'
    "<s:Header>"
    "<a:MessageID>urn:uuid:{message_id}</a:MessageID>"
    '<a:To s:mustUnderstand="true">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>'
    f'<a:Action s:mustUnderstand="true">{NS_DISCOVERY}/Probe</a:Action>'
    "</s:Header>"
    "<s:Body><d:Probe/></s:Body>"
    "</s:Envelope>"
)


def build_probe(message_id: str | None = None) -> bytes:
    """A WS-Discovery Probe with no Types (matches every target service)."""
    return _PROBE_TEMPLATE.replace("{message_id}", message_id or str(uuid.uuid4())).encode()


def parse_probe_matches(data: bytes) -> dict[str, FieldValue]:
    """ProbeMatches envelope -> {types, scopes, xaddrs, endpoint}; ParseError otherwise."""
    root = parse_xml(data, what="ws-discovery reply")
    matches = list(iter_local(root, "ProbeMatch"))
    if not matches:
        raise ParseError("ws-discovery reply: no ProbeMatch element")
    types: list[str] = []
    scopes: list[str] = []
    xaddrs: list[str] = []
    endpoint: str | None = None
    for match in matches[:8]:
        types += [t for t in split_list(child_text(match, "Types")) if t not in types]
        scopes += [s for s in split_list(child_text(match, "Scopes")) if s not in scopes]
        xaddrs += [x for x in split_list(child_text(match, "XAddrs")) if x not in xaddrs]
        if endpoint is None:
            for ref in iter_local(match, "EndpointReference"):
                endpoint = child_text(ref, "Address")
                break
    fields: dict[str, FieldValue] = {"types": types, "scopes": scopes, "xaddrs": xaddrs}
    if endpoint:
        fields["endpoint"] = endpoint
    return fields


async def run(net: Net, address: str, port: int) -> list[Observation]:
    """Send one unicast Probe; parse each reply; follow in-scope XAddrs the ONVIF probe skips."""
    replies = await udp_exchange(net, address, PORT, build_probe(), max_replies=2,
                                 linger=REPEAT_WINDOW, why="ws-discovery probe")
    out: list[Observation] = []
    for reply in replies:
        try:
            fields = parse_probe_matches(reply)
        except ParseError:
            continue
        xaddrs = fields.get("xaddrs")
        refused: list[str] = []
        followed = 0
        for xaddr in xaddrs if isinstance(xaddrs, list) else []:
            target = follow.gate(net, xaddr, "ws-discovery xaddr")
            if target is None:
                refused.append(xaddr)
                continue
            visited = onvif.PROBE.ports or frozenset()
            if followed < MAX_FOLLOW and target.scheme == "http" and not (
                    target.host == address and target.port in visited):
                followed += 1
                with contextlib.suppress(NetError):
                    out += await onvif.query(net, target.host, target.port, target.path)
        if refused:
            fields["xaddrs_refused"] = refused
        out.append(Observation(address=address, port=PORT, probe="wsd", fields=fields,
                               raw=reply))
    return out


PROBE = Probe(name="wsd", ports=None, run=run, order=30)
