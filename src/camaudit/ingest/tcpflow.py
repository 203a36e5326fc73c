"""TCP reassembly for passive ingest: in-order bytes of each direction, bounded.

A device's reply often spans segments (an ISAPI document, a certificate
chain); identification needs the bytes in order. Each connection keeps, per
direction, the contiguous bytes from its first sequence number up to a cap
(:data:`SERVER_CAP` for what the server said, :data:`CLIENT_CAP` for the
requests), plus a few out-of-order segments waiting for the gap to fill.
Retransmissions and overlaps are trimmed; sequence numbers wrap modulo 2^32.

Who is the server: the receiver of a SYN, or the sender of a SYN-ACK. A
connection whose handshake was not captured is guessed from its ports (a
well-known or lower port serves) and marked ``sure=False``.

A connection is handed back (:meth:`FlowTable.segment` returns it) when both
sides sent FIN or either sent RST; connections idle for :data:`IDLE` seconds
of capture time, or the oldest ones when the table holds more than
:data:`MAX_FLOWS` connections or :data:`MAX_BUFFERED` bytes, are handed back
early with what they have. Memory is therefore bounded whatever the capture.

Source: RFC 9293 (TCP), §3.4 sequence numbers (modulo 2^32 comparison), §3.5
connection establishment (SYN, SYN-ACK), §3.6 closing (FIN) and §3.5.2 reset (RST).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

#: Bytes kept of what a server said on one connection, and of what its client asked.
SERVER_CAP = 128 * 1024
CLIENT_CAP = 16 * 1024
#: Out-of-order segments held per direction.
MAX_PENDING = 64
#: Connections tracked at once, and bytes buffered across all of them.
MAX_FLOWS = 16384
MAX_BUFFERED = 96 * 1024 * 1024
#: Seconds (capture time) after which a silent connection is handed back.
IDLE = 120.0

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
_WELL_KNOWN = frozenset({21, 23, 80, 81, 88, 443, 554, 1900, 2020, 3702, 5000, 8000, 8080,
                         8081, 8443, 8554, 8888, 8899, 34567, 37777})


class Half:
    """One direction of a connection: contiguous bytes from the start, plus waiting segments."""

    __slots__ = ("base", "cap", "data", "fin", "pending", "pending_bytes")

    def __init__(self, cap: int) -> None:
        self.base: int | None = None
        self.cap = cap
        self.data = bytearray()
        self.pending: dict[int, bytes] = {}
        self.pending_bytes = 0
        self.fin = False

    @property
    def size(self) -> int:
        """Bytes held: contiguous data plus waiting segments."""
        return len(self.data) + self.pending_bytes

    def syn(self, seq: int) -> None:
        if self.base is None or not self.data:
            self.base = (seq + 1) & 0xFFFFFFFF

    def add(self, seq: int, payload: bytes) -> int:
        """Place one segment; return the change in bytes held."""
        before = self.size
        if self.base is None:
            self.base = seq
        rel = (seq - self.base) & 0xFFFFFFFF
        if rel >= 0x80000000:  # starts before the base: keep only the part after it
            skip = 0x100000000 - rel
            if skip >= len(payload):
                return 0
            payload, rel = payload[skip:], 0
        if rel >= self.cap:
            return 0
        start = len(self.data)
        if rel > start:
            chunk = payload[:self.cap - rel]
            if (len(self.pending) < MAX_PENDING and rel not in self.pending
                    and self.pending_bytes + len(chunk) <= self.cap):
                self.pending[rel] = chunk
                self.pending_bytes += len(chunk)
            return self.size - before
        self.data += payload[start - rel:self.cap - rel]
        while self.pending:
            ready = sorted(r for r in self.pending if r <= len(self.data))
            if not ready:
                break
            for r in ready:
                chunk = self.pending.pop(r)
                self.pending_bytes -= len(chunk)
                end = len(self.data)
                if r + len(chunk) > end:
                    self.data += chunk[end - r:self.cap - r]
        return self.size - before


class Flow:
    """One TCP connection as seen: endpoints, server side, both directions' bytes."""

    __slots__ = ("client", "client_port", "first_speaker", "last", "open_seen", "rst",
                 "server", "server_port", "sure", "to_client", "to_server")

    def __init__(self, client: str, client_port: int, server: str, server_port: int,
                 sure: bool, ts: float) -> None:
        self.client, self.client_port = client, client_port
        self.server, self.server_port = server, server_port
        self.sure = sure
        self.to_server = Half(CLIENT_CAP)
        self.to_client = Half(SERVER_CAP)
        self.first_speaker: str | None = None  # "client" or "server"
        self.open_seen = False  # SYN-ACK or data from the server: the port is open
        self.rst = False
        self.last = ts

    @property
    def buffered(self) -> int:
        return self.to_server.size + self.to_client.size

    @property
    def done(self) -> bool:
        return self.rst or (self.to_server.fin and self.to_client.fin)

    def swap(self) -> None:
        """The handshake showed the guess was backwards."""
        self.client, self.server = self.server, self.client
        self.client_port, self.server_port = self.server_port, self.client_port
        self.to_server, self.to_client = self.to_client, self.to_server
        self.to_server.cap, self.to_client.cap = CLIENT_CAP, SERVER_CAP
        if self.first_speaker is not None:
            self.first_speaker = "client" if self.first_speaker == "server" else "server"


