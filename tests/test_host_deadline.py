"""A host's deadline cancels its slow probes but keeps what the others found.

A real HTTP server answers on port 80 at once; port 554 of the same address accepts
and then says nothing (a tarpit). With a host deadline far shorter than the probe
read timeout, the HTTP evidence must survive the cancelled RTSP probe.
"""

from __future__ import annotations

import asyncio
import time

from camaudit.assess import load_policies
from camaudit.netio import Budget, Net
from camaudit.pipeline import Stats, conclude, probe_host
from camaudit.scope import Scope

ADDRESS = "127.88.7.1"  # used by no other test
REPLY = (b"HTTP/1.1 200 OK\r\nServer: Hikvision-Webs\r\nContent-Length: 0\r\n"
         b"Connection: close\r\n\r\n")


async def _audit_host(deadline: float) -> tuple[list, float]:
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(REPLY)
            await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()

    async def tarpit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # silent until the scanner hangs up
        writer.close()
        await writer.wait_closed()

    servers = [await asyncio.start_server(http, ADDRESS, 80),
               await asyncio.start_server(tarpit, ADDRESS, 554)]
    try:
        net = Net(scope=Scope([ADDRESS]), budget=Budget(max_sockets=64),
                  connect_timeout=1.0, read_timeout=20.0)
        started = time.monotonic()
        observations = await probe_host(net, ADDRESS, [80, 554], thorough=False,
                                        stats=Stats(), timeout=deadline)
        return observations, time.monotonic() - started
    finally:
        await asyncio.sleep(0.2)  # the handlers see the scanner's sockets close
        for server in servers:
            server.close()
            await server.wait_closed()


def test_deadline_keeps_the_evidence_of_finished_probes() -> None:
    observations, elapsed = asyncio.run(_audit_host(deadline=2.0))
    assert elapsed < 6.0  # the tarpit did not hold the host for its 20 s read timeout
    assert any(o.port == 80 and o.probe == "http" for o in observations)
    assert not any(o.port == 554 for o in observations)
    device = conclude(ADDRESS, observations, [80, 554], load_policies(["all"]))
    assert device.manufacturer == "Hikvision"
