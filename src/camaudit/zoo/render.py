"""Per-device values and ``{{name}}`` templating of persona responses.

Responses are stored once per persona as bytes; values that differ per device
(address, serial, MAC, UUID) or per response (nonce, date, CSeq) are filled in
when a response is sent, so 5,000 devices cost no per-device copies.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate

from camaudit.zoo.personas import Persona

_PLACEHOLDER = re.compile(rb"\{\{(\w+)\}\}")

#: Where out-of-scope redirects, XAddrs and LOCATIONs of hostile personas point (a trap
#: listener counts connections to it). CAMAUDIT_ZOO_TRAP moves it, so that two zoos can
#: run side by side on one machine.
OUT_OF_SCOPE = os.environ.get("CAMAUDIT_ZOO_TRAP", "127.67.0.1")

#: The one login every emulated device accepts (Digest/Basic, XMeye, DVRIP).
ZOO_USER = "admin"
ZOO_PASSWORD = "zoo-Audit-2026"


@dataclass
class Device:
    """One emulated device: an address and a persona, plus derived identity values."""

    index: int
    address: str
    persona: Persona
    seed: int
    _values: dict[bytes, bytes] | None = field(default=None, repr=False)

    def _digest(self) -> bytes:
        return hashlib.sha256(f"{self.seed}:{self.index}:{self.persona.id}".encode()).digest()

    @property
    def mac(self) -> str | None:
        oui = self.persona.mac_oui
        if not oui:
            return None
        tail = self._digest()[:3]
        return oui.upper() + ":" + ":".join(f"{b:02X}" for b in tail)

    @property
    def uuid(self) -> str:
        h = self._digest().hex()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def values(self) -> dict[bytes, bytes]:
        """Per-device template values (computed on first use, then cached)."""
        if self._values is None:
            digest = self._digest().hex()
            mac = self.mac or "00:00:00:00:00:00"
            base: dict[str, str] = {
                "address": self.address, "n": str(self.index), "n9": f"{self.index:09d}",
                "hex8": digest[:8].upper(), "hex16": digest[:16],
                "hex32": digest[:32].upper(), "uuid": self.uuid,
                "mac": mac, "mac_lower": mac.lower(), "mac_plain": mac.replace(":", "").lower(),
                "out_of_scope": OUT_OF_SCOPE,
            }
            for key, value in self.persona.identity.items():
                base[key] = value or ""
            for key, value in self.persona.vars.items():
                base[key] = value
            first = {k.encode(): v.encode() for k, v in base.items()}
            serial = fill(self.persona.serial.encode(), first)
            first[b"serial"] = serial
            # vars may use serial/uuid: fill them once more
            self._values = {k: fill(v, first) for k, v in first.items()}
        return self._values

    @property
    def serial(self) -> str:
        return self.values()[b"serial"].decode()


def fill(template: bytes, values: Mapping[bytes, bytes],
         extra: Mapping[bytes, bytes] | None = None) -> bytes:
    """Replace ``{{name}}`` from `extra`, then `values`; fresh nonce/date/random per call."""
    if b"{{" not in template:
        return template

    def sub(match: re.Match[bytes]) -> bytes:
        key = match.group(1)
        if extra is not None and key in extra:
            return extra[key]
        if key in values:
            return values[key]
        if key == b"nonce":
            return secrets.token_hex(16).encode()
        if key == b"date":
            return formatdate(usegmt=True).encode()
        if key == b"random":
            return str(secrets.randbelow(10**9)).encode()
        return match.group(0)

    return _PLACEHOLDER.sub(sub, template)


def as_bytes(item: Mapping[str, object], text_key: str = "body",
             hex_key: str | None = None) -> bytes:
    """A response payload from a persona item: text (UTF-8) or hex."""
    hex_key = hex_key or f"{text_key}_hex"
    if hex_key in item:
        return bytes.fromhex(str(item[hex_key]).replace(" ", "").replace("\n", ""))
    value = item.get(text_key, "")
    return str(value if value is not None else "").encode("utf-8")
