"""The sweep finds exactly the open ports of real loopback listeners, within its limits."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

from camaudit.cliutil import run_async
from camaudit.netio import Budget, Net
from camaudit.scope import Scope
from camaudit.sweep import parse_ports, sweep_host
from listeners import Listeners

OPEN = {("127.66.5.1", 18080), ("127.66.5.1", 18554), ("127.66.5.2", 18000)}
PORTS = [18000, 18080, 18554, 18999]


def test_sweep_reports_exactly_the_open_ports() -> None:
    async def sweep_all() -> dict[str, list[int]]:
        net = Net(scope=Scope(["127.66.5.0/29"]), budget=Budget(max_sockets=64))
        return {a: await sweep_host(net, a, PORTS, 1.0)
                for a in ("127.66.5.1", "127.66.5.2", "127.66.5.3")}

    with Listeners(OPEN):
        found = run_async(sweep_all())
    assert found == {"127.66.5.1": [18080, 18554], "127.66.5.2": [18000], "127.66.5.3": []}


def test_sweep_never_touches_an_address_outside_scope() -> None:
    async def sweep_outside() -> list[int]:
        net = Net(scope=Scope(["127.66.5.2"]), budget=Budget())
        try:
            return await sweep_host(net, "127.66.5.1", PORTS, 1.0)
        except Exception as exc:
            return [type(exc).__name__]  # type: ignore[list-item]

    with Listeners(OPEN) as listeners:
        result = run_async(sweep_outside())
        assert listeners.accepted["127.66.5.1"] == 0
    assert result == ["OutOfScope"]


def test_budget_stays_below_the_descriptor_limit() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    budget = Budget(max_sockets=10**9)
    assert budget.max_sockets < max(soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def test_parse_ports() -> None:
    assert parse_ports("80, 443,8000-8002,80") == [80, 443, 8000, 8001, 8002]


def _limited(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


def test_low_fd_limit_ends_in_one_clear_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [sys.executable, "-m", "camaudit", "-q", "scan", "127.66.5.0/28", "--db",
         str(tmp_path / "a.db")], capture_output=True, text=True, timeout=60,
        preexec_fn=lambda: _limited(40), env={**os.environ, "CI": "1"})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "file-descriptor limit" in lines[0]


def test_small_fd_limit_still_scans(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Listeners(OPEN):
        proc = subprocess.run(
            [sys.executable, "-m", "camaudit", "-q", "scan", "127.66.5.0/29", "--ports",
             ",".join(map(str, PORTS)), "--db", str(tmp_path / "b.db"), "--json",
             str(tmp_path / "b.json")], capture_output=True, text=True, timeout=120,
            preexec_fn=lambda: _limited(100), env={**os.environ, "CI": "1"})
    assert proc.returncode == 0, proc.stderr
    import json

    doc = json.loads((tmp_path / "b.json").read_text())
    assert {d["address"]: d["ports"] for d in doc["devices"]} == {
        "127.66.5.1": [18080, 18554], "127.66.5.2": [18000]}


def test_one_batch_sweeps_many_addresses_within_a_tiny_budget() -> None:
    """tcp_sweep: several hosts in one epoll batch; 2 sockets in flight at most; slots return."""
    from camaudit.netio import tcp_sweep

    async def sweep_batch() -> tuple[dict[str, list[int]], int]:
        net = Net(scope=Scope(["127.66.5.0/29"]), budget=Budget(max_sockets=2))
        found = await tcp_sweep(net, ["127.66.5.1", "127.66.5.2", "127.66.5.3"], PORTS, 1.0)
        return found, net.budget._limiter.free

    with Listeners(OPEN):
        found, free = run_async(sweep_batch())
    assert found == {"127.66.5.1": [18080, 18554], "127.66.5.2": [18000], "127.66.5.3": []}
    assert free == 2


def test_rate_limit_paces_the_sweep() -> None:
    """--rate still holds on the fast path: 12 attempts at 40/s take about 0.3 s."""
    import time

    async def paced() -> tuple[list[int], float, int]:
        net = Net(scope=Scope(["127.66.5.0/29"]), budget=Budget(rate=40.0))
        started = time.monotonic()
        ports = [p for a in ("127.66.5.1", "127.66.5.2", "127.66.5.3")
                 for p in await sweep_host(net, a, PORTS, 1.0)]
        return ports, time.monotonic() - started, net.budget.attempts

    with Listeners(OPEN):
        ports, elapsed, attempts = run_async(paced())
    assert sorted(ports) == [18000, 18080, 18554]
    assert attempts == 12 and elapsed >= 0.25


def test_udp_linger_stops_soon_after_the_first_reply() -> None:
    """A unicast answer is not waited on for the whole read timeout when linger is set."""
    import asyncio
    import time

    from camaudit.netio import udp_exchange

    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            self.transport.sendto(b"reply:" + data, addr)  # type: ignore[attr-defined]

    async def exchange() -> tuple[list[bytes], float]:
        loop = asyncio.get_running_loop()
        server, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.66.5.4", 18702))
        try:
            net = Net(scope=Scope(["127.66.5.4"]), budget=Budget(), read_timeout=3.0)
            started = time.monotonic()
            replies = await udp_exchange(net, "127.66.5.4", 18702, b"probe", linger=0.1)
            return replies, time.monotonic() - started
        finally:
            server.close()

    replies, elapsed = run_async(exchange())
    assert replies == [b"reply:probe"]
    assert elapsed < 1.5


def _parking_scenario(greeting: bytes, close_at_once: bool = False,
                      session: bool = True, wait: float = 0.0) -> tuple[bytes, int, int]:
    """Sweep one listening port, then connect to it as a probe does: (what the probe read
    first, connections the server accepted, budget slots free at the end)."""
    import asyncio

    from camaudit import netio

    address, port = "127.66.5.5", 18021
    accepted = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.write(greeting)
        if close_at_once:
            writer.close()
            return
        await reader.read(100)  # until the client goes
        writer.close()

    async def scenario() -> tuple[bytes, int, int]:
        server = await asyncio.start_server(serve, address, port, reuse_address=True)
        net = Net(scope=Scope([address]), budget=Budget(max_sockets=8), read_timeout=0.5)
        try:
            with netio.sweep_session(net.budget, park=session):
                assert await netio.tcp_sweep(net, [address], [port], 1.0) == {address: [port]}
                await asyncio.sleep(wait)
                async with netio.open_tcp(net, address, port) as conn:
                    first = await conn.read_until_idle(deadline=0.3, stop=b"\n")
        finally:
            server.close()
        await asyncio.sleep(0.05)
        return first, accepted, net.budget._limiter.free

    return run_async(scenario())


def test_the_sweeps_connection_goes_to_the_first_probe_of_its_port() -> None:
    """One connection for sweep and probe; what the device sent first is read by the probe."""
    assert _parking_scenario(b"220 ready\r\n") == (b"220 ready\r\n", 1, 8)
    assert _parking_scenario(b"220 ready\r\n", session=False) == (b"220 ready\r\n", 2, 8)


def test_a_parked_connection_the_device_closed_or_one_too_old_is_not_used(
        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from camaudit import netio

    assert _parking_scenario(b"", close_at_once=True, wait=0.1)[1:] == (2, 8)
    monkeypatch.setattr(netio, "PARK_SECONDS", 0.05)
    assert _parking_scenario(b"220 ready\r\n", wait=0.2) == (b"220 ready\r\n", 2, 8)


def test_what_a_device_sent_before_resetting_is_still_read() -> None:
    """A banner followed at once by RST: the banner is evidence; the reset comes after it."""
    import asyncio
    import socket
    import struct

    from camaudit import netio

    address, port = "127.66.5.6", 18023

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 DVR ready\r\n")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # RST

    async def scenario() -> tuple[bytes, str]:
        server = await asyncio.start_server(serve, address, port, reuse_address=True)
        net = Net(scope=Scope([address]), budget=Budget(max_sockets=8), read_timeout=1.0)
        try:
            async with netio.open_tcp(net, address, port) as conn:
                await asyncio.sleep(0.2)  # the banner and the reset have both arrived
                first = await conn.read_some()
                try:
                    await conn.read_some()
                except netio.Refused as exc:
                    return first, str(exc)
                return first, "no error"
        finally:
            server.close()

    first, then = run_async(scenario())
    assert first == b"220 DVR ready\r\n"
    assert then.startswith("read failed")


def test_uvloops_report_of_tls_bytes_after_close_is_dropped_and_nothing_else(
        caplog) -> None:  # type: ignore[no-untyped-def]
    """MagicStack/uvloop#506: the report that reached the operator's terminal is dropped;
    any other error of the loop is still reported as asyncio reports it."""
    import asyncio
    import logging

    from camaudit import netio

    class SSLProtocol:  # the class name uvloop's TLS protocol has
        pass

    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            netio._quiet_late_tls_data(loop, {
                "message": "Fatal error on SSL protocol", "protocol": SSLProtocol(),
                "exception": RuntimeError("unable to perform operation on <TCPTransport "
                                          "closed=True>; the handler is closed")})
            netio._quiet_late_tls_data(loop, {
                "message": "Fatal error on SSL protocol", "protocol": SSLProtocol(),
                "exception": RuntimeError("something else went wrong")})
    finally:
        loop.close()
    assert [r.getMessage().splitlines()[0] for r in caplog.records] == [
        "Fatal error on SSL protocol"]
    assert "something else" in str(caplog.records[0].exc_info[1])


def test_a_tls_connection_installs_that_handler_on_its_loop() -> None:
    import asyncio

    import pytest

    from camaudit import netio

    async def attempt() -> object:
        net = Net(scope=Scope(["127.66.5.7"]), budget=Budget(max_sockets=4))
        with pytest.raises(netio.Refused):
            await netio.connect(net, "127.66.5.7", 18443, tls=True)  # nothing listens
        return asyncio.get_running_loop().get_exception_handler()

    assert run_async(attempt()) is netio._quiet_late_tls_data
