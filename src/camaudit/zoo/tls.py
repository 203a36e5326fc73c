"""TLS for HTTPS personas: a factory-like self-signed certificate per persona, made at start.

One RSA key serves the whole zoo process (key generation dominates start-up;
one certificate per persona is signed with it). The subject and issuer come
from the persona (``cert: {subject: {CN, OU, O, L, ST, C}, issuer: ...}``), e.g.
Hikvision's default certificate as rapid7/recog x509_subjects.xml records it.
"""

from __future__ import annotations

import datetime as dt
import ssl
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

_OIDS = {"CN": NameOID.COMMON_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
         "O": NameOID.ORGANIZATION_NAME, "L": NameOID.LOCALITY_NAME,
         "ST": NameOID.STATE_OR_PROVINCE_NAME, "C": NameOID.COUNTRY_NAME,
         "E": NameOID.EMAIL_ADDRESS}
_DIR = tempfile.TemporaryDirectory(prefix="camaudit-zoo-tls-")


@lru_cache(maxsize=1)
def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(fields: Mapping[str, Any]) -> x509.Name:
    # Order as given in the persona (C, ST, L, O, OU, CN in most factory certs)
    return x509.Name([x509.NameAttribute(_OIDS[k], str(v)) for k, v in fields.items()
                      if k in _OIDS])


def certificate(cert: Mapping[str, Any]) -> x509.Certificate:
    """A self-signed certificate with the persona's subject and issuer names."""
    subject = _name(cert.get("subject") or {"CN": "zoo"})
    issuer = _name(cert.get("issuer") or cert.get("subject") or {"CN": "zoo"})
    day = dt.date.fromisoformat(str(cert.get("not_before", "2020-01-01")))
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    years = int(cert.get("years", 10))
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(_key().public_key()).serial_number(int(cert.get("serial", 1)))
            .not_valid_before(start).not_valid_after(start + dt.timedelta(days=365 * years))
            .sign(_key(), hashes.SHA256()))


_CACHE: dict[tuple[str, int], ssl.SSLContext] = {}


def context(persona_id: str, port: int, cert: Mapping[str, Any]) -> ssl.SSLContext:
    """A server SSLContext for one persona's HTTPS port (made once per persona and port)."""
    cached = _CACHE.get((persona_id, port))
    if cached is not None:
        return cached
    folder = Path(_DIR.name)
    pem = folder / f"{persona_id}-{port}.pem"
    key = folder / "key.pem"
    if not key.exists():
        key.write_bytes(_key().private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    pem.write_bytes(certificate(cert).public_bytes(serialization.Encoding.PEM))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem, key)
    _CACHE[(persona_id, port)] = ctx
    return ctx
