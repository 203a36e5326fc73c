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
import select
import socket
import ssl
import struct
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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

    @property
    def waiting(self) -> bool:
        return bool(self._waiters)

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
        #: descriptors left over below the limit: what the sweep may keep for reuse
        self.spare_fds = usable - self.max_sockets
        self._limiter = _Limiter(self.max_sockets)

    def try_acquire(self) -> bool:
        """Take a slot now, without waiting, if one is free and --rate allows; else False."""
        limiter = self._limiter
        if limiter.free <= 0 or limiter.waiting:
            return False
        if self.rate > 0:
            now = time.monotonic()
            if self._next_slot > now:
                return False
            self._next_slot = now + 1.0 / self.rate
        limiter.free -= 1
        self.attempts += 1
        return True

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


class _Stream(asyncio.Protocol):
    """The bytes of one connection as they arrive, with at most one reader waiting.

    A plain protocol instead of asyncio's StreamReader/StreamWriter pair: a probe
    connection is short and read by one task, and a scan makes a dozen of them per
    device, so the streams' futures, locks and close handshake cost more than the
    reading itself. Bytes that arrived before the peer reset the connection are still
    handed out; the error comes after them.
    """

    #: Reading pauses (TCP backpressure) while this many bytes wait unread.
    LIMIT = 256 * 1024

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.ssl_object: ssl.SSLObject | None = None  # kept: the transport drops it on close
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.lost: asyncio.Future[None] | None = None  # set once the transport is gone
        self._waiter: asyncio.Future[bool] | None = None  # a read waiting for bytes
        self._drained: asyncio.Future[None] | None = None  # a send waiting for the kernel
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.ssl_object = transport.get_extra_info("ssl_object")
        self.lost = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > self.LIMIT and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # nothing more to say once the peer is done: close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        if self.lost is not None and not self.lost.done():
            self.lost.set_result(None)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(True)

    async def read(self, limit: int, timeout: float) -> bytes:
        """Up to `limit` bytes; b"" at EOF; TimeoutError if none came within `timeout`."""
        if not self.buffer and not self.eof:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(timeout, _give_up, waiter)
            try:
                if not await waiter:
                    raise TimeoutError
            finally:
                timer.cancel()
                self._waiter = None
        if not self.buffer and self.error is not None:
            raise self.error
        data = bytes(self.buffer[:limit])
        del self.buffer[:limit]
        if self._paused and len(self.buffer) <= self.LIMIT and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def drain(self, timeout: float) -> None:
        """Wait until the kernel took what was written (TimeoutError after `timeout`)."""
        if self.error is not None or (self.lost is not None and self.lost.done()):
            raise ConnectionResetError("connection lost")
        drained = self._drained
        if drained is None or drained.done():
            return
        async with asyncio.timeout(timeout):
            await asyncio.shield(drained)
        if self.error is not None:
            raise self.error


