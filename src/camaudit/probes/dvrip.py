"""Dahua DVRIP (TCP 37777): ask for the login challenge and read its realm.

Dahua devices and their OEM relabels (Amcrest, Lorex, ...) serve the binary
"DVRIP" protocol on TCP 37777. A client logs in in two steps: a login request
with empty hashes, answered by a challenge carrying ``Realm:`` and
``Random:`` lines, then the real login. We send only the first step — no
user name, no password — and stop: it is the same challenge any client gets
before it authenticates, and it changes nothing on the device.

Framing (all published by Tenable, not by Dahua):
- every message starts with a 32-byte header; byte 0 is the command
  (0xa0 = login), bytes 4..8 the little-endian payload length; the payload
  follows the header;
- the first-step request is ``a0 05 00 60``, four zero bytes (no payload),
  16 zero bytes (user and password hash), ``05 02 00 01 00 00 a1 aa``;
- the challenge reply's payload is text ``Realm:Login to <id>\\r\\nRandom:<n>\\r\\n``;
  bytes 16..20 of a reply header carry the session id after a successful login.

Sources (checked 2026-11-25):
- Jacob Baines (Tenable), "Amcrest Dahua NVR Camera IP2M-841 - Denial of
  Service (PoC)", CVE-2020-5735, Exploit-DB 48304
  (https://www.exploit-db.com/exploits/48304) and advisory TRA-2020-20
  (https://www.tenable.com/security/research/tra-2020-20): ``recv_response``
  (32-byte header, length at offset 4) and the "old style login request ...
  with blank hashes" that triggers the challenge. We use only that first step.
- bashis (mcw0), Dahua-JSON-Debug-Console-v2.py (github.com/mcw0/Tools),
  README: DVRIP is Dahua's binary protocol on TCP 37777.

No public sample reply was found; tests build the reply from the framing
above. ``device_type``/``serial`` stay unset: the challenge does not carry
them. A reply without a ``Realm:`` line is kept as ``reply_hex`` with
``recognised`` False.

Fields (``dvrip``): reply_hex (first 64 bytes), recognised (bool), realm.
"""

from __future__ import annotations

from camaudit.errors import ParseError
from camaudit.model import FieldValue, Observation
from camaudit.netio import Net, NetError, open_tcp
from camaudit.probes.base import Probe

HEADER = 32
MAX_PAYLOAD = 4096
CHALLENGE_REQUEST = (b"\xa0\x05\x00\x60" + b"\x00" * 4 + b"\x00" * 16
                     + b"\x05\x02\x00\x01\x00\x00\xa1\xaa")


def payload_length(data: bytes) -> int | None:
    """Declared payload length of a reply header, or None if the header is incomplete."""
    if len(data) < HEADER:
        return None
    return int.from_bytes(data[4:8], "little")


def complete(data: bytes) -> bool:
    """True once the header and its declared (bounded) payload have arrived."""
    length = payload_length(data)
    if length is None:
        return False
    return length > MAX_PAYLOAD or len(data) >= HEADER + length


def parse_reply(data: bytes) -> dict[str, FieldValue]:
    """A DVRIP reply -> {reply_hex, recognised[, realm]}; ParseError if empty."""
    if not data:
        raise ParseError("dvrip: empty reply", offset=0)
    fields: dict[str, FieldValue] = {"reply_hex": data[:64].hex(), "recognised": False}
    length = payload_length(data)
    if length is None or length > MAX_PAYLOAD or len(data) < HEADER + length:
        return fields
    text = data[HEADER:HEADER + length].decode("latin-1")
    for line in text.replace("\x00", "").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "Realm":
            fields["realm"] = value.strip()[:256]
            fields["recognised"] = True
            break
    return fields


async def run(net: Net, address: str, port: int) -> list[Observation]:
    """Send the first login step (no credentials) and parse the challenge."""
    async with open_tcp(net, address, port, why="dvrip probe") as conn:
        try:
            await conn.send(CHALLENGE_REQUEST)
        except NetError:
            return []
        data = await conn.read_until_idle(cap=HEADER + MAX_PAYLOAD, done=complete)
    try:
        fields = parse_reply(data)
    except ParseError:
        return []
    return [Observation(address=address, port=port, probe="dvrip", fields=fields, raw=data)]


PROBE = Probe(name="dvrip", ports=frozenset({37777}), run=run, order=25)
