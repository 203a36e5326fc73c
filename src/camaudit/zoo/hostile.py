"""Hostile behaviour on a TCP port: the misbehaving peers a scanner must survive.

Service config (``proto: hostile``; ``mode`` plus ``payload``/``payload_hex``):

    blackhole   accept, read nothing, never answer (until the lifetime ends)
    drip        send `payload` one byte per `interval` seconds (default 1.0)
    endless     send `payload` as a head, then an endless body, as fast as read
    huge        send `payload` (a head announcing 1 GB), a few bytes, then hold
    garbage     answer every read (and the connect) with random binary bytes
    tls_abort   read a ClientHello, send a truncated ServerHello record, reset
    raw         send `payload` once (e.g. a malformed status line) and close
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from collections.abc import Mapping
from typing import Any

from camaudit.zoo.render import Device, as_bytes, fill
from camaudit.zoo.wire import Limits, read_head, read_some

MODES = frozenset({"blackhole", "drip", "endless", "huge", "garbage", "tls_abort", "raw"})
_CHUNK = b"A" * 16384


def truncated_server_hello() -> bytes:
    """A TLS record header announcing a 512-byte handshake, followed by 42 bytes of it.

    RFC 8446 s.5.1 record: type 22 (handshake), legacy version 0x0303, length;
    then a ServerHello (type 2) whose declared length exceeds what is sent.
    """
    hello = b"\x02" + struct.pack(">I", 508)[1:] + b"\x03\x03" + os.urandom(32) + b"\x20"
    return b"\x16\x03\x03" + struct.pack(">H", 512) + hello[:42]


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, device: Device,
                 service: Mapping[str, Any], limits: Limits) -> None:
    mode = str(service.get("mode", "blackhole"))
    payload = fill(as_bytes(service, "payload"), device.values())
    if mode == "blackhole":
        await asyncio.sleep(limits.lifetime)
    elif mode == "drip":
        interval = float(service.get("interval", 1.0))
        for i in range(len(payload)):
            writer.write(payload[i: i + 1])
            await writer.drain()
            await asyncio.sleep(interval)
    elif mode == "endless":
        await read_head(reader, limits)
        writer.write(payload)
        while True:
            writer.write(_CHUNK)
            await writer.drain()
    elif mode == "huge":
        await read_head(reader, limits)
        writer.write(payload + b"<html>")
        await writer.drain()
        await asyncio.sleep(limits.lifetime)
    elif mode == "garbage":
        while True:
            writer.write(os.urandom(512))
            await writer.drain()
            if not await read_some(reader, limits):
                return
    elif mode == "tls_abort":
        await read_some(reader, limits)
        writer.write(truncated_server_hello())
        await writer.drain()
        await asyncio.sleep(0.05)
        _reset(writer)
    else:  # raw
        await read_some(reader, limits)
        writer.write(payload)
        await writer.drain()