def _give_up(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class Connection:
    """A bounded TCP (or TLS) stream to one in-scope device; holds a budget slot until closed."""

    def __init__(self, transport: asyncio.Transport, stream: _Stream, net: Net) -> None:
        self.transport = transport
        self.stream = stream
        self.net = net
        self.received = 0  # bytes read so far, against net.max_bytes
        self.closed = False

    def at_eof(self) -> bool:
        """The peer closed and every byte it sent has been read."""
        return self.stream.eof and not self.stream.buffer

    def peer_certificate(self) -> bytes | None:
        obj = self.stream.ssl_object
        if obj is None:
            return None
        der: bytes | None = obj.getpeercert(binary_form=True)
        return der

    async def send(self, data: bytes) -> None:
        try:
            if self.transport.is_closing():
                raise ConnectionResetError("connection lost")
            self.transport.write(data)
            await self.stream.drain(self.net.read_timeout)
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
            data = await self.stream.read(want, timeout or self.net.read_timeout)
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
        """Close the socket, then give its budget slot back (once; later calls do nothing)."""
        if self.closed:
            return
        self.closed = True
        try:
            self.transport.close()
            lost = self.stream.lost
            if lost is not None and self.stream.ssl_object is not None:
                with contextlib.suppress(Exception):  # TLS: the peer's close_notify, bounded
                    async with asyncio.timeout(0.5):
                        await asyncio.shield(lost)
        finally:
            self.net.budget.release()


def _gate(net: Net, address: str, why: str) -> None:
    if not net.scope.allows(address):
        net.scope.refuse(address, why)
        raise OutOfScope(f"{address} is outside the scan scope ({why})")


def _quiet_late_tls_data(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's error handler while a scan makes TLS connections: drops uvloop's report
    of TLS bytes that came after the socket was closed, passes on everything else.

    uvloop's SSL protocol may try to answer such bytes (a device's close_notify or alert)
    on the closed socket and reports "Fatal error on SSL protocol ... the handler is
    closed" with a traceback (MagicStack/uvloop#506, open; checked 2026-12-01). The
    connection is over by then and nothing is lost, but the traceback reached the
    operator's terminal a few times per scan (``make demo`` included).
    """
    exc = context.get("exception")
    if (isinstance(exc, RuntimeError) and "the handler is closed" in str(exc)
            and type(context.get("protocol")).__name__ == "SSLProtocol"):
        return
    loop.default_exception_handler(context)


async def connect(net: Net, address: str, port: int, *, tls: bool = False,
                  server_hostname: str | None = None, why: str = "probe") -> Connection:
    """Connect to address:port through the gate and the budget; the caller closes it.

    For a connection that outlives one block (an HTTP client keeping it for its next
    request); otherwise use :func:`open_tcp`.
    """
    _gate(net, address, why)
    loop = asyncio.get_running_loop()
    if tls and loop.get_exception_handler() is None:
        loop.set_exception_handler(_quiet_late_tls_data)
    connector = _CONNECTORS.get(loop)
    parked = connector.take(address, port, net.budget) if connector is not None else None
    if parked is None and not net.budget.try_acquire():
        await net.budget.acquire()
    try:
        async with asyncio.timeout(net.connect_timeout):
            transport, stream = await _connect(address, port, tls, server_hostname, parked)
    except BaseException as exc:
        if parked is not None:
            parked.close()
        net.budget.release()
        if isinstance(exc, TimeoutError):
            raise TimedOut(f"connect to {address}:{port} timed out") from exc
        if isinstance(exc, OSError):  # ssl.SSLError (a failed handshake) included
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                net.budget.emfile_events += 1
            raise Refused(f"connect to {address}:{port}: {exc.strerror or exc}") from exc
        raise
    return Connection(transport, stream, net)


@contextlib.asynccontextmanager
async def open_tcp(net: Net, address: str, port: int, *, tls: bool = False,
                   server_hostname: str | None = None,
                   why: str = "probe") -> AsyncIterator[Connection]:
    """Connect to address:port through the gate and the budget; always closes."""
    conn = await connect(net, address, port, tls=tls, server_hostname=server_hostname,
                         why=why)
    try:
        yield conn
    finally:
        await conn.close()


async def _connect(address: str, port: int, tls: bool, server_hostname: str | None,
                   sock: socket.socket | None = None) -> tuple[asyncio.Transport, _Stream]:
    """A connection to address:port: on `sock` when it is connected already (parked)."""
    loop = asyncio.get_running_loop()
    where: dict[str, Any] = {"sock": sock} if sock is not None else {"host": address,
                                                                      "port": port}
    if tls:
        return await loop.create_connection(
            _Stream, **where, ssl=TLS_CONTEXT, server_hostname=server_hostname or "",
            ssl_handshake_timeout=5.0)
    return await loop.create_connection(_Stream, **where)


_IN_PROGRESS = (errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY)
_EMFILE = (errno.EMFILE, errno.ENFILE)
_NONBLOCK_STREAM = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)
#: epoll events of a connect that failed (refused, unreachable, reset); Linux only, as is uvloop.
_FAILED = select.EPOLLERR | select.EPOLLHUP
#: A sweep socket reports one connect result, then waits disarmed in the set to be reused.
_ARM = select.EPOLLOUT | select.EPOLLONESHOT
#: What connect() returns on a socket whose last attempt failed: nothing was sent and the
#: socket is unconnected again (Linux __inet_stream_connect: the pending error, else
#: ECONNABORTED). Anything else and the socket is closed instead of reused.
_RESET = frozenset({errno.ECONNABORTED, errno.ECONNREFUSED, errno.ECONNRESET,
                    errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT})
#: At most this many reset sockets wait for reuse (fewer if the fd limit is tight).
POOL_MAX = 4096
SOL_SOCKET, SO_ERROR = socket.SOL_SOCKET, socket.SO_ERROR


class _Batch:
    """The connect attempts of one sweep call: its sockets by fd, its open ports, one waiter."""

    __slots__ = ("budget", "found", "future", "loop", "sealed", "socks", "timer")

    def __init__(self, loop: asyncio.AbstractEventLoop, budget: Budget) -> None:
        self.loop = loop
        self.budget = budget
        self.socks: dict[int, tuple[socket.socket, str, int]] = {}
        self.found: list[tuple[str, int]] = []
        self.sealed = False  # every connect of the batch has been sent
        self.future: asyncio.Future[None] = loop.create_future()
        self.timer: asyncio.TimerHandle | None = None

    def seal(self, timeout: float) -> None:
        self.sealed = True
        if self.socks:
            self.timer = self.loop.call_later(timeout, self.abort)
        else:
            self.finish()

    def finish(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.future.done():
            self.future.set_result(None)

    def abort(self) -> None:
        """Time is up (or the caller went away): every attempt still pending is not open."""
        connector = _CONNECTORS.get(self.loop)
        for fd, (sock, _, _) in self.socks.items():
            if connector is not None:
                connector.waiting.pop(fd, None)
            sock.close()
            self.budget.release()
        self.socks.clear()
        self.finish()
        if connector is not None:
            connector.maybe_close()


class _Connector:
    """One epoll set for every sweep connect on a loop: readiness costs no future, task or timer.

    The loop watches the epoll descriptor; when it turns readable, every
    finished connect is collected by one ``epoll_wait`` and settled in place.
    Sockets are armed one-shot, so a socket whose connect was refused stays in
    the set, disarmed, and is *reused*: on Linux a connect() after a failed
    attempt sends nothing, returns the pending error (or ECONNABORTED) and
    leaves the socket unconnected, ready for the next attempt. That saves
    socket(), close() and two epoll_ctl calls on nearly every attempt of a
    sweep (most ports are closed). Reused sockets are capped by the file
    descriptors the budget leaves spare (:attr:`Budget.spare_fds`). The
    connector closes, pool included, once no sweep call uses it and nothing
    is waiting, so it never outlives its loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, pool_max: int) -> None:
        self.loop = loop
        self.epoll = select.epoll()
        self.register = self.epoll.register
        self.modify = self.epoll.modify
        self.waiting: dict[int, _Batch] = {}
        self.pool: list[socket.socket] = []  # AF_INET, reset, in the set but disarmed
        self.pool_max = pool_max
        self.users = 0  # tcp_sweep calls in progress: the connector stays open for them
        self.closed = False
        #: (address, port) -> a connected socket the sweep found open, kept for the first
        #: probe of that port (:func:`connect`), its budget slot and when it was parked;
        #: only within a :func:`sweep_session` that asks for it
        self.parked: dict[tuple[str, int], tuple[socket.socket, Budget, float]] = {}
        self.parking = 0  # sessions that park open sockets
        self.expiry: asyncio.TimerHandle | None = None  # closes what no probe took in time
        loop.add_reader(self.epoll.fileno(), self._ready)

    def found_open(self, sock: socket.socket, address: str, port: int, budget: Budget) -> None:
        """An attempt of the sweep connected: park the socket for the probes (its budget
        slot with it), or close it with RST (SO_LINGER 0: no TIME_WAIT is left behind)."""
        if self.parking:
            with contextlib.suppress(OSError):  # not in the set when connect() succeeded at once
                self.epoll.unregister(sock.fileno())
            old = self.parked.pop((address, port), None)
            if old is not None:
                _reset(old[0], old[1])
            self.parked[(address, port)] = (sock, budget, time.monotonic())
            if self.expiry is None:
                self.expiry = self.loop.call_later(PARK_SECONDS, self._expire_later)
            return
        _reset(sock, budget)

    def _expire_later(self) -> None:
        self.expiry = None
        self.expire()
        if self.parked:  # again when the oldest left is due
            since = next(iter(self.parked.values()))[2]
            self.expiry = self.loop.call_later(
                max(0.0, since + PARK_SECONDS - time.monotonic()), self._expire_later)

    def take(self, address: str, port: int, budget: Budget) -> socket.socket | None:
        """The parked socket of address:port if it is fresh (PARK_SECONDS), still open and
        holds a slot of `budget`: the caller owns both from now on."""
        self.expire()
        found = self.parked.pop((address, port), None)
        if found is None:
            return None
        sock, owner, _ = found
        if owner is not budget or not _still_open(sock):
            _reset(sock, owner)
            return None
        return sock

    def expire(self) -> None:
        """Close the parked sockets no probe took in time (the oldest come first)."""
        limit = time.monotonic() - PARK_SECONDS
        while self.parked:
            key, (sock, budget, since) = next(iter(self.parked.items()))
            if since > limit:
                return
            del self.parked[key]
            _reset(sock, budget)

    def _ready(self) -> None:
        waiting = self.waiting
        pool = self.pool
        for fd, events in self.epoll.poll(0, 4096):
            batch = waiting.pop(fd, None)
            if batch is None:
                continue
            sock, address, port = batch.socks.pop(fd)
            if not events & _FAILED and sock.getsockopt(SOL_SOCKET, SO_ERROR) == 0:
                batch.found.append((address, port))
                self.found_open(sock, address, port, batch.budget)
            else:
                if (len(pool) < self.pool_max and sock.family == socket.AF_INET
                        and sock.connect_ex((address, port)) in _RESET):
                    pool.append(sock)
                else:
                    sock.close()
                batch.budget.release()
            if batch.sealed and not batch.socks:
                batch.finish()
        if self.parked:
            self.expire()
        self.maybe_close()

    def maybe_close(self) -> None:
        if not self.waiting and not self.users and not self.closed:
            self.closed = True
            if _CONNECTORS.get(self.loop) is self:
                del _CONNECTORS[self.loop]
            for sock in self.pool:
                sock.close()
            self.pool.clear()
            for sock, budget, _ in self.parked.values():
                _reset(sock, budget)
            self.parked.clear()
            if self.expiry is not None:
                self.expiry.cancel()
                self.expiry = None
            self.loop.remove_reader(self.epoll.fileno())
            self.epoll.close()


