"""The server certificate of a TLS port, sans-IO: DER bytes in, ``tls`` fields out.

Cameras and recorders ship factory certificates whose subject and issuer
often name the maker or the model (and sometimes a serial), and whose
fingerprint repeats across every unit of a firmware line. We record them; we
never trust them (``netio`` does not verify certificates).

Fields (``tls`` in the vocabulary of :mod:`camaudit.probes`):
``subject`` and ``issuer`` (RFC 4514 strings), ``san`` (list: DNS names, IP
addresses, e-mail addresses and URIs as written), ``serial`` (lower-case hex,
``-`` prefixed when a broken encoder made it negative), ``not_before`` /
``not_after`` (ISO 8601 UTC), ``fingerprint_sha256`` (hex of the DER) and
``self_signed`` (issuer equals subject and the signature verifies with the
certificate's own key; name equality alone when the key type cannot verify).

Boundary: ``cryptography`` raises ``ValueError`` (and, for odd encodings,
``TypeError``/``UnicodeError``, ``InvalidVersion``, ``DuplicateExtension``) on malformed DER, some
lazily when a field is first read; all of them become :class:`camaudit.errors.ParseError` here. Its
deprecation warnings about non-conforming certificates (negative serials,
bad extension encodings) are silenced: such certificates are evidence, not
errors.
"""

from __future__ import annotations

import hashlib
import warnings

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from camaudit.errors import ParseError
from camaudit.model import FieldValue

#: Largest certificate we parse (real ones are 0.5-2 KiB).
MAX_DER = 16 * 1024
#: Longest subject/issuer string and SAN entry kept, and most SAN entries.
MAX_NAME = 512
MAX_SAN_ENTRY = 256
MAX_SAN = 32


def _cap(text: str, limit: int) -> str:
    return text.replace("\0", "")[:limit]


def _san(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    out: list[str] = []
    for kind in (x509.DNSName, x509.IPAddress, x509.RFC822Name,
                 x509.UniformResourceIdentifier):
        for value in ext.value.get_values_for_type(kind):
            out.append(_cap(str(value), MAX_SAN_ENTRY))
    return out[:MAX_SAN]


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError):
        return False
    except UnsupportedAlgorithm:
        return True  # cannot check the signature; names agree
    return True


def parse_certificate(der: bytes) -> dict[str, FieldValue]:
    """Read a DER certificate into ``tls`` fields; ParseError if it is not one."""
    if not der:
        raise ParseError("tls: no certificate", 0)
    if len(der) > MAX_DER:
        raise ParseError(f"tls: certificate of {len(der)} bytes exceeds {MAX_DER}", MAX_DER)
    fields: dict[str, FieldValue] = {"fingerprint_sha256": hashlib.sha256(der).hexdigest()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cert = x509.load_der_x509_certificate(der)
            serial = cert.serial_number
            fields.update({
                "subject": _cap(cert.subject.rfc4514_string(), MAX_NAME),
                "issuer": _cap(cert.issuer.rfc4514_string(), MAX_NAME),
                "serial": f"-{-serial:x}" if serial < 0 else f"{serial:x}",
                "not_before": cert.not_valid_before_utc.isoformat(),
                "not_after": cert.not_valid_after_utc.isoformat(),
            })
            fields["san"] = _san(cert)
            fields["self_signed"] = _self_signed(cert)
        except (ValueError, TypeError, UnicodeError, OverflowError,
                x509.InvalidVersion, x509.DuplicateExtension,
                x509.UnsupportedGeneralNameType) as exc:
            raise ParseError(f"tls: unreadable certificate ({type(exc).__name__}: "
                             f"{str(exc)[:120]})", 0) from exc
    return fields
