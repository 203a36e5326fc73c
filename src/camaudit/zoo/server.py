"""The zoo process: one asyncio loop serving every device's TCP and UDP ports.

Each device port is its own listening socket bound to the device's address
(every 127/8 address is local on Linux), so an address outside the estate
refuses. HTTP and RTSP connections are served from callbacks
(:class:`camaudit.zoo.wire.RequestServer`), every other one by a handler task;
either is bounded by an idle and a lifetime limit, so a hostile or stuck client
never accumulates sockets; errors of one connection end that connection only.
Accepted connections and datagrams are counted per address and port; the counts
are written to ``--stats FILE`` on SIGUSR1 and on exit, so tests can check what a
scanner touched.

Errors at this boundary: OSError while binding becomes
:class:`camaudit.errors.ResourceError` (fd limit, address in use).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import json
import resource
import signal
import socket
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from camaudit.cliutil import GC_YOUNG_THRESHOLD
from camaudit.errors import ResourceError
from camaudit.zoo import dvrip, hostile, http, raw, rtsp, tls, udp, xmeye
from camaudit.zoo.render import OUT_OF_SCOPE, Device
from camaudit.zoo.wire import Answer, Limits, RequestServer

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, Device, Mapping[str, Any],
                    Limits], Awaitable[None]]
HANDLERS: dict[str, Handler] = {
    "raw": raw.handle, "xmeye": xmeye.handle, "dvrip": dvrip.handle, "hostile": hostile.handle,
}
#: Request/reply services: (answer factory, the reply to a head that does not parse).
REQUEST_SERVICES: dict[str, tuple[Callable[[Device, Mapping[str, Any]], Answer], bytes]] = {
    "http": (http.answerer, http.BAD_REQUEST), "https": (http.answerer, http.BAD_REQUEST),
    "rtsp": (rtsp.answerer, rtsp.BAD_REQUEST),
}
#: Ports of the out-of-scope trap listener (what hostile personas point at).
TRAP_PORTS = (80, 554, 8080)
_BACKLOG = 128


def raise_fd_limit(need: int) -> int:
    """Raise RLIMIT_NOFILE (soft, and hard up to /proc/sys/fs/nr_open as root) to `need`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return soft
    if hard != resource.RLIM_INFINITY and hard < need:
        try:
            nr_open = int(Path("/proc/sys/fs/nr_open").read_text().strip())
        except (OSError, ValueError):
            nr_open = hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, nr_open), min(need, nr_open)))
            return min(need, nr_open)
    target = need if hard == resource.RLIM_INFINITY else min(need, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def _listen(address: str, port: int, kind: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(_BACKLOG)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            raise ResourceError(f"out of file descriptors binding {address}:{port}; "
                                f"raise the limit (ulimit -n)") from exc
        raise ResourceError(f"cannot bind {address}:{port}: {exc.strerror or exc}") from exc
    return sock


class Zoo:
    """All devices of one estate, served by the running event loop."""

    def __init__(self, devices: Sequence[Device], limits: Limits | None = None,
                 trap: bool = False, stats_path: str | None = None) -> None:
        self.devices = list(devices)
        self.limits = limits or Limits()
        self.trap = trap
        self.stats_path = stats_path
        self.tcp_count: Counter[str] = Counter()
        self.udp_count: Counter[str] = Counter()
        self.errors = 0
        self._servers: list[asyncio.Server] = []
        self._transports: list[asyncio.BaseTransport] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.stopped = asyncio.Event()

    def sockets_needed(self) -> int:
        ports = sum(len(d.persona.tcp) + len(d.persona.udp) for d in self.devices)
        return ports + len(TRAP_PORTS) + 1024  # + room for connections and the loop

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     device: Device, port: int, service: Mapping[str, Any]) -> None:
        self.tcp_count[f"{device.address}:{port}"] += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            async with asyncio.timeout(self.limits.lifetime):
                await HANDLERS[str(service["proto"])](reader, writer, device, service,
                                                      self.limits)
        except (TimeoutError, ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        except Exception:  # one broken connection must never stop the zoo
            self.errors += 1
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()

    def _request_server(self, device: Device, port: int,
                        service: Mapping[str, Any]) -> RequestServer:
        self.tcp_count[f"{device.address}:{port}"] += 1
        make, bad_request = REQUEST_SERVICES[str(service["proto"])]
        return RequestServer(make(device, service), bad_request, self.limits, self._error)

    def _error(self) -> None:
        self.errors += 1

    async def _trap(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    port: int) -> None:
        self.tcp_count[f"{OUT_OF_SCOPE}:{port}"] += 1
        writer.close()

    async def start(self) -> None:
        """Bind every port of every device (and the trap); raises ResourceError."""
        raise_fd_limit(self.sockets_needed())
        loop = asyncio.get_running_loop()
        for device in self.devices:
            for port, service in device.persona.tcp.items():
                ctx = None
                if service["proto"] == "https":
                    ctx = tls.context(device.persona.id, port, service.get("cert") or {})
                sock = _listen(device.address, port, socket.SOCK_STREAM)
                if service["proto"] in REQUEST_SERVICES:
                    def factory(d: Device = device, p: int = port,
                                s: Mapping[str, Any] = service) -> RequestServer:
                        return self._request_server(d, p, s)

                    self._servers.append(await loop.create_server(
                        factory, sock=sock, ssl=ctx,
                        ssl_handshake_timeout=10.0 if ctx else None))
                    continue

                def cb(r: asyncio.StreamReader, w: asyncio.StreamWriter, d: Device = device,
                       p: int = port, s: Mapping[str, Any] = service) -> Awaitable[None]:
                    return self._serve(r, w, d, p, s)

                self._servers.append(await asyncio.start_server(
                    cb, sock=sock, ssl=ctx, ssl_handshake_timeout=10.0 if ctx else None,
                    limit=64 * 1024))
            for port, service in device.persona.udp.items():
                sock = _listen(device.address, port, socket.SOCK_DGRAM)
                key = f"{device.address}:{port}/udp"

                def count(k: str = key) -> None:
                    self.udp_count[k] += 1

                def responder(d: Device = device, s: Mapping[str, Any] = service,
                              c: Callable[[], None] = count) -> udp.Responder:
                    return udp.Responder(d, s, c)

                transport, _ = await loop.create_datagram_endpoint(responder, sock=sock)
                self._transports.append(transport)
        if self.trap:
            for port in TRAP_PORTS:
                sock = _listen(OUT_OF_SCOPE, port, socket.SOCK_STREAM)
                def trap_cb(r: asyncio.StreamReader, w: asyncio.StreamWriter,
                            p: int = port) -> Awaitable[None]:
                    return self._trap(r, w, p)

                self._servers.append(await asyncio.start_server(trap_cb, sock=sock))

    def stats(self) -> dict[str, Any]:
        return {"tcp_accepted": dict(sorted(self.tcp_count.items())),
                "udp_datagrams": dict(sorted(self.udp_count.items())),
                "handler_errors": self.errors,
                "out_of_scope_connections": sum(
                    n for k, n in self.tcp_count.items() if k.startswith(OUT_OF_SCOPE + ":"))}

    def write_stats(self) -> None:
        if self.stats_path:
            tmp = Path(self.stats_path + ".tmp")
            tmp.write_text(json.dumps(self.stats(), indent=1))
            tmp.replace(self.stats_path)

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for transport in self._transports:
            transport.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.sleep(0)
        self.write_stats()


async def run(zoo: Zoo, on_ready: Callable[[], None]) -> None:
    """Start, announce, serve until SIGINT/SIGTERM; SIGUSR1 writes the stats file."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, zoo.stopped.set)
    loop.add_signal_handler(signal.SIGUSR1, zoo.write_stats)
    try:
        await zoo.start()
        on_ready()
        await zoo.stopped.wait()
    finally:
        await zoo.close()


def serve(zoo: Zoo, on_ready: Callable[[], None]) -> None:
    """Run the zoo on uvloop when available (fewer syscalls per connection), with the
    scanner's garbage-collector setting (cliutil.GC_YOUNG_THRESHOLD): connections come
    and go by the thousand a second."""
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        asyncio.run(run(zoo, on_ready))
        return
    if sys.version_info >= (3, 12):  # pragma: no cover
        uvloop.run(run(zoo, on_ready))
    else:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        asyncio.run(run(zoo, on_ready))
