"""Special-purpose address blocks, as data: which of them a scan may leave out, and why.

The rows transcribe the IANA IPv4 and IPv6 Special-Purpose Address Registries
(RFC 6890, updated by RFC 8190), each with its RFC and the registry's
*Destination* column ("is an address of this block valid as the destination of
a datagram"). Multicast is not in those registries; its rows cite RFC 5771 and
RFC 4291 section 2.7.

What a scan does with a row (``scan``):

- ``skip``: no device can answer there — the registry says Destination False,
  or it is multicast or limited broadcast. A wider target (``0.0.0.0/4``,
  ``::/0``) leaves these addresses out; a literal target that lies inside the
  block is taken as meant ("named on its own") and kept.
- ``self``: loopback, this host. Left out of wider targets like ``skip``, but
  kept when named on its own or when a host name (``localhost``) resolves there,
  because the demo, the zoo and the tests live on 127.0.0.0/8.
- ``keep``: a valid destination (private-use, link-local, shared space, ...):
  cameras live there. Listed so that a more specific row overrides a wider one,
  as the registry's footnotes say (192.0.0.0/29 inside 192.0.0.0/24).
- ``inherit``: a deprecated row without values; the enclosing row decides.

The most specific row covering an address decides for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

IPV4_REGISTRY = "https://www.iana.org/assignments/iana-ipv4-special-registry"
IPV6_REGISTRY = "https://www.iana.org/assignments/iana-ipv6-special-registry"
IPV4_MULTICAST_REGISTRY = "https://www.iana.org/assignments/multicast-addresses"
IPV6_MULTICAST_REGISTRY = "https://www.iana.org/assignments/ipv6-multicast-addresses"
#: The rows below were checked on this date against the registries' CSV as of
#: 2026-07-18 (transcribed in PDP-Connect/pdpp, openspec/changes/
#: fix-client-event-delivery-ssrf-guard/research/iana-special-purpose-registries-2026-07-18.md,
#: commit c12c3e89fc000bb36967eccf9e7dde5f5ed900e3); iana.org itself was not reachable.
CHECKED = "2026-12-01"

Decision = Literal["skip", "self", "keep", "inherit"]


@dataclass(frozen=True)
class SpecialBlock:
    block: str
    name: str
    rfc: str
    destination: bool | None  # the registry's Destination column; None: not given
    scan: Decision
    source: str

    @property
    def why(self) -> str:
        """Why a wider target leaves this block out (for the scope summary)."""
        if self.scan == "self":
            return "loopback: this host, not a device on the network"
        if "Multicast" in self.name:
            return "multicast group, not a device"
        if "Broadcast" in self.name:
            return "limited broadcast, not a device"
        return "not a valid destination (IANA special-purpose registry)"


def _v4(block: str, name: str, rfc: str, destination: bool | None,
        scan: Decision) -> SpecialBlock:
    return SpecialBlock(block, name, rfc, destination, scan, IPV4_REGISTRY)


def _v6(block: str, name: str, rfc: str, destination: bool | None,
        scan: Decision) -> SpecialBlock:
    return SpecialBlock(block, name, rfc, destination, scan, IPV6_REGISTRY)


SPECIAL_BLOCKS: tuple[SpecialBlock, ...] = (
    # IANA IPv4 Special-Purpose Address Registry
    _v4("0.0.0.0/8", '"This network"', "RFC 791 section 3.2", False, "skip"),
    _v4("0.0.0.0/32", '"This host on this network"', "RFC 1122 section 3.2.1.3", False, "skip"),
    _v4("10.0.0.0/8", "Private-Use", "RFC 1918", True, "keep"),
    _v4("100.64.0.0/10", "Shared Address Space", "RFC 6598", True, "keep"),
    _v4("127.0.0.0/8", "Loopback", "RFC 1122 section 3.2.1.3", False, "self"),
    _v4("169.254.0.0/16", "Link Local", "RFC 3927", True, "keep"),
    _v4("172.16.0.0/12", "Private-Use", "RFC 1918", True, "keep"),
    _v4("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890 section 2.1", False, "skip"),
    _v4("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", True, "keep"),
    _v4("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", False, "skip"),
    _v4("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", True, "keep"),
    _v4("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", True, "keep"),
    _v4("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 section 2.2", False,
        "skip"),
    _v4("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 section 2.2", False,
        "skip"),
    _v4("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", False, "skip"),
    _v4("192.31.196.0/24", "AS112-v4", "RFC 7535", True, "keep"),
    _v4("192.52.193.0/24", "AMT", "RFC 7450", True, "keep"),
    _v4("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", None, "inherit"),
    _v4("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", True, "keep"),
    _v4("192.168.0.0/16", "Private-Use", "RFC 1918", True, "keep"),
    _v4("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", True, "keep"),
    _v4("198.18.0.0/15", "Benchmarking", "RFC 2544", True, "keep"),
    _v4("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", False, "skip"),
    _v4("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", False, "skip"),
    _v4("240.0.0.0/4", "Reserved", "RFC 1112 section 4", False, "skip"),
    # RFC 8190 set Destination True (valid on the local link), but it reaches no one device.
    _v4("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919 section 7", True, "skip"),
    # IPv4 Multicast Address Space Registry
    SpecialBlock("224.0.0.0/4", "Multicast", "RFC 5771", None, "skip", IPV4_MULTICAST_REGISTRY),
    # IANA IPv6 Special-Purpose Address Registry
    _v6("::1/128", "Loopback Address", "RFC 4291", False, "self"),
    _v6("::/128", "Unspecified Address", "RFC 4291", False, "skip"),
    _v6("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", False, "skip"),
    _v6("64:ff9b::/96", "IPv4-IPv6 Translation", "RFC 6052", True, "keep"),
    _v6("64:ff9b:1::/48", "IPv4-IPv6 Translation (local use)", "RFC 8215", True, "keep"),
    _v6("100::/64", "Discard-Only Address Block", "RFC 6666", True, "keep"),
    _v6("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", False, "skip"),
    _v6("2001::/23", "IETF Protocol Assignments", "RFC 2928", False, "skip"),
    _v6("2001::/32", "TEREDO", "RFC 4380, RFC 8190", True, "keep"),
    _v6("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", True, "keep"),
    _v6("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", True, "keep"),
    _v6("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", True,
        "keep"),
    _v6("2001:2::/48", "Benchmarking", "RFC 5180, RFC Errata 1752", True, "keep"),
    _v6("2001:3::/32", "AMT", "RFC 7450", True, "keep"),
    _v6("2001:4:112::/48", "AS112-v6", "RFC 7535", True, "keep"),
    _v6("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", None, "inherit"),
    _v6("2001:20::/28", "ORCHIDv2", "RFC 7343", True, "keep"),
    _v6("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", True,
        "keep"),
    _v6("2001:db8::/32", "Documentation", "RFC 3849", False, "skip"),
    _v6("2002::/16", "6to4", "RFC 3056", True, "keep"),
    _v6("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", True, "keep"),
    _v6("3fff::/20", "Documentation", "RFC 9637", False, "skip"),
    _v6("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", True, "keep"),
    _v6("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", True, "keep"),
    _v6("fe80::/10", "Link-Local Unicast", "RFC 4291", True, "keep"),
    # IPv6 multicast (RFC 4291 section 2.7), not in the special-purpose registry
    SpecialBlock("ff00::/8", "Multicast", "RFC 4291 section 2.7", None, "skip",
                 IPV6_MULTICAST_REGISTRY),
)
