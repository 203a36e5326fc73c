"""The estate: which persona sits at which address, for a count and a seed, and its manifest.

The mix is deterministic for (count, seed, base, persona selection): with
``count`` at least the number of eligible personas every persona appears once
(hostile ones included); the rest are drawn by persona ``weight`` (cameras and
OEM labels weigh most, as in real estates). Addresses are handed out in
ascending order from the base network, skipping .0 and .255, in shuffled
persona order so that one vendor does not fill a block.

The manifest is the ground truth: one entry per device with the output
contract's names (docs/CONTRACTS.md, "Zoo manifest"), and after a recorder one entry
per camera its channel list reports (``parent``, ``channel``; never served).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterator, Sequence
from typing import Any

from camaudit.errors import UsageError
from camaudit.zoo.personas import Persona, load_all
from camaudit.zoo.render import OUT_OF_SCOPE, ZOO_PASSWORD, ZOO_USER, Device

DEFAULT_BASE = "127.42.0.0/16"


def parse_base(base: str) -> ipaddress.IPv4Network:
    """The zoo network: inside 127.0.0.0/8 (loopback only), not holding the trap address."""
    try:
        net = ipaddress.IPv4Network(base, strict=False)
    except ValueError as exc:
        raise UsageError(f"--base {base!r} is not an IPv4 CIDR block") from exc
    if not net.subnet_of(ipaddress.IPv4Network("127.0.0.0/8")):
        raise UsageError(f"--base {base} is outside 127.0.0.0/8: the zoo serves loopback only")
    if ipaddress.IPv4Address(OUT_OF_SCOPE) in net:
        raise UsageError(f"--base {base} contains {OUT_OF_SCOPE}, the out-of-scope trap address")
    return net


def _addresses(net: ipaddress.IPv4Network) -> Iterator[str]:
    for addr in net:
        last = int(addr) & 0xFF
        if last not in (0, 255):
            yield str(addr)


def eligible(only: Sequence[str] | None = None, hostile: bool = True) -> list[Persona]:
    """Personas the mix may use, sorted by id; `only` must name known personas."""
    everyone = load_all()
    if only:
        unknown = sorted(set(only) - set(everyone))
        if unknown:
            raise UsageError(f"--only: unknown persona(s): {', '.join(unknown)}")
        chosen = [everyone[p] for p in sorted(set(only))]
    else:
        chosen = [everyone[p] for p in sorted(everyone)]
    if not hostile:
        chosen = [p for p in chosen if not p.hostile]
    if not chosen:
        raise UsageError("no persona left to serve (check --only and --no-hostile)")
    return chosen


def plan(count: int, seed: int, base: str = DEFAULT_BASE, only: Sequence[str] | None = None,
         hostile: bool = True) -> list[Device]:
    """The devices of the estate, in address order."""
    if count < 1:
        raise UsageError("--count must be at least 1")
    net = parse_base(base)
    capacity = sum(1 for _ in zip(range(count), _addresses(net), strict=False))
    if capacity < count:
        raise UsageError(f"--base {base} has room for {capacity} devices, not {count}")
    personas = eligible(only, hostile)
    rng = random.Random(seed)
    picks: list[Persona] = []
    if count >= len(personas):
        picks = list(personas)
    weights = [p.weight for p in personas]
    picks += rng.choices(personas, weights=weights, k=count - len(picks))
    rng.shuffle(picks)
    return [Device(index=i, address=addr, persona=p, seed=seed)
            for i, (p, addr) in enumerate(zip(picks, _addresses(net), strict=False))]


def entry(device: Device) -> dict[str, Any]:
    """One manifest entry (contract names first, then zoo extras)."""
    p = device.persona
    return {
        "address": device.address, "ports": p.tcp_ports, "udp_ports": p.udp_ports,
        "device_type": p.identity["device_type"], "brand": p.identity["brand"],
        "manufacturer": p.identity["manufacturer"], "model": p.identity["model"],
        "firmware": p.identity["firmware"], "persona": p.id, "kind": p.kind,
        "findings": list(p.findings), "findings_unverified": dict(p.findings_unverified),
        "hostile": p.hostile, "mac": device.mac, "serial": device.serial,
    }


def connected_entries(device: Device) -> list[dict[str, Any]]:
    """The cameras a recorder persona reports, each an entry of its own (never served).

    ``address`` is the one the recorder reports (or ``<recorder>#<channel>``), ``parent``
    and ``channel`` say where it sits; ``ports`` is empty: nothing of it is contacted.
    """
    p = device.persona
    out = []
    for cam in p.connected:
        identity = cam["identity"]
        out.append({
            "address": cam["address"] or f"{device.address}#{cam['channel']}",
            "parent": device.address, "channel": cam["channel"], "ports": [],
            "udp_ports": [], "device_type": identity["device_type"],
            "brand": identity["brand"], "manufacturer": identity["manufacturer"],
            "model": identity["model"], "firmware": identity["firmware"],
            "persona": p.id, "kind": "connected", "findings": list(cam["findings"]),
            "findings_unverified": dict(cam["findings_unverified"]), "hostile": False,
            "mac": None, "serial": None})
    return out


def manifest(devices: Sequence[Device], count: int, seed: int, base: str,
             trap: bool) -> dict[str, Any]:
    """The ground-truth JSON object of a running zoo."""
    return {
        "schema": "camaudit-zoo/1", "base": base, "seed": seed, "count": count,
        "credentials": {"username": ZOO_USER, "password": ZOO_PASSWORD},
        "out_of_scope": {"address": OUT_OF_SCOPE, "listening": trap},
        "devices": [e for d in devices for e in [entry(d), *connected_entries(d)]],
    }
