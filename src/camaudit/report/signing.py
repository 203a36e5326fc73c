"""Ed25519 keys for signing evidence bundles.

``camaudit keygen --out KEY`` writes the private key as PKCS#8 PEM with mode
0600 (created that way, never widened later) and the public key beside it as
``KEY.pub`` (SubjectPublicKeyInfo PEM, which ``openssl pkeyutl -verify`` reads).
The private key is not encrypted: keep it where only the auditor can read it.
cryptography's exceptions become ConfigError/UsageError here, and nowhere else.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from camaudit.errors import ConfigError, UsageError


def public_path(private: Path) -> Path:
    return private.with_name(private.name + ".pub")


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, hex: what a manifest records of its signer."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _create(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise UsageError(f"{path}: exists; refusing to overwrite a key (use --force)") from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot create: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def generate_key(path: Path, *, force: bool = False) -> tuple[Path, Path]:
    """Write a new private key (0600) to `path` and its public key to `path`.pub."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    pub = public_path(path)
    if force:
        for old in (path, pub):
            old.unlink(missing_ok=True)
    _create(path, private, 0o600)
    _create(pub, public_pem(key.public_key()), 0o644)
    return path, pub


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the signing key: {exc.strerror or exc}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path}: not an Ed25519 key (make one with camaudit keygen)")
    return key


def parse_public_key(data: bytes, origin: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{origin}: not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{origin}: not an Ed25519 public key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the public key: {exc.strerror or exc}") from exc
    return parse_public_key(data, str(path))


def signature_valid(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
