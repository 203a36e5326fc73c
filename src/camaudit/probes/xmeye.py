"""XMeye / NETsurveillance "Sofia" protocol (TCP 34567): ask for SystemInfo.

Xiongmai boards (sold under countless brands) speak a binary-framed JSON
protocol on TCP 34567, which the OpenIPC project calls DVRIP. Each message
is a 20-byte little-endian header followed by JSON and ``\\n\\0``:

    offset 0  u8   0xff (head flag)         offset 8  u32 sequence number
    offset 1  u8   version (0)              offset 12 u16 (total/current packet)
    offset 2  u16  reserved                 offset 14 u16 message id
    offset 4  u32  session id               offset 16 u32 payload length

We send message 1020 ``SystemInfo`` with session 0 and no login. Devices that
demand a login answer with a non-100 ``Ret`` code — still a Sofia reply, and
still evidence of the maker. When the operator supplied credentials
(``Net.credentials``) we log in first (message 1000, password in the
published "sofia" MD5 folding) and then ask.

Sources (checked 2026-11-25):
- OpenIPC/python-dvr ``dvrip.py`` at 173c36cf264bb04d4c4a5b429dd0cdce15833bba
  (MIT): ``struct.pack("BB2xII2xHI", 255, 0, session, seq, msg, len)``, tail
  ``\\x0a\\x00``, QCODES ``SystemInfo: 1020``, login 1000 with
  ``EncryptType MD5 / LoginType DVRIP-Web``, ``sofia_hash``, Ret codes
  (100 OK, 101 unknown error, 105 not logged in, 106 bad user/password ...).
- OpenIPC/python-dvr ``README.md`` at 578985c46b3bfa465212ff295dbd176ddef4b0ba:
  a real ``get_system_info()`` result (shared/fixtures
  ``xiongmai-dvrip-systeminfo-hi3516ev300-85h50ai.json``), used in tests.

Fields (``xmeye``): reply_hex (first 64 bytes), recognised (bool), ret (int),
model (``DeviceModel``, else ``HardWare``), firmware (``SoftWareVersion``),
serial (``SerialNo``), build_time (``BuildTime``).
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Any

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation
from camaudit.netio import Connection, Net, NetError, open_tcp
from camaudit.probes.base import Probe

HEADER = struct.Struct("<BB2xII2xHI")
MSG_LOGIN = 1000
MSG_SYSTEM_INFO = 1020
MAX_PAYLOAD = 32 * 1024
_SOFIA_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def sofia_hash(password: str) -> str:
    """The 8-character password folding XMeye logins use (python-dvr ``sofia_hash``)."""
    md5 = hashlib.md5(password.encode("utf-8")).digest()
    return "".join(_SOFIA_CHARS[(md5[i] + md5[i + 1]) % 62] for i in range(0, 16, 2))


def build_message(msg_id: int, body: dict[str, Any], session: int = 0, seq: int = 0) -> bytes:
    """Header + compact JSON + ``\\n\\0``."""
    payload = json.dumps(body, separators=(",", ":")).encode() + b"\n\x00"
    return HEADER.pack(0xFF, 0, session, seq, msg_id, len(payload)) + payload


def system_info_request(session: int = 0, seq: int = 0) -> bytes:
    return build_message(MSG_SYSTEM_INFO,
                         {"Name": "SystemInfo", "SessionID": f"0x{session:08X}"}, session, seq)


def login_request(user: str, password: str) -> bytes:
    return build_message(MSG_LOGIN, {"EncryptType": "MD5", "LoginType": "DVRIP-Web",
                                     "PassWord": sofia_hash(password), "UserName": user})


def complete(data: bytes) -> bool:
    """True once a header and its declared (bounded) payload have arrived."""
    if len(data) < HEADER.size:
        return False
    length = int.from_bytes(data[16:20], "little")
    return length > MAX_PAYLOAD or len(data) >= HEADER.size + length


def _decode_json(payload: bytes) -> dict[str, Any] | None:
    text = bytes(b for b in payload if b >= 32 or b in (9, 10, 13)).decode("utf-8", "replace")
    try:
        obj = json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def parse_reply(data: bytes) -> dict[str, FieldValue]:
    """A Sofia reply -> fields; ``recognised`` needs the 0xff header and a JSON body with Ret."""
    if not data:
        raise ParseError("xmeye: empty reply", offset=0)
    fields: dict[str, FieldValue] = {"reply_hex": data[:64].hex(), "recognised": False}
    if len(data) < HEADER.size or data[0] != 0xFF:
        return fields
    _head, _version, _session, _seq, _msg_id, length = HEADER.unpack_from(data)
    if length > MAX_PAYLOAD or len(data) < HEADER.size + length:
        return fields
    body = _decode_json(data[HEADER.size:HEADER.size + length])
    if body is None or not isinstance(body.get("Ret"), int) or isinstance(body["Ret"], bool):
        return fields
    fields["recognised"] = True
    fields["ret"] = body["Ret"]
    info = body.get("SystemInfo")
    if isinstance(info, dict):
        for field, keys in (("model", ("DeviceModel", "HardWare")),
                            ("firmware", ("SoftWareVersion",)),
                            ("serial", ("SerialNo",)), ("build_time", ("BuildTime",))):
            for key in keys:
                value = info.get(key)
                if isinstance(value, str) and value.strip() and value != "Unknown":
                    fields[field] = value.strip()[:256]
                    break
    return fields


def session_of(data: bytes) -> int | None:
    """Session id of a successful login reply (Ret 100), else None."""
    if len(data) < HEADER.size or data[0] != 0xFF:
        return None
    length = int.from_bytes(data[16:20], "little")
    body = _decode_json(data[HEADER.size:HEADER.size + min(length, MAX_PAYLOAD)])
    if body is None or body.get("Ret") not in (100, 515):
        return None
    sid = body.get("SessionID")
    try:
        return int(sid, 16) if isinstance(sid, str) else None
    except ValueError:
        return None


async def _ask(conn: Connection, request: bytes) -> bytes:
    await conn.send(request)
    return await conn.read_until_idle(cap=HEADER.size + MAX_PAYLOAD, done=complete)


async def run(net: Net, address: str, port: int) -> list[Observation]:
    """SystemInfo without login; with operator credentials, log in first."""
    async with open_tcp(net, address, port, why="xmeye probe") as conn:
        try:
            session = 0
            if net.credentials is not None:
                creds = net.credentials
                reply = await _ask(conn, login_request(creds.user, creds.password))
                session = session_of(reply) or 0
            data = await _ask(conn, system_info_request(session, seq=1 if session else 0))
        except NetError:
            return []
    try:
        fields = parse_reply(data)
    except ParseError:
        return []
    return [Observation(address=address, port=port, probe="xmeye", fields=fields, raw=data)]


PROBE = Probe(name="xmeye", ports=frozenset({34567}), run=run, order=25)
