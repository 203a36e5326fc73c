"""Real TCP listeners on loopback addresses that count who connected (for scanner tests)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterable


class Listeners:
    """Accept-and-close listeners on (address, port) pairs, run in a background thread."""

    def __init__(self, endpoints: Iterable[tuple[str, int]]) -> None:
        self.endpoints = sorted(set(endpoints))
        self.accepted: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._servers: list[asyncio.base_events.Server] = []
        self._error: BaseException | None = None

    def __enter__(self) -> Listeners:
        self._thread.start()
        self._ready.wait(10)
        if self._error:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        # let connections still queued for accept be accepted and closed by their handler
        # (a fast scanner can be done before this loop has seen them)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.1), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def reset(self) -> None:
        with self._lock:
            self.accepted.clear()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # surfaced in __enter__
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        for server in self._servers:
            server.close()
        self._loop.run_until_complete(asyncio.sleep(0))
        self._loop.close()

    async def _start(self) -> None:
        for address, port in self.endpoints:
            def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        address: str = address) -> None:
                with self._lock:
                    self.accepted[address] += 1
                writer.close()

            self._servers.append(await asyncio.start_server(handler, address, port,
                                                            reuse_address=True))