_CONNECTORS: dict[asyncio.AbstractEventLoop, _Connector] = {}
#: How long a socket the sweep found open waits for the first probe of its port. The
#: probes of a host start once its sweep batch is done and the loop gets to them (a
#: few hundred ms in a busy scan); a socket older than this is closed and the probe
#: connects afresh, and so is one the device closed meanwhile (devices wait far longer
#: than this for a client's first request).
PARK_SECONDS = 2.0


def _still_open(sock: socket.socket) -> bool:
    """Whether the peer has not closed or reset a parked connection (bytes it sent first,
    a banner, stay unread for the probe)."""
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return True  # nothing to read yet: open
    except OSError:
        return False


def _reset(sock: socket.socket, budget: Budget) -> None:
    """Close a sweep socket with RST (SO_LINGER 0: no TIME_WAIT) and free its slot."""
    with contextlib.suppress(OSError):
        sock.setsockopt(SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    sock.close()
    budget.release()


def _live_connector(loop: asyncio.AbstractEventLoop, budget: Budget) -> _Connector:
    connector = _CONNECTORS.get(loop)
    if connector is None:
        connector = _CONNECTORS[loop] = _Connector(
            loop, min(POOL_MAX, budget.max_sockets, budget.spare_fds))
    return connector


@contextlib.contextmanager
def sweep_session(budget: Budget, *, park: bool = True) -> Iterator[None]:
    """Keep this loop's sweep connector, and the sockets it reuses, open across sweep calls.

    Without a session the connector closes whenever no sweep call is running,
    which in a scan happens between two waves of hosts and throws the pool away.
    With `park`, a port the sweep finds open keeps its connection for the first
    probe of that port (:func:`connect`) instead of being closed and connected
    again a moment later: one connection fewer per open port, for the scanner
    and for the device.
    """
    connector = _live_connector(asyncio.get_running_loop(), budget)
    connector.users += 1
    connector.parking += park
    try:
        yield
    finally:
        connector.parking -= park
        connector.users -= 1
        connector.maybe_close()


async def tcp_ports_open(net: Net, address: str, ports: list[int], timeout: float) -> list[int]:
    """Which of `ports` accept a TCP connection on `address` (see :func:`tcp_sweep`)."""
    found = await tcp_sweep(net, [address], ports, timeout)
    return found[address]


async def tcp_sweep(net: Net, addresses: list[str], ports: list[int],
                    timeout: float) -> dict[str, list[int]]:
    """The sweep's hot path: the open `ports` of each address, in ascending order.

    Every attempt passes the gate and takes a slot of the shared budget
    (sockets in flight, --rate). Sockets are bare and non-blocking; their
    connects are watched by one epoll set per loop (:class:`_Connector`) and
    reused after a refusal, so a closed port costs three cheap syscalls
    (connect, epoll_ctl, the resetting connect) and no Python future, task or
    timer: one timer bounds the whole batch to `timeout` after its last
    connect. Open ports are closed with RST. Running out of file descriptors
    pauses, retries and is counted, never fatal.
    """
    for address in addresses:
        _gate(net, address, "sweep")
    budget = net.budget
    limiter = budget._limiter
    loop = asyncio.get_running_loop()
    batch = _Batch(loop, budget)
    socks = batch.socks
    connector = _live_connector(loop, budget)
    connector.users += 1
    pool = connector.pool
    try:
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            for port in ports:
                if budget.rate <= 0 and limiter.free > 0 and not limiter.waiting:
                    limiter.free -= 1  # Budget.try_acquire, inlined: this runs per attempt
                    budget.attempts += 1
                else:
                    await budget.acquire()
                if pool and family == socket.AF_INET:
                    sock, rearm = pool.pop(), True
                else:
                    rearm = False
                    try:
                        sock = socket.socket(family, _NONBLOCK_STREAM)
                    except OSError as exc:
                        retried = await _new_socket_after(exc, budget, family)
                        if retried is None:
                            continue
                        sock = retried
                rc = sock.connect_ex((address, port))
                if rc in _IN_PROGRESS:
                    fd = sock.fileno()
                    socks[fd] = (sock, address, port)
                    connector.waiting[fd] = batch
                    if rearm:
                        connector.modify(fd, _ARM)
                    else:
                        connector.register(fd, _ARM)
                    continue
                if rc == 0:
                    batch.found.append((address, port))
                    connector.found_open(sock, address, port, budget)
                    continue
                sock.close()
                budget.release()
        batch.seal(timeout)
        await batch.future
    finally:
        if socks:
            batch.abort()
        connector.users -= 1
        connector.maybe_close()
    result: dict[str, list[int]] = {address: [] for address in addresses}
    for address, port in batch.found:
        result[address].append(port)
    for open_ports in result.values():
        open_ports.sort()
    return result


async def _new_socket_after(exc: OSError, budget: Budget, family: int) -> socket.socket | None:
    """socket() failed with `exc` (slot taken): out of fds pauses and retries; else raise."""
    for attempt in range(3):
        if exc.errno not in _EMFILE:
            budget.release()
            raise exc
        budget.emfile_events += 1
        await asyncio.sleep(0.05 * (attempt + 1))
        try:
            return socket.socket(family, _NONBLOCK_STREAM)
        except OSError as again:
            exc = again
    budget.release()
    return None


class _Replies(asyncio.DatagramProtocol):
    """Collects the replies of one :func:`udp_exchange`; `done` resolves when it may stop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, address: str, max_replies: int,
                 linger: float | None, max_bytes: int) -> None:
        self.loop = loop
        self.address = address
        self.max_replies = max_replies
        self.linger = linger
        self.max_bytes = max_bytes
        self.replies: list[bytes] = []
        self.done: asyncio.Future[None] = loop.create_future()

    def end(self) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        replies = self.replies
        if addr[0] == self.address and len(replies) < self.max_replies:
            replies.append(data[: self.max_bytes])
            if len(replies) >= self.max_replies:
                self.end()
            elif self.linger is not None and len(replies) == 1:
                self.loop.call_later(self.linger, self.end)

    def error_received(self, exc: Exception) -> None:
        self.end()


async def udp_exchange(net: Net, address: str, port: int, payload: bytes, *,
                       timeout: float | None = None, max_replies: int = 4,
                       linger: float | None = None, why: str = "probe") -> list[bytes]:
    """Send one datagram to an in-scope unicast address; collect replies until timeout.

    Collection ends at `max_replies`, at `timeout`, on an ICMP error, or —
    when `linger` is given — `linger` seconds after the first reply (for
    protocols whose further replies, if any, follow within a known delay).
    """
    _gate(net, address, why)
    loop = asyncio.get_running_loop()
    async with net.budget.slot():
        try:
            transport, proto = await loop.create_datagram_endpoint(
                lambda: _Replies(loop, address, max_replies, linger, net.max_bytes),
                remote_addr=(address, port))
        except OSError as exc:
            raise Refused(f"udp to {address}:{port}: {exc}") from exc
        try:
            transport.sendto(payload)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout or net.read_timeout):
                    await proto.done
        finally:
            transport.close()
    return proto.replies