def _guess_server(a_port: int, b_port: int) -> bool:
    """True if the second endpoint (b) looks like the server."""
    if (b_port in _WELL_KNOWN) != (a_port in _WELL_KNOWN):
        return b_port in _WELL_KNOWN
    return b_port <= a_port


class FlowTable:
    """Live connections keyed by their endpoints, oldest first."""

    def __init__(self) -> None:
        self.flows: OrderedDict[tuple[str, int, str, int], Flow] = OrderedDict()
        self.buffered = 0
        self.now = 0.0
        self.evicted = 0

    def segment(self, ts: float, src: str, sport: int, dst: str, dport: int, seq: int,
                flags: int, payload: bytes) -> list[Flow]:
        """Account one segment; return connections that are finished (or pushed out)."""
        self.now = max(self.now, ts)
        key = (src, sport, dst, dport) if (src, sport) <= (dst, dport) \
            else (dst, dport, src, sport)
        flow = self.flows.get(key)
        if flow is None:
            if flags & RST and not payload:
                return []
            if flags & SYN:
                server_is_dst = not flags & ACK
                sure = True
            else:
                server_is_dst = _guess_server(sport, dport)
                sure = False
            flow = Flow(src, sport, dst, dport, sure, ts) if server_is_dst \
                else Flow(dst, dport, src, sport, sure, ts)
            self.flows[key] = flow
        else:
            self.flows.move_to_end(key)
            flow.last = ts
        from_client = (src, sport) == (flow.client, flow.client_port)
        if flags & SYN:
            if flags & ACK and from_client and not flow.sure:
                flow.swap()
                from_client = False
            flow.sure = True
            (flow.to_server if from_client else flow.to_client).syn(seq)
            if not from_client:
                flow.open_seen = True
        if payload:
            half = flow.to_server if from_client else flow.to_client
            if flow.first_speaker is None:
                flow.first_speaker = "client" if from_client else "server"
            if not from_client:
                flow.open_seen = True
            self.buffered += half.add(seq + (1 if flags & SYN else 0), payload)
        if flags & FIN:
            (flow.to_server if from_client else flow.to_client).fin = True
        if flags & RST:
            flow.rst = True
        finished: list[Flow] = []
        if flow.done:
            finished.append(self._pop(key))
        finished.extend(self._evict())
        return finished

    def _pop(self, key: tuple[str, int, str, int]) -> Flow:
        flow = self.flows.pop(key)
        self.buffered -= flow.buffered
        return flow

    def _evict(self) -> Iterator[Flow]:
        while self.flows:
            key, oldest = next(iter(self.flows.items()))
            if (len(self.flows) > MAX_FLOWS or self.buffered > MAX_BUFFERED
                    or oldest.last < self.now - IDLE):
                self.evicted += 1
                yield self._pop(key)
            else:
                return

    def drain(self) -> Iterator[Flow]:
        """Hand back every connection still open (end of capture)."""
        while self.flows:
            yield self._pop(next(iter(self.flows)))
