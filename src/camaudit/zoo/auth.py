"""HTTP/RTSP Basic and Digest checks against the zoo login (RFC 7617, RFC 7616 / 2617).

The zoo answers unauthenticated requests with the persona's real challenge and
serves the protected response only to the zoo login, so a scanner's
credentialed path can be tested too. Verification is MD5 Digest with or
without ``qop=auth`` — what camera firmware offers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from camaudit.zoo.render import ZOO_PASSWORD, ZOO_USER

_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("latin-1"), usedforsecurity=False).hexdigest()


def digest_params(value: str) -> dict[str, str]:
    """The key=value pairs of a Digest header (bounded input, never raises)."""
    return {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _PARAM.finditer(value[:4096])}


def check(authorization: str | None, method: str) -> bool:
    """True when `authorization` carries the zoo login (Basic or Digest)."""
    if not authorization:
        return False
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(rest.strip(), validate=True).decode("latin-1")
        except (binascii.Error, ValueError):
            return False
        return decoded == f"{ZOO_USER}:{ZOO_PASSWORD}"
    if scheme.lower() != "digest":
        return False
    p = digest_params(rest)
    if p.get("username") != ZOO_USER or "response" not in p:
        return False
    ha1 = _md5(f"{ZOO_USER}:{p.get('realm', '')}:{ZOO_PASSWORD}")
    ha2 = _md5(f"{method}:{p.get('uri', '')}")
    if p.get("qop"):
        expect = _md5(f"{ha1}:{p.get('nonce', '')}:{p.get('nc', '')}:{p.get('cnonce', '')}:"
                      f"{p['qop']}:{ha2}")
    else:
        expect = _md5(f"{ha1}:{p.get('nonce', '')}:{ha2}")
    return expect == p["response"]
