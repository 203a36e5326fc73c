"""Secrets of the console: password hashes, API tokens, session ids, CSRF tokens, the login
rate limit and the key that encrypts stored device credentials.

- Passwords: argon2id (argon2-cffi defaults, RFC 9106's second recommended option).
- API tokens and session ids: 32 random bytes; only their SHA-256 is stored, so a stolen
  database holds nothing to log in with. A fast hash suffices for 256-bit random secrets.
- CSRF: one random token per session, sent back in every form (or the X-CSRF-Token header
  that htmx sets) and compared in constant time.
- Device credentials: Fernet (AES-128-CBC + HMAC-SHA256, ``cryptography``) with a key in a
  file outside the database (mode 0600), so a copy of the database alone reveals no login.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

from camaudit.errors import UsageError

TOKEN_PREFIX = "cam_"
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < 12:
        raise UsageError("a password needs at least 12 characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the user does not exist, so that a login for an unknown
# name takes as long as one with a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def burn_time(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def new_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> tuple[str, str, str]:
    """(token shown once, its SHA-256 to store, a prefix to recognise it in lists)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, digest(token), token[:10]


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


class RateLimit:
    """At most `limit` failed logins per key (user name, client address) in `window` s."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        seen = self._failures[key]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        return seen

    def retry_after(self, *keys: str) -> int:
        """Seconds until a blocked key may try again; 0 when none is blocked."""
        now = time.monotonic()
        with self._lock:
            waits = [int(seen[0] + self.window - now) + 1 for key in keys
                     if len(seen := self._prune(key, now)) >= self.limit]
        return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._prune(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


class Vault:
    """Encrypts device credentials with a key kept in a file outside the database."""

    def __init__(self, key_file: Path) -> None:
        self.key_file = key_file
        self._fernet = Fernet(self._load_or_create(key_file))

    @staticmethod
    def _load_or_create(path: Path) -> bytes:
        try:
            return path.read_bytes().strip()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise UsageError(f"cannot read the credential key {path}: {exc.strerror}") from exc
        key = Fernet.generate_key()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key + b"\n")
        except OSError as exc:
            raise UsageError(f"cannot create the credential key {path}: {exc.strerror}") from exc
        return key

    def seal(self, username: str, password: str) -> bytes:
        return self._fernet.encrypt(json.dumps({"username": username,
                                                "password": password}).encode())

    def open(self, secret: bytes) -> tuple[str, str]:
        try:
            data = json.loads(self._fernet.decrypt(secret))
        except (InvalidToken, ValueError) as exc:
            raise UsageError("a stored credential cannot be decrypted with the key in "
                             f"{self.key_file} (was the key replaced?)") from exc
        return str(data["username"]), str(data["password"])
