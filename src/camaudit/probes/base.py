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

from camaudit.model import Observation
from camaudit.netio import Net

ProbeFn = Callable[[Net, str, int], Awaitable[list[Observation]]]


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
