"""Scope shards: the unit of work of a scan that runs in several processes or on many sites.

The scope streams its addresses in ascending order; a shard is one inclusive
range of that stream, ``first <= a <= last``. Addresses the scope leaves out
(exclusions, special-purpose blocks) stay out: a shard only bounds the stream,
and the gate still decides every connection. Each shard keeps its own cursor in
the store, so it resumes on its own, wherever it runs.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from camaudit.scope import Scope

#: Scope addresses per shard when nothing else is asked for.
DEFAULT_SIZE = 4096
#: A scope of at most this many addresses is scanned in one process (unless a shard
#: size is asked for): starting worker processes costs about 3 s (2 workers scanned a
#: 300-device /22 at 0.69x the speed of one process).
ONE_PROCESS_MAX = 2048
#: Bounds for :func:`shard_size`: small shards balance the tail of a scan across
#: workers, large ones keep the bookkeeping per address negligible. (With shards of at
#: least 2,048 addresses, a 5,000-address scope made 3 shards for 2 workers of 2 lanes
#: each: one worker took two of them and did four fifths of the scan.)
MIN_SIZE = 256
#: At most this many shards per scan: a wider scope gets wider shards.
MAX_SHARDS = 100_000
#: Shards per worker :func:`shard_size` aims for, so a slow shard does not hold one
#: worker while the others are idle.
SHARDS_PER_WORKER = 8


@dataclass(frozen=True)
class Shard:
    """Every scope address ``a`` with ``first <= a <= last`` (inclusive, in scan order)."""

    index: int
    first: str
    last: str


def plan_shards(scope: Scope, size: int = DEFAULT_SIZE) -> list[Shard]:
    """Split the scope into shards of about `size` scope addresses, from its intervals.

    Never walks the scope address by address: a /12 is 256 steps of arithmetic.
    A shard may span a gap (an exclusion) between two intervals; it holds `size`
    scope addresses, not `size` numbers.
    """
    if size < 1:
        raise ValueError("shard size must be at least 1")
    size = max(size, math.ceil(scope.size / MAX_SHARDS))
    shards: list[Shard] = []
    start: tuple[int, int] | None = None  # (version, first value) of the shard being filled
    previous_end = (4, 0)
    filled = 0
    for iv in scope.intervals:
        value = iv.first
        while value <= iv.last:
            if start is None or start[0] != iv.version:
                if start is not None:  # an IPv4 shard never runs on into IPv6
                    shards.append(_shard(len(shards), start, previous_end))
                start, filled = (iv.version, value), 0
            take = min(size - filled, iv.last - value + 1)
            filled += take
            value += take
            previous_end = (iv.version, value - 1)
            if filled == size:
                shards.append(_shard(len(shards), start, previous_end))
                start = None
    if start is not None:
        shards.append(_shard(len(shards), start, previous_end))
    return shards


def shard_size(addresses: int, workers: int) -> int:
    """Scope addresses per shard for `workers`: about SHARDS_PER_WORKER shards each."""
    wanted = math.ceil(addresses / max(1, workers * SHARDS_PER_WORKER))
    return max(MIN_SIZE, min(DEFAULT_SIZE, wanted))


def _shard(index: int, first: tuple[int, int], last: tuple[int, int]) -> Shard:
    make = ipaddress.IPv4Address if first[0] == 4 else ipaddress.IPv6Address
    return Shard(index, str(make(first[1])), str(make(last[1])))
