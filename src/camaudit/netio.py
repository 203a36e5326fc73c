"""The only place camaudit opens a connection.

Every TCP connection and UDP datagram of the sweep and of every probe goes
through :func:`open_tcp` / :func:`udp_exchange`, which (1) ask the scope gate,
(2) take a slot of the shared :class:`Budget` (sockets in flight and
connections per second) and (3) bound time and bytes. Library errors become
:class:`NetError` here, so probes handle one exception type.

    NetError
     ├── OutOfScope      the gate refused the address (recorded, not contacted)
     ├── Refused         connection refused / host unreachable
     ├── TimedOut        connect or read took longer than allowed
     └── TooMuch         the peer sent more than the read cap
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import resource
import socket
import ssl
import struct
import time
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from camaudit.errors import ResourceError
from camaudit.scope import Scope

if TYPE_CHECKING:
    from camaudit.probes.base import Credentials

#: SO_LINGER on, 0 s: close() sends RST, so a sweep leaves no TIME_WAIT sockets behind.
_LINGER_RESET = struct.pack("ii", 1, 0)

#: File descriptors kept free for the database, logs and the event loop.
FD_RESERVE = 64


class NetError(Exception):
    pass


class OutOfScope(NetError):
    pass


class Refused(NetError):
    pass


class TimedOut(NetError):
    pass


class TooMuch(NetError):
    pass


def raise_fd_limit() -> int:
    """Raise the soft file-descriptor limit to the hard one; return the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65_536)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return soft


