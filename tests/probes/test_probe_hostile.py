"""Every TCP probe against hostile loopback peers: silent, drip, garbage, flood, reset.

Each probe must come back in bounded time with a list (possibly empty) or a
NetError — never another exception, never a hang, never an unbounded read.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from probe_servers import HOST, Handler, drip, flood, make_net, replay, silent, tcp_server

from camaudit.netio import NetError
from camaudit.probes import banner, dvrip, hik_sdk, onvif, rtsp, xmeye

PROBES = [rtsp, onvif, hik_sdk, dvrip, xmeye, banner]
READ_TIMEOUT = 0.3


async def _reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.transport.abort()


HOSTILE: dict[str, Handler] = {
    "silent": silent,
    "drip": drip(b"x", interval=0.02),
    "garbage": replay(bytes(range(256)) * 4),
    "flood": flood(),
    "reset": _reset,
}


@pytest.mark.parametrize("behaviour", sorted(HOSTILE))
@pytest.mark.parametrize("module", PROBES, ids=lambda m: m.PROBE.name)
def test_hostile_peer_costs_bounded_time_and_bytes(module: object, behaviour: str) -> None:
    async def scenario() -> tuple[list, float, int]:
        net = make_net(read_timeout=READ_TIMEOUT, max_bytes=64 * 1024)
        async with tcp_server(HOSTILE[behaviour]) as port:
            start = time.monotonic()
            try:
                out = await module.PROBE.run(net, HOST, port)  # type: ignore[attr-defined]
            except NetError:
                out = []
            return out, time.monotonic() - start, net.budget.attempts

    out, elapsed, attempts = asyncio.run(scenario())
    assert elapsed < 12 * READ_TIMEOUT + 1.0, f"{behaviour} took {elapsed:.2f}s"
    assert isinstance(out, list)
    for obs in out:
        assert len(obs.raw) <= 64 * 1024
        # garbage may be kept as evidence only by the binary probes, never as "recognised"
        assert obs.fields.get("recognised") in (None, False)
    assert attempts <= 8
