"""What the operator allows us to touch: targets, exclusions, and the one gate.

Targets and exclusions accept the same forms: an address (IPv4 or IPv6), a
CIDR block, a range (``192.0.2.10-20`` or ``192.0.2.10-192.0.2.40``), a host
name (resolved once; the answer is recorded) and ``@file`` (one form per line,
``#`` comments). Everything is kept as sorted, merged integer intervals, so a
/8 costs a few bytes and iteration streams addresses in ascending order.

Targets are read like firewall rules, so a typo cannot widen a scan:

- a network written with host bits set (``10.0.0.0/4``) or a range written
  backwards is an error that says what it would mean; ``loose=True``
  (``--loose``) takes it as that, as ``ipaddress`` does with ``strict=False``;
- special-purpose addresses no device can answer on (``special_purpose.py``:
  ``0.0.0.0/8``, multicast, reserved, broadcast, documentation, ...) and
  loopback are left out of wider targets; a literal target inside one such
  block is taken as meant ("named on its own") and kept;
- IPv4-mapped IPv6 targets (``::ffff:a.b.c.d``) are read as the IPv4 address,
  as the gate compares them.

:meth:`Scope.summary` says what a scan of the scope touches and what was left
out and why; ``camaudit scope`` prints it and ``camaudit scan`` shows it, from
the same object the scan then walks.

Every outgoing connection asks :meth:`Scope.allows` first (see ``netio``); an
address outside the scope is recorded in :attr:`Scope.refused` and never
contacted — that includes redirects, ONVIF XAddrs and SSDP LOCATION URLs.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camaudit.errors import ScopeError
from camaudit.special_purpose import SPECIAL_BLOCKS, SpecialBlock

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Above this many addresses the CLI asks for --yes.
LARGE_SCOPE = 65_536


@dataclass(frozen=True, order=True)
class Interval:
    version: int
    first: int
    last: int

    def __len__(self) -> int:  # pragma: no cover - len() caps at sys.maxsize
        return self.last - self.first + 1

    @property
    def size(self) -> int:
        return self.last - self.first + 1


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for iv in sorted(intervals):
        if merged and merged[-1].version == iv.version and iv.first <= merged[-1].last + 1:
            last = merged[-1]
            merged[-1] = Interval(iv.version, last.first, max(last.last, iv.last))
        else:
            merged.append(iv)
    return merged


def _subtract(include: list[Interval], exclude: list[Interval]) -> list[Interval]:
    """`include` minus `exclude`; both sorted and merged (as `_merge` leaves them)."""
    out: list[Interval] = []
    j = 0
    for iv in include:
        while j < len(exclude) and (exclude[j].version, exclude[j].last) < (iv.version, iv.first):
            j += 1
        first = iv.first
        k = j
        while k < len(exclude) and (exclude[k].version, exclude[k].first) <= (iv.version, iv.last):
            ex = exclude[k]
            if ex.first > first:
                out.append(Interval(iv.version, first, ex.first - 1))
            first = max(first, ex.last + 1)
            k += 1
        if first <= iv.last:
            out.append(Interval(iv.version, first, iv.last))
    return out


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    return _subtract(a, _subtract(a, b))


def _interval(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Interval:
    return Interval(net.version, int(net.network_address), int(net.broadcast_address))


_MAPPED = _interval(ipaddress.IPv6Network("::ffff:0:0/96"))


def _unmap(iv: Interval) -> Interval:
    """An IPv4-mapped IPv6 interval as the IPv4 one it stands for (the gate maps them so)."""
    if iv.version == 6 and _MAPPED.first <= iv.first and iv.last <= _MAPPED.last:
        return Interval(4, iv.first - _MAPPED.first, iv.last - _MAPPED.first)
    return iv


def _special_pieces() -> list[tuple[Interval, SpecialBlock]]:
    """The special-purpose table as disjoint pieces, each decided by its most specific row."""
    rows = sorted((r for r in SPECIAL_BLOCKS if r.scan != "inherit"),
                  key=lambda r: ipaddress.ip_network(r.block).num_addresses, reverse=True)
    pieces: list[tuple[Interval, SpecialBlock]] = []
    for row in rows:
        iv = _interval(ipaddress.ip_network(row.block))
        pieces = [(p, r) for old, r in pieces for p in _subtract([old], [iv])]
        pieces.append((iv, row))
    return sorted((p, r) for p, r in pieces if r.scan in ("skip", "self"))


#: (interval, row) for every address a wider target leaves out, and their union.
_PIECES = _special_pieces()
_SPECIAL = _merge(p for p, _ in _PIECES)
#: (interval, row) of every row whose block a target can name on its own.
_NAMEABLE = [(_interval(ipaddress.ip_network(r.block)), r) for r in SPECIAL_BLOCKS
             if r.scan in ("skip", "self")]


def _named_on_its_own(iv: Interval, *, from_dns: bool) -> bool:
    """True if `iv` lies inside one special-purpose block: the operator meant those addresses.

    A host name's answer counts only for loopback (``localhost``): a name that
    resolves to 0.0.0.0 (a DNS sinkhole) or to multicast names no device.
    """
    return any(b.version == iv.version and b.first <= iv.first and iv.last <= b.last
               and (not from_dns or row.scan == "self") for b, row in _NAMEABLE)


def _is_hostname(text: str) -> bool:
    labels = text.rstrip(".").split(".")
    return bool(labels) and all(
        0 < len(lb) <= 63 and lb.replace("-", "").replace("_", "").isalnum()
        and not lb.startswith("-")
        for lb in labels
    ) and not all(lb.isdigit() for lb in labels)


def _looks_like_range(spec: str) -> bool:
    left = spec.partition("-")[0].strip()
    try:
        ipaddress.ip_address(left)
    except ValueError:
        return False
    return True


def _resolve(name: str) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise ScopeError(f"cannot resolve host name {name!r}: {exc}") from exc
    return sorted({ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos},
                  key=lambda a: (a.version, int(a)))


@dataclass
class ParsedTargets:
    intervals: list[Interval]
    resolved: dict[str, list[str]] = field(default_factory=dict)
    #: targets named on their own inside a special-purpose block (kept, not left out)
    meant: list[Interval] = field(default_factory=list)


Resolver = Callable[[str], list[IPAddress]]


def parse_targets(specs: Iterable[str], *, resolved: dict[str, list[str]] | None = None,
                  resolver: Resolver | None = None, loose: bool = False,
                  _depth: int = 0) -> ParsedTargets:
    """Parse target specs into merged intervals. `resolved` replays earlier name lookups.

    Strict unless `loose`: host bits set or a backwards range is a ScopeError.
    """
    known = dict(resolved or {})
    out = ParsedTargets([], {})
    for raw in specs:
        spec = raw.strip()
        if not spec or spec.startswith("#"):
            continue
        if spec.startswith("@"):
            if _depth > 3:
                raise ScopeError(f"target files nest too deeply at {spec!r}")
            lines = _read_target_file(spec[1:])
            try:
                sub = parse_targets(lines, resolved=known, resolver=resolver, loose=loose,
                                    _depth=_depth + 1)
            except ScopeError as exc:
                raise ScopeError(f"{exc} (in {spec[1:]})") from exc
            out.intervals.extend(sub.intervals)
            out.resolved.update(sub.resolved)
            out.meant.extend(sub.meant)
            continue
        ivs, names = _parse_one(spec, known, resolver or _resolve, loose)
        out.intervals.extend(ivs)
        out.resolved.update(names)
        out.meant.extend(iv for iv in ivs if _named_on_its_own(iv, from_dns=bool(names)))
    out.intervals = _merge(out.intervals)
    out.meant = _merge(out.meant)
    return out


def _read_target_file(path: str) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ScopeError(f"cannot read target file {path!r}: {reason}") from exc
    lines: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        lines.extend(part for part in line.replace(",", " ").split() if part)
    return lines


def _parse_one(spec: str, known: dict[str, list[str]], resolver: Resolver,
               loose: bool) -> tuple[list[Interval], dict[str, list[str]]]:
    try:
        if "/" in spec:
            return [_unmap(_parse_network(spec, loose))], {}
        if "-" in spec and _looks_like_range(spec):
            return [_unmap(_parse_range(spec, loose))], {}
        addr = ipaddress.ip_address(spec.strip("[]"))
        return [_unmap(Interval(addr.version, int(addr), int(addr)))], {}
    except ValueError as exc:
        if not _is_hostname(spec):
            raise ScopeError(f"not an address, network, range or host name: {spec!r}") from exc
    addrs = known.get(spec)
    if addrs is None:
        addrs = [str(a) for a in resolver(spec)]
    ivs = []
    for a in addrs:
        ip = ipaddress.ip_address(a)
        ivs.append(_unmap(Interval(ip.version, int(ip), int(ip))))
    return ivs, {spec: addrs}


def _parse_network(spec: str, loose: bool) -> Interval:
    """A CIDR block; host bits set is an error that shows the network it would mean."""
    net = ipaddress.ip_network(spec, strict=False)
    if not loose and int(ipaddress.ip_address(spec.partition("/")[0])) != int(
            net.network_address):
        raise ScopeError(
            f"{spec} has host bits set: it would mean {net} ({net.network_address}-"
            f"{net.broadcast_address}, {net.num_addresses:,} addresses); write {net} if that "
            "is meant, or add --loose to accept it")
    return _interval(net)


def _parse_range(spec: str, loose: bool) -> Interval:
    left, _, right = spec.partition("-")
    start = ipaddress.ip_address(left.strip())
    right = right.strip()
    if start.version == 4 and right.isdigit() and "." not in right:
        octets = str(start).split(".")
        end = ipaddress.ip_address(".".join([*octets[:3], right]))
    elif start.version == 6 and ":" not in right:
        # IPv6Address, not ip_address: a small number would read as IPv4 (``::1-5``)
        end = ipaddress.IPv6Address(int(start) - (int(start) & 0xFFFF) + int(right, 16))
    else:
        end = ipaddress.ip_address(right)
    if end.version != start.version:
        raise ValueError(f"range mixes IPv4 and IPv6: {spec}")
    if int(end) < int(start):
        if not loose:
            raise ScopeError(f"{spec} is written backwards (it ends before it starts): write "
                             f"{end}-{start}, or add --loose to accept it")
        start, end = end, start
    return Interval(start.version, int(start), int(end))


def _networks(intervals: Iterable[Interval]) -> list[str]:
    """Intervals as the fewest CIDR blocks that cover exactly them."""
    blocks: list[str] = []
    for iv in intervals:
        make = ipaddress.IPv4Address if iv.version == 4 else ipaddress.IPv6Address
        blocks.extend(str(n) for n in ipaddress.summarize_address_range(make(iv.first),
                                                                        make(iv.last)))
    return blocks


@dataclass(frozen=True)
class SpecialCount:
    """How many addresses of one special-purpose block a scope left out (or kept)."""

    block: str
    name: str
    rfc: str
    why: str
    addresses: int
    loopback: bool

    def as_dict(self) -> dict[str, Any]:
        return {"block": self.block, "name": self.name, "rfc": self.rfc, "why": self.why,
                "addresses": self.addresses}


def _by_block(intervals: list[Interval]) -> list[SpecialCount]:
    counts: dict[SpecialBlock, int] = {}
    for piece, row in _PIECES:
        n = sum(iv.size for iv in _intersect(intervals, [piece]))
        if n:
            counts[row] = counts.get(row, 0) + n
    def order(row: SpecialBlock) -> tuple[int, int, int]:
        net = ipaddress.ip_network(row.block)
        return net.version, int(net.network_address), net.prefixlen
    return [SpecialCount(r.block, r.name, r.rfc, r.why, counts[r], r.scan == "self")
            for r in sorted(counts, key=order)]


@dataclass(frozen=True)
class ScopeSummary:
    """What a scan of a scope touches, what it leaves out and why (``camaudit scope``)."""

    targets: list[str]
    excludes: list[str]
    networks: list[str]
    addresses: int
    ports: list[int]
    excluded: int
    left_out: list[SpecialCount]
    named_special: list[SpecialCount]
    resolved: dict[str, list[str]]

    def as_dict(self) -> dict[str, Any]:
        return {"schema": "camaudit-scope/1", "targets": self.targets,
                "excludes": self.excludes, "networks": self.networks,
                "addresses": self.addresses, "ports": self.ports, "excluded": self.excluded,
                "left_out": [c.as_dict() for c in self.left_out],
                "named_special": [c.as_dict() for c in self.named_special],
                "resolved": self.resolved}


class Scope:
    """The set of addresses a scan may contact, and the gate every connection passes."""

    def __init__(self, targets: Iterable[str], exclude: Iterable[str] = (), *,
                 resolved: dict[str, list[str]] | None = None,
                 resolver: Resolver | None = None, loose: bool = False) -> None:
        self.targets = list(targets)
        self.excludes = list(exclude)
        inc = parse_targets(self.targets, resolved=resolved, resolver=resolver, loose=loose)
        exc = parse_targets(self.excludes, resolved=resolved, resolver=resolver, loose=loose)
        if not inc.intervals and not self.targets:
            raise ScopeError("no targets given")
        self.resolved: dict[str, list[str]] = {**inc.resolved, **exc.resolved}
        wanted = _subtract(inc.intervals, exc.intervals)
        special = _intersect(wanted, _SPECIAL)
        #: addresses removed by the exclusions
        self.excluded = _intersect(inc.intervals, exc.intervals)
        #: special-purpose addresses kept because a target named them on its own
        self.named_special = _intersect(special, inc.meant)
        #: special-purpose addresses left out of wider targets
        self.left_out = _subtract(special, self.named_special)
        self.intervals = _subtract(wanted, self.left_out)
        self._keys = [(iv.version, iv.first) for iv in self.intervals]
        self.refused: list[tuple[str, str]] = []

    @property
    def size(self) -> int:
        return sum(iv.size for iv in self.intervals)

    def networks(self) -> list[str]:
        """The scope as CIDR blocks, ascending: exactly the addresses a scan walks."""
        return _networks(self.intervals)

    def summary(self, ports: Iterable[int] = ()) -> ScopeSummary:
        """What a scan of this scope on `ports` touches, and what was left out and why."""
        return ScopeSummary(
            targets=list(self.targets), excludes=list(self.excludes),
            networks=self.networks(), addresses=self.size, ports=sorted(set(ports)),
            excluded=sum(iv.size for iv in self.excluded),
            left_out=_by_block(self.left_out), named_special=_by_block(self.named_special),
            resolved=dict(self.resolved))

    def allows(self, address: str) -> bool:
        """True if `address` is inside the scope. Everything else is never contacted."""
        try:  # fast path: the sweep asks this for every connection
            key = (4, int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big"))
        except (OSError, TypeError):
            try:
                ip = ipaddress.ip_address(address.split("%")[0].strip("[]"))
            except ValueError:
                return False
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
            key = (ip.version, int(ip))
        pos = bisect.bisect_right(self._keys, key) - 1
        if pos < 0:
            return False
        iv = self.intervals[pos]
        return iv.version == key[0] and iv.first <= key[1] <= iv.last

    def outside(self, other: Scope) -> list[str]:
        """The networks of this scope that `other` does not hold (CIDR blocks, ascending).

        A site worker asks this of an audit before it scans a shard of it: every address
        the audit may touch must lie inside the site's own scope.
        """
        return _networks(_subtract(self.intervals, other.intervals))

    def refuse(self, address: str, reason: str) -> None:
        """Record an address we were pointed at but did not contact."""
        if len(self.refused) < 10_000:
            self.refused.append((address, reason))

    def addresses(self, after: str | None = None, *, first: str | None = None,
                  last: str | None = None) -> Iterator[str]:
        """Stream every in-scope address in ascending order, optionally after `after`.

        `first`/`last` bound the stream to one inclusive range (a shard of the scan).
        """
        start_key = _key(after) if after else None
        first_key = _key(first) if first else None
        if first_key is not None:
            before_first = (first_key[0], first_key[1] - 1)
            start_key = before_first if start_key is None else max(start_key, before_first)
        end_key = _key(last) if last else None
        for iv in self.intervals:
            lo, hi = iv.first, iv.last
            if start_key is not None:
                if (iv.version, hi) <= start_key:
                    continue
                if (iv.version, lo) <= start_key:
                    lo = start_key[1] + 1
            if end_key is not None:
                if (iv.version, lo) > end_key:
                    return
                if (iv.version, hi) > end_key:
                    hi = end_key[1]
            make = ipaddress.IPv4Address if iv.version == 4 else ipaddress.IPv6Address
            for value in range(lo, hi + 1):
                yield str(make(value))


def _key(address: str) -> tuple[int, int]:
    ip = ipaddress.ip_address(address)
    return (ip.version, int(ip))
