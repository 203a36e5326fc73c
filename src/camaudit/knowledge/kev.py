"""The CISA Known Exploited Vulnerabilities (KEV) catalogue: read, check, pick the newest.

Source: https://www.cisa.gov/known-exploited-vulnerabilities-catalog (CC0 1.0;
the shipped snapshot is ``data/kev/known_exploited_vulnerabilities.json``,
catalogVersion 2025.08.25, from github.com/cisagov/kev-data). A KEV entry names
a vendor and product, not firmware versions; the ranges live in ``vulns.yaml``.
Whether a CVE is "in KEV" is decided here, at run time, so that
``camaudit update`` turns a ``cve:`` finding into a ``kev:`` one when CISA adds it.

:func:`parse_catalogue` is sans-IO (bytes in, :class:`Catalogue` out, or
:class:`KevError` saying what is wrong); :func:`current` picks the operator's
update when it is newer than the shipped snapshot.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from camaudit.errors import ConfigError
from camaudit.knowledge.paths import data_path, user_kev_path

SNAPSHOT = "kev/known_exploited_vulnerabilities.json"
KEV_URL = "https://www.cisa.gov/known-exploited-vulnerabilities-catalog"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,19}$")
_VERSION = re.compile(r"^\d{4}\.\d{2}\.\d{2}$")
#: Largest catalogue we accept (the 2025 catalogue is 1.3 MB).
MAX_BYTES = 64 * 1024 * 1024


class KevError(ConfigError):
    """A KEV catalogue that cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class KevEntry:
    cve: str
    vendor: str
    product: str
    name: str
    date_added: str
    required_action: str
    notes: str
    ransomware: str


@dataclass
class Catalogue:
    version: str  # catalogVersion, e.g. "2025.08.25"
    released: str  # dateReleased
    entries: dict[str, KevEntry] = field(default_factory=dict)
    origin: str = "shipped snapshot"

    def __contains__(self, cve: object) -> bool:
        return cve in self.entries

    def get(self, cve: str) -> KevEntry | None:
        return self.entries.get(cve)

    @property
    def label(self) -> str:
        return f"{self.version} (released {self.released[:10]}, {self.origin})"


def _text(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key, "")
    if not isinstance(value, str):
        raise KevError(f"{where}: field {key!r} must be text")
    return value


def parse_catalogue(data: bytes, origin: str) -> Catalogue:
    """Check and read a catalogue in CISA's JSON format; KevError says what is wrong."""
    if len(data) > MAX_BYTES:
        raise KevError(f"{origin}: {len(data)} bytes is larger than a KEV catalogue can be")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise KevError(f"{origin}: not UTF-8 text (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise KevError(f"{origin}:{exc.lineno}: not JSON ({exc.msg})") from exc
    if not isinstance(doc, dict):
        raise KevError(f"{origin}: not a KEV catalogue (top level is not an object)")
    for key in ("catalogVersion", "dateReleased", "vulnerabilities"):
        if key not in doc:
            raise KevError(f"{origin}: not a KEV catalogue (no {key!r})")
    version, released, vulns = doc["catalogVersion"], doc["dateReleased"], doc["vulnerabilities"]
    if not isinstance(version, str) or not _VERSION.match(version):
        raise KevError(f"{origin}: catalogVersion {version!r} is not YYYY.MM.DD")
    if not isinstance(released, str):
        raise KevError(f"{origin}: dateReleased must be text")
    if not isinstance(vulns, list) or not vulns:
        raise KevError(f"{origin}: 'vulnerabilities' must be a non-empty list")
    if isinstance(doc.get("count"), int) and doc["count"] != len(vulns):
        raise KevError(f"{origin}: count says {doc['count']} but {len(vulns)} entries follow")
    cat = Catalogue(version=version, released=released, origin=origin)
    for i, item in enumerate(vulns):
        where = f"{origin}: vulnerabilities[{i}]"
        if not isinstance(item, dict):
            raise KevError(f"{where}: not an object")
        cve = _text(item, "cveID", where)
        if not _CVE.match(cve):
            raise KevError(f"{where}: cveID {cve!r} is not CVE-YYYY-NNNN")
        cat.entries[cve] = KevEntry(
            cve=cve, vendor=_text(item, "vendorProject", where),
            product=_text(item, "product", where),
            name=_text(item, "vulnerabilityName", where),
            date_added=_text(item, "dateAdded", where),
            required_action=_text(item, "requiredAction", where),
            notes=_text(item, "notes", where),
            ransomware=_text(item, "knownRansomwareCampaignUse", where))
    return cat


def read_catalogue(path: Path, origin: str) -> Catalogue:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KevError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return parse_catalogue(data, origin)


def _version_key(cat: Catalogue) -> tuple[date, str]:
    y, m, d = (int(p) for p in cat.version.split("."))
    return date(y, m, d), cat.released


@cache
def shipped() -> Catalogue:
    return read_catalogue(data_path(SNAPSHOT), "shipped snapshot")


def current() -> Catalogue:
    """The newest usable catalogue: the operator's update if newer, else the snapshot.

    A damaged update file is ignored in favour of the snapshot (it was checked
    when written, so damage means someone edited it); `update` reports it.
    """
    base = shipped()
    path = user_kev_path()
    if not path.exists():
        return base
    try:
        mine = read_catalogue(path, f"update {path}")
    except KevError:
        return base
    return mine if _version_key(mine) >= _version_key(base) else base
