"""Dahua DVRIP on TCP 37777: the realm/random challenge and the login verdict.

No raw capture of this exchange was found in public sources; the framing is
the one the Dahua JSON Debug Console reads and writes (mcw0/Tools
``Dahua-JSON-Debug-Console-v2.py``, commit 03dea63cb75ce15542c02bebdb4cffeca914912c):
32-byte headers; a client's ``a0 01 ..`` header asks for the realm and gets a
``b0 01 ..`` header whose bytes 4..8 (LE) give the length of a text body
``Realm:<realm>\\r\\nRandom:<n>\\r\\n``; a ``a0 05`` login is answered with a
``b0 ..`` header whose bytes 8..10 are ``00 08`` (success) or ``01 00``
(authentication failed); bytes 16..20 hold the session id. An old-style ``a0 05``
login with blank hashes and no payload is answered with the same realm challenge, as
Tenable's TRA-2020-20 PoC (Exploit-DB 48304) relies on. The zoo keeps to exactly those
fields and zero-fills the rest.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import struct
from collections.abc import Mapping
from typing import Any

from camaudit.zoo.render import ZOO_PASSWORD, ZOO_USER, Device, fill
from camaudit.zoo.wire import MAX_BODY, Limits

HEADER_SIZE = 32
_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _md5u(text: str) -> str:
    return hashlib.md5(text.encode("latin-1"), usedforsecurity=False).hexdigest().upper()


def _gen1(password: str) -> str:
    md5 = hashlib.md5(password.encode("latin-1"), usedforsecurity=False).digest()
    out = []
    for a, b in zip(md5[::2], md5[1::2], strict=True):
        v = (a + b) % 62
        out.append(chr(v + 48 if v < 10 else v + 55 if v < 36 else v + 61))
    return "".join(out)


def expected_login(realm: str, random: str) -> str:
    """The login body the zoo login produces (same recipe as the console tool)."""
    gen2 = _md5u(f"{ZOO_USER}:{random}:" + _md5u(f"{ZOO_USER}:{realm}:{ZOO_PASSWORD}"))
    return f"{ZOO_USER}&&{gen2}" + _md5u(f"{ZOO_USER}:{random}:{_gen1(ZOO_PASSWORD)}")


def header(kind: bytes, length: int = 0, code: bytes = b"\0\0", session: int = 0) -> bytes:
    """A 32-byte reply header: kind (4 bytes), LE length, code at 8..10, session at 16..20."""
    return (kind[:4] + struct.pack("<I", length) + code[:2] + b"\0" * 6
            + struct.pack("<I", session) + b"\0" * 12)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, device: Device,
                 service: Mapping[str, Any], limits: Limits) -> None:
    realm = fill(str(service.get("realm", "Login to {{serial}}")).encode(),
                 device.values()).decode("latin-1")
    random = str(secrets.randbelow(10**9))
    while True:
        try:
            head = await asyncio.wait_for(reader.readexactly(HEADER_SIZE), limits.idle)
        except (asyncio.IncompleteReadError, TimeoutError):
            return
        length = struct.unpack_from("<I", head, 4)[0]
        try:
            body = await asyncio.wait_for(reader.readexactly(min(length, MAX_BODY)), limits.idle)
        except (asyncio.IncompleteReadError, TimeoutError):
            return
        if head[0] != 0xA0:
            return  # not DVRIP: a real device drops the connection too
        if head[1] == 0x01 or (head[1] == 0x05 and length == 0):
            # 0xa0 0x01 asks for the realm (mcw0's console); an old-style 0xa0 0x05 login
            # with blank hashes and no payload gets the same challenge (Tenable TRA-2020-20,
            # Exploit-DB 48304: the first step of the PoC's login).
            text = f"Realm:{realm}\r\nRandom:{random}\r\n".encode()
            writer.write(header(b"\xb0\x01\x00\x68", len(text)) + text)
        elif head[1] == 0x05:
            ok = body.decode("latin-1") == expected_login(realm, random)
            writer.write(header(b"\xb0\x00\x00\x68", 0, b"\x00\x08" if ok else b"\x01\x00",
                                0x2A if ok else 0))
        else:
            writer.write(header(b"\xb0\x00\x00\x68", 0, b"\x01\x00"))
        await writer.drain()
