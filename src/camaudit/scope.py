"""What the operator allows us to touch: targets, exclusions, and the one gate.

Targets and exclusions accept the same forms: an address (IPv4 or IPv6), a
CIDR block, a range (``192.0.2.10-20`` or ``192.0.2.10-192.0.2.40``), a host
name (resolved once; the answer is recorded) and ``@file`` (one form per line,
``#`` comments). Everything is kept as sorted, merged integer intervals, so a
/8 costs a few bytes and iteration streams addresses in ascending order.

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

from camaudit.errors import ScopeError

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
    out: list[Interval] = []
    for iv in include:
        pieces = [iv]
        for ex in exclude:
            if ex.version != iv.version:
                continue
            nxt: list[Interval] = []
            for p in pieces:
                if ex.last < p.first or ex.first > p.last:
                    nxt.append(p)
                    continue
                if ex.first > p.first:
                    nxt.append(Interval(p.version, p.first, ex.first - 1))
                if ex.last < p.last:
                    nxt.append(Interval(p.version, ex.last + 1, p.last))
            pieces = nxt
        out.extend(pieces)
    return _merge(out)


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


Resolver = Callable[[str], list[IPAddress]]


def parse_targets(specs: Iterable[str], *, resolved: dict[str, list[str]] | None = None,
                  resolver: Resolver | None = None, _depth: int = 0) -> ParsedTargets:
    """Parse target specs into merged intervals. `resolved` replays earlier name lookups."""
    known = dict(resolved or {})
    out = ParsedTargets([], {})
    for raw in specs:
        spec = raw.strip()
        if not spec or spec.startswith("#"):
            continue
        if spec.startswith("@"):
            if _depth > 3:
                raise ScopeError(f"target files nest too deeply at {spec!r}")
            sub = parse_targets(_read_target_file(spec[1:]), resolved=known,
                                resolver=resolver, _depth=_depth + 1)
            out.intervals.extend(sub.intervals)
            out.resolved.update(sub.resolved)
            continue
        ivs, names = _parse_one(spec, known, resolver or _resolve)
        out.intervals.extend(ivs)
        out.resolved.update(names)
    out.intervals = _merge(out.intervals)
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


def _parse_one(spec: str, known: dict[str, list[str]],
               resolver: Resolver) -> tuple[list[Interval], dict[str, list[str]]]:
    try:
        if "/" in spec:
            net = ipaddress.ip_network(spec, strict=False)
            return [Interval(net.version, int(net.network_address),
                             int(net.broadcast_address))], {}
        if "-" in spec and _looks_like_range(spec):
            return [_parse_range(spec)], {}
        addr = ipaddress.ip_address(spec.strip("[]"))
        return [Interval(addr.version, int(addr), int(addr))], {}
    except ValueError as exc:
        if not _is_hostname(spec):
            raise ScopeError(f"not an address, network, range or host name: {spec!r}") from exc
    addrs = known.get(spec)
    names: dict[str, list[str]] = {}
    if addrs is None:
        addrs = [str(a) for a in resolver(spec)]
        names[spec] = addrs
    else:
        names[spec] = addrs
    ivs = []
    for a in addrs:
        ip = ipaddress.ip_address(a)
        ivs.append(Interval(ip.version, int(ip), int(ip)))
    return ivs, names


def _parse_range(spec: str) -> Interval:
    left, _, right = spec.partition("-")
    start = ipaddress.ip_address(left.strip())
    right = right.strip()
    if start.version == 4 and right.isdigit() and "." not in right:
        octets = str(start).split(".")
        end = ipaddress.ip_address(".".join([*octets[:3], right]))
    elif start.version == 6 and ":" not in right:
        end = ipaddress.ip_address(int(start) - (int(start) & 0xFFFF) + int(right, 16))
    else:
        end = ipaddress.ip_address(right)
    if end.version != start.version or int(end) < int(start):
        raise ValueError(f"range end before start: {spec}")
    return Interval(start.version, int(start), int(end))


class Scope:
    """The set of addresses a scan may contact, and the gate every connection passes."""

    def __init__(self, targets: Iterable[str], exclude: Iterable[str] = (), *,
                 resolved: dict[str, list[str]] | None = None,
                 resolver: Resolver | None = None) -> None:
        self.targets = list(targets)
        self.excludes = list(exclude)
        inc = parse_targets(self.targets, resolved=resolved, resolver=resolver)
        exc = parse_targets(self.excludes, resolved=resolved, resolver=resolver)
        if not inc.intervals and not self.targets:
            raise ScopeError("no targets given")
        self.resolved: dict[str, list[str]] = {**inc.resolved, **exc.resolved}
        self.intervals = _subtract(inc.intervals, exc.intervals)
        self._keys = [(iv.version, iv.first) for iv in self.intervals]
        self.refused: list[tuple[str, str]] = []

    @property
    def size(self) -> int:
        return sum(iv.size for iv in self.intervals)

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

    def refuse(self, address: str, reason: str) -> None:
        """Record an address we were pointed at but did not contact."""
        if len(self.refused) < 10_000:
            self.refused.append((address, reason))

    def addresses(self, after: str | None = None) -> Iterator[str]:
        """Stream every in-scope address in ascending order, optionally after `after`."""
        start_key: tuple[int, int] | None = None
        if after:
            ip = ipaddress.ip_address(after)
            start_key = (ip.version, int(ip))
        for iv in self.intervals:
            first = iv.first
            if start_key is not None:
                if (iv.version, iv.last) <= start_key:
                    continue
                if (iv.version, first) <= start_key:
                    first = start_key[1] + 1
            make = ipaddress.IPv4Address if iv.version == 4 else ipaddress.IPv6Address
            for value in range(first, iv.last + 1):
                yield str(make(value))