class _Limiter:
    """A FIFO counting limiter with O(1) release (asyncio.Semaphore in 3.11 rescans waiters)."""

    def __init__(self, limit: int) -> None:
        self.free = limit
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self) -> None:
        if self.free > 0 and not self._waiters:
            self.free -= 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # we were handed a slot while being cancelled
            raise

    def release(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # hand the slot straight to the next waiter
                return
        self.free += 1


@dataclass
class Budget:
    """Sockets in flight and connection attempts per second, shared by sweep and probes."""

    max_sockets: int = 1024
    rate: float = 0.0  # attempts per second; 0 = unlimited
    emfile_events: int = 0
    attempts: int = 0
    _limiter: _Limiter = field(init=False, repr=False)
    _next_slot: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        limit = raise_fd_limit()
        usable = limit - FD_RESERVE
        if usable < 16:
            raise ResourceError(
                f"the file-descriptor limit is {limit}: too low to scan; raise it "
                f"(ulimit -n 1024 or more)")
        self.max_sockets = max(1, min(self.max_sockets, usable))
        self._limiter = _Limiter(self.max_sockets)

    async def acquire(self) -> None:
        await self._limiter.acquire()
        self.attempts += 1
        if self.rate > 0:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self.rate
            if slot > now:
                try:
                    await asyncio.sleep(slot - now)
                except BaseException:
                    self._limiter.release()
                    raise

    def release(self) -> None:
        self._limiter.release()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


@dataclass
class Net:
    """What a probe needs to talk to a device: the gate, the budget and the bounds."""

    scope: Scope
    budget: Budget
    connect_timeout: float = 2.0
    read_timeout: float = 3.0
    max_bytes: int = 256 * 1024
    #: Given only by the operator; probes send it to in-scope devices and never record it.
    credentials: Credentials | None = field(default=None, repr=False)


def _tls_context() -> ssl.SSLContext:
    # Cameras ship self-signed factory certificates: we record them, we do not trust them.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # old cameras speak TLS 1.0; we only read their cert
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    with contextlib.suppress(ssl.SSLError):
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    return ctx


TLS_CONTEXT = _tls_context()


class Connection:
    """A bounded TCP (or TLS) stream to one in-scope device."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 net: Net) -> None:
        self.reader = reader
        self.writer = writer
        self.net = net
        self.received = 0

    def peer_certificate(self) -> bytes | None:
        obj = self.writer.get_extra_info("ssl_object")
        if obj is None:
            return None
        der: bytes | None = obj.getpeercert(binary_form=True)
        return der

    async def send(self, data: bytes) -> None:
        try:
            self.writer.write(data)
            await asyncio.wait_for(self.writer.drain(), self.net.read_timeout)
        except TimeoutError as exc:
            raise TimedOut("send timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            raise Refused(f"send failed: {exc}") from exc

    async def read_some(self, limit: int | None = None, timeout: float | None = None) -> bytes:
        """Read up to `limit` bytes (at most what is left of the byte cap)."""
        left = self.net.max_bytes - self.received
        if left <= 0:
            raise TooMuch(f"peer sent more than {self.net.max_bytes} bytes")
        want = min(limit or 65_536, left)
        try:
            data = await asyncio.wait_for(self.reader.read(want),
                                          timeout or self.net.read_timeout)
        except TimeoutError as exc:
            raise TimedOut("read timed out") from exc
        except (OSError, ssl.SSLError, EOFError) as exc:
            raise Refused(f"read failed: {exc}") from exc
        self.received += len(data)
        return data

    async def read_until_idle(self, *, deadline: float | None = None,
                              stop: bytes | None = None,
                              cap: int | None = None,
                              done: Callable[[bytes], bool] | None = None) -> bytes:
        """Read until EOF, `stop` seen, `done(buffer)` true, `cap` bytes, or time runs out.

        `done` lets a binary protocol stop once its length-framed reply is complete.
        Hostile peers (slow drip, endless body) end here with what was received.
        """
        end = time.monotonic() + (deadline if deadline is not None else self.net.read_timeout)
        cap = min(cap or self.net.max_bytes, self.net.max_bytes)
        buf = bytearray()
        while len(buf) < cap:
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            try:
                chunk = await self.read_some(cap - len(buf), timeout=remaining)
            except (TimedOut, TooMuch):
                break
            if not chunk:
                break
            buf += chunk
            if stop is not None and stop in buf:
                break
            if done is not None and done(bytes(buf)):
                break
        return bytes(buf)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 0.5)


def _gate(net: Net, address: str, why: str) -> None:
    if not net.scope.allows(address):
        net.scope.refuse(address, why)
        raise OutOfScope(f"{address} is outside the scan scope ({why})")


@contextlib.asynccontextmanager
async def open_tcp(net: Net, address: str, port: int, *, tls: bool = False,
                   server_hostname: str | None = None,
                   why: str = "probe") -> AsyncIterator[Connection]:
    """Connect to address:port through the gate and the budget; always closes."""
    _gate(net, address, why)
    async with net.budget.slot():
        try:
            reader, writer = await asyncio.wait_for(
                _connect(address, port, tls, server_hostname), net.connect_timeout)
        except TimeoutError as exc:
            raise TimedOut(f"connect to {address}:{port} timed out") from exc
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                net.budget.emfile_events += 1
            raise Refused(f"connect to {address}:{port}: {exc.strerror or exc}") from exc
        except ssl.SSLError as exc:
            raise Refused(f"TLS handshake with {address}:{port} failed: {exc}") from exc
        conn = Connection(reader, writer, net)
        try:
            yield conn
        finally:
            await conn.close()


async def _connect(address: str, port: int, tls: bool,
                   server_hostname: str | None) -> tuple[asyncio.StreamReader,
                                                         asyncio.StreamWriter]:
    if tls:
        return await asyncio.open_connection(
            address, port, ssl=TLS_CONTEXT, server_hostname=server_hostname or "",
            ssl_handshake_timeout=5.0, limit=256 * 1024)
    return await asyncio.open_connection(address, port, limit=256 * 1024)


_IN_PROGRESS = (errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY)


async def tcp_ports_open(net: Net, address: str, ports: list[int], timeout: float) -> list[int]:
    """The sweep's hot path: which of `ports` accept a TCP connection on `address`.

    Each attempt is a bare non-blocking socket whose connect() is tried
    synchronously first — on a LAN or loopback a refusal or an accept is often
    known at once, with no future, timer or task. Only attempts still in
    progress wait on the event loop, concurrently, up to `timeout`. Sockets are
    closed with RST. Running out of file descriptors pauses, retries and is
    counted, never fatal.
    """
    _gate(net, address, "sweep")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    budget = net.budget
    found: list[int] = []
    pending: list[tuple[int, socket.socket]] = []
    try:
        for port in ports:
            sock = await _new_socket(budget, family)
            if sock is None:
                continue
            rc = sock.connect_ex((address, port))
            if rc in _IN_PROGRESS:
                pending.append((port, sock))
                continue
            sock.close()
            budget.release()
            if rc == 0:
                found.append(port)
        if pending:
            results = await asyncio.gather(*(_await_connect(s, timeout) for _, s in pending))
            found.extend(p for (p, _), ok in zip(pending, results, strict=True) if ok)
    finally:
        for _, sock in pending:
            sock.close()
            budget.release()
    return sorted(found)


async def _new_socket(budget: Budget, family: int) -> socket.socket | None:
    for attempt in range(3):
        await budget.acquire()
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:
            budget.release()
            if exc.errno not in (errno.EMFILE, errno.ENFILE):
                raise
            budget.emfile_events += 1
            await asyncio.sleep(0.05 * (attempt + 1))
            continue
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        return sock
    return None


async def _await_connect(sock: socket.socket, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    fd = sock.fileno()
    loop.add_writer(fd, lambda: done.done() or done.set_result(None))
    try:
        async with asyncio.timeout(timeout):
            await done
    except TimeoutError:
        return False
    finally:
        loop.remove_writer(fd)
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0


async def udp_exchange(net: Net, address: str, port: int, payload: bytes, *,
                       timeout: float | None = None, max_replies: int = 4,
                       why: str = "probe") -> list[bytes]:
    """Send one datagram to an in-scope unicast address; collect replies until timeout."""
    _gate(net, address, why)
    loop = asyncio.get_running_loop()
    replies: list[bytes] = []
    done = loop.create_future()

    class _Proto(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            if addr[0] == address and len(replies) < max_replies:
                replies.append(data[: net.max_bytes])
                if len(replies) >= max_replies and not done.done():
                    done.set_result(None)

        def error_received(self, exc: Exception) -> None:
            if not done.done():
                done.set_result(None)

    async with net.budget.slot():
        try:
            transport, _ = await loop.create_datagram_endpoint(
                _Proto, remote_addr=(address, port))
        except OSError as exc:
            raise Refused(f"udp to {address}:{port}: {exc}") from exc
        try:
            transport.sendto(payload)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(done), timeout or net.read_timeout)
        finally:
            transport.close()
    return replies
