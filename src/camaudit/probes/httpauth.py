"""HTTP authentication, sans-IO: read challenges, answer them with operator credentials.

``WWW-Authenticate`` tells us the device's realm (often a model or serial)
even when we have no credentials, so every probe reads it; RTSP uses the same
syntax. When the operator supplied :class:`camaudit.probes.base.Credentials`,
:func:`authorization` answers one challenge:

- Basic, RFC 7617 section 2: ``base64(user ":" password)``.
- Digest, RFC 7616 section 3.4: algorithms MD5 (the default), MD5-sess,
  SHA-256 and SHA-256-sess; ``qop=auth`` when offered, else the RFC 2069
  form without qop (old cameras). ``auth-int`` alone is not supported.

Challenge grammar: RFC 9110 section 11.6.1 (``challenge = auth-scheme [ 1*SP
( token68 / #auth-param ) ]``, several challenges in one header separated by
commas). Parsing is lenient and never raises: junk yields fewer challenges.

The value returned by :func:`authorization` is a secret: callers put it on
the wire and nowhere else (never in an observation, a log or an error).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field

from camaudit.probes.base import Credentials

#: Longest header value we look at, and most challenges/params we keep.
MAX_VALUE = 4096
MAX_CHALLENGES = 8
MAX_PARAMS = 16

_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789"
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_HASHES = {"md5": hashlib.md5, "sha-256": hashlib.sha256}


@dataclass(frozen=True)
class Challenge:
    """One auth challenge: scheme as sent, parameter names lower-cased."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


class _Scanner:
    """A cursor over a header value; every method stays inside the string."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self, chars: str = " \t") -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def token(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _TCHAR:
            self.pos += 1
        return self.text[start:self.pos]

    def quoted(self) -> str:
        """A quoted-string starting at the opening quote (RFC 9110 5.6.4)."""
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            if ch == '"':
                break
            if ch == "\\" and self.pos < len(self.text):
                ch = self.text[self.pos]
                self.pos += 1
            out.append(ch)
        return "".join(out)

    def value(self) -> str:
        if self.peek() == '"':
            return self.quoted()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ", \t":
            self.pos += 1
        return self.text[start:self.pos]


def parse_challenges(value: str) -> list[Challenge]:
    """All challenges in one ``WWW-Authenticate`` value, in order; never raises.

    Every step consumes at least one character or ends a loop, so any input
    terminates in time linear in its (capped) length.
    """
    scan = _Scanner(value[:MAX_VALUE])
    out: list[Challenge] = []
    while scan.pos < len(scan.text) and len(out) < MAX_CHALLENGES:
        scan.skip(" \t,")
        scheme = scan.token()
        if not scheme:
            if scan.peek() == '"':
                scan.quoted()
            else:
                scan.pos += 1  # junk before a scheme: step over it
            continue
        params: dict[str, str] = {}
        first = True
        while scan.pos < len(scan.text):
            before = scan.pos
            scan.skip(" \t,")
            after_comma = "," in scan.text[before:scan.pos]
            mark = scan.pos
            name = scan.token()
            scan.skip()
            if name and scan.peek() == "=":
                scan.pos += 1
                scan.skip()
                if scan.peek() == "=":  # token68 with padding, e.g. "YII=="
                    scan.skip("=")
                elif len(params) < MAX_PARAMS:
                    params.setdefault(name.lower(), scan.value())
                else:
                    scan.value()
            elif name and first and not after_comma and scan.peek() in ("", ","):
                pass  # a token68 credential blob right after the scheme: no params
            elif name:
                scan.pos = mark  # the next challenge's scheme
                break
            elif scan.peek() == '"':
                scan.quoted()  # a stray quoted string: skip it whole
            elif scan.pos < len(scan.text):
                scan.pos += 1  # junk inside the parameter list
            first = False
        out.append(Challenge(scheme, params))
    return out


def pick(challenges: list[Challenge]) -> Challenge | None:
    """The challenge we would answer: Digest we can compute, else Basic."""
    digest = [c for c in challenges if c.scheme.lower() == "digest" and _digest_ok(c)]
    if digest:
        return digest[0]
    basic = [c for c in challenges if c.scheme.lower() == "basic"]
    return basic[0] if basic else None


def _digest_ok(ch: Challenge) -> bool:
    algo = ch.params.get("algorithm", "MD5").lower().removesuffix("-sess")
    qops = _qops(ch)
    return algo in _HASHES and "nonce" in ch.params and (not qops or "auth" in qops)


def _qops(ch: Challenge) -> list[str]:
    return [q.strip().lower() for q in ch.params.get("qop", "").split(",") if q.strip()]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def authorization(challenge: Challenge, creds: Credentials, method: str, uri: str,
                  *, cnonce: str | None = None, nc: int = 1) -> str | None:
    """The ``Authorization`` value answering `challenge`, or None if we cannot."""
    scheme = challenge.scheme.lower()
    if scheme == "basic":
        raw = f"{creds.user}:{creds.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")
    if scheme != "digest" or not _digest_ok(challenge):
        return None
    p = challenge.params
    algorithm = p.get("algorithm", "MD5")
    hash_fn = _HASHES[algorithm.lower().removesuffix("-sess")]

    def h(text: str) -> str:
        return hash_fn(text.encode("utf-8")).hexdigest()

    realm, nonce = p.get("realm", ""), p["nonce"]
    cnonce = cnonce or secrets.token_hex(8)
    ha1 = h(f"{creds.user}:{realm}:{creds.password}")
    if algorithm.lower().endswith("-sess"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    parts = [f"username={_quote(creds.user)}", f"realm={_quote(realm)}",
             f"nonce={_quote(nonce)}", f"uri={_quote(uri)}"]
    if "auth" in _qops(challenge):
        count = f"{nc:08x}"
        response = h(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}")
        parts += [f"response={_quote(response)}", "qop=auth", f"nc={count}",
                  f"cnonce={_quote(cnonce)}"]
    else:
        parts.append(f"response={_quote(h(f'{ha1}:{nonce}:{ha2}'))}")
    if "algorithm" in p:
        parts.append(f"algorithm={algorithm}")
    if "opaque" in p:
        parts.append(f"opaque={_quote(p['opaque'])}")
    return "Digest " + ", ".join(parts)
