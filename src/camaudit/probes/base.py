"""The probe interface and registry.

A probe module defines a parser (bytes -> dict of fields, raising
``ParseError``) and registers a :class:`Probe`::

    PROBE = Probe(name="rtsp", ports=frozenset({554, 8554}), run=run)

``run(net, address, port)`` returns observations; it may raise only
``netio.NetError`` (the host runner records it and moves on). Probes that
are not tied to a port (MAC lookup) use ``ports=None`` and receive port 0.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation
from camaudit.netio import Net, udp_exchange

ProbeFn = Callable[[Net, str, int], Awaitable[list[Observation]]]
Parser = Callable[[bytes], dict[str, FieldValue]]


@dataclass(frozen=True)
class Credentials:
    """A login the operator supplied (``Net.credentials``); never logged, stored or reported.

    The password is left out of ``repr`` so that a traceback or a debug print
    cannot leak it.
    """

    user: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Probe:
    name: str
    ports: frozenset[int] | None  # None: host-level probe, run once per host
    run: ProbeFn
    order: int = 50  # lower runs first; cheap, decisive probes first
    any_port: bool = False  # also try on open ports outside `ports` (e.g. HTTP)


async def unicast_discovery(net: Net, address: str, port: int, request: bytes, parse: Parser,
                            probe: str, why: str) -> list[Observation]:
    """Send a maker's discovery request to the device itself; one observation per reply read.

    For discovery protocols whose devices answer once (twice at most) right away: a
    reply the parser refuses is someone else's datagram and is dropped.
    """
    replies = await udp_exchange(net, address, port, request, max_replies=2, linger=0.25,
                                 why=why)
    out: list[Observation] = []
    for reply in replies:
        try:
            fields = parse(reply)
        except ParseError:
            continue
        out.append(Observation(address=address, port=port, probe=probe, fields=fields,
                               raw=reply))
    return out
