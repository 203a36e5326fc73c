"""Xiongmai NetSurveillance / XMeye "DVRIP-Web" on TCP 34567 (the Sofia protocol).

Framing as OpenIPC/python-dvr ``dvrip.py`` reads and writes it (commit
173c36cf264bb04d4c4a5b429dd0cdce15833bba): a 20-byte little-endian header
``head=0xFF, version, 2 reserved, session (u32), sequence (u32), 2 reserved,
message id (u16), payload length (u32)`` followed by JSON and ``\\n\\0``.
Login is message 1000, SystemInfo 1020; replies carry id+1 and a ``Ret``
code (100 OK, 203 password incorrect, 205 user does not exist — python-dvr's
CODES table). Passwords travel as the "sofia hash" (python-dvr ``sofia_hash``).

Service config (``proto: xmeye``): ``login_ok``, ``login_fail``,
``system_info``, ``not_logged_in`` — JSON text templates — and ``origin``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import struct
from collections.abc import Mapping
from typing import Any

from camaudit.errors import ParseError
from camaudit.zoo.render import ZOO_PASSWORD, ZOO_USER, Device, fill
from camaudit.zoo.wire import MAX_BODY, Limits

HEADER = struct.Struct("<BB2xII2xHI")
LOGIN, SYSINFO = 1000, 1020
_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def sofia_hash(password: str) -> str:
    """The 8-character password digest XMeye clients send (pairs of MD5 bytes mod 62)."""
    md5 = hashlib.md5(password.encode(), usedforsecurity=False).digest()
    return "".join(_CHARS[(a + b) % 62] for a, b in zip(md5[::2], md5[1::2], strict=True))


def parse_header(data: bytes) -> tuple[int, int, int, int]:
    """(session, sequence, message id, payload length) of a 20-byte header."""
    if len(data) < HEADER.size:
        raise ParseError("xmeye header shorter than 20 bytes", len(data))
    head, _version, session, seq, msg, length = HEADER.unpack_from(data)
    if head != 0xFF:
        raise ParseError("xmeye header does not start with 0xFF", 0)
    return session, seq, msg, length


def frame(msg: int, session: int, seq: int, payload: bytes) -> bytes:
    body = payload + b"\n\x00"
    return HEADER.pack(0xFF, 0, session, seq, msg, len(body)) + body


def reply(service: Mapping[str, Any], device: Device, msg: int, payload: bytes,
          session: int) -> tuple[bytes, int]:
    """(reply payload, session id) for one request (sans-IO)."""
    if msg == LOGIN:
        try:
            creds = json.loads(payload.rstrip(b"\n\x00").decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            creds = {}
        ok = (isinstance(creds, dict) and creds.get("UserName") == ZOO_USER
              and creds.get("PassWord") == sofia_hash(ZOO_PASSWORD))
        key = "login_ok" if ok else "login_fail"
        session = 0x1F if ok else 0
        return fill(str(service.get(key, '{"Ret": 203}')).encode(), device.values()), session
    if msg == SYSINFO and session:
        return fill(str(service.get("system_info", '{"Ret": 100}')).encode(),
                    device.values()), session
    return fill(str(service.get("not_logged_in", '{"Ret": 105}')).encode(),
                device.values()), session


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, device: Device,
                 service: Mapping[str, Any], limits: Limits) -> None:
    """Answer framed requests until the client closes, idles or sends non-XMeye bytes."""
    session = 0
    while True:
        try:
            head = await asyncio.wait_for(reader.readexactly(HEADER.size), limits.idle)
            _sess, seq, msg, length = parse_header(head)
            payload = await asyncio.wait_for(reader.readexactly(min(length, MAX_BODY)),
                                             limits.idle)
        except (asyncio.IncompleteReadError, TimeoutError, ParseError):
            return
        body, session = reply(service, device, msg, payload, session)
        writer.write(frame(msg + 1, session, seq, body))
        await writer.drain()
