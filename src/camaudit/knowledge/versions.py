"""Vendor firmware strings -> comparable versions (sans-IO, never raises on input).

Advisories state affected firmware in each vendor's own notation, so a plain
string or semver comparison gets them wrong. Each scheme below is read from
real strings (the fixtures in ``shared/fixtures`` and the advisories cited in
``data/vulns.yaml``):

=========== ============================================= ==========================
scheme      example                                       compared by
=========== ============================================= ==========================
vbuild      ``V5.5.0 build 170725``, ``IPC_G5_EN_STD_5.5.113_210317``
            (Hikvision), ``1.3.14 Build 240513`` (TP-Link)  (x, y, z), then build date
dahua       ``2.800.0000016.0.R, Build Date: 2020-06-05``  within a line (x.yyy.code):
            ``V2.622.0000000.31.R``, ``2.420.AC00.18.R.20200217``  revision, then date
xiongmai    ``V5.00.R02.000529B2.10010.040600.0020000``    within a hardware code:
                                                          (x, y, R), then the tail
reolink     ``v3.0.0.136_20121102``                       (a, b, c, build)
dotted      ``9.80.3.8`` (Axis), ``4.48.16`` (UniFi)      the numbers
=========== ============================================= ==========================

Two versions of different schemes, or of different lines of one scheme (a
Dahua ``00AC000`` Amcrest build against a generic ``0000000`` one), are
*incomparable*: :func:`compare` returns None and callers must answer
"possible", never guess. The build date, when the string carries one, is
kept apart because advisories such as Dahua's state ranges as "build time
before June 2021".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = ["Firmware", "build_date", "compare", "parse"]

#: Longest firmware string we try to read; anything longer is not a version.
MAX_LEN = 200


@dataclass(frozen=True)
class Firmware:
    """A parsed firmware string.

    `key` orders versions within one `scheme` and `line`; `build` is the build
    date when the string states one (it does not take part in `key` unless the
    scheme orders by it, as Hikvision's does after the version numbers).
    """

    raw: str
    scheme: str
    line: tuple[str, ...]
    key: tuple[int, ...]
    build: date | None = None


def _yymmdd(digits: str) -> date | None:
    """Read YYMMDD or YYYYMMDD; None if it is not a real date."""
    try:
        if len(digits) == 6:
            return date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
        if len(digits) == 8:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
    return None


def _date_key(d: date | None) -> tuple[int, ...]:
    return (d.year, d.month, d.day) if d else (0, 0, 0)


_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")

# Hikvision: "V5.5.0 build 170725", "V4.62.210 build 230619", "5.4.5 Build 160530".
_HIK = re.compile(r"^v?(\d{1,3})\.(\d{1,3})\.(\d{1,4})(?:\.\d{1,4})?\s*,?\s*build\s*(\d{6})\b",
                  re.IGNORECASE)
# Hikvision firmware package names: "IPC_G5_EN_STD_5.5.113_210317", "IPCK_E6_EN_STD_5.5.100_200226".
_HIK_PKG = re.compile(r"^[A-Z]{3,6}_[A-Z]\d_[A-Z]{2}_[A-Z]{2,4}_v?(\d{1,3})\.(\d{1,3})\.(\d{1,4})"
                      r"_(\d{6})$", re.IGNORECASE)
# Dahua: "2.800.0000016.0.R", "V2.622.0000000.31.R", "2.420.AC00.18.R.20200217",
# "2.800.00AC000.0.R.200330", "2.800.0000000.6.R.200314.bin".
_DAHUA = re.compile(r"^v?(\d{1,2})\.(\d{3})\.([0-9A-Z]{4,8})\.(\d{1,3})\.([A-Z])"
                    r"(?:\.(\d{6}|\d{8}))?(?:\.bin)?\b", re.IGNORECASE)
# Xiongmai: "V5.00.R02.000529B2.10010.040600.0020000", "V4.02.R11.34500140.10010.130700.00000".
_XM = re.compile(r"^v?(\d{1,2})\.(\d{2})\.R(\d{1,3})\.([0-9A-F]{8})((?:\.\d{1,8}){1,4})$",
                 re.IGNORECASE)
# Reolink: "v3.0.0.136_20121102", "v2.0.0.1389_18081408" (YYMMDD + 2-digit sequence).
_REOLINK = re.compile(r"^v(\d{1,2})\.(\d{1,2})\.(\d{1,2})\.(\d{1,6})_(\d{8})$", re.IGNORECASE)
# Anything with a dotted numeric core: "9.80.3.8", "1.84.1", "1.3.14 Build 240513 Rel.43631n".
_DOTTED = re.compile(r"^v?(\d{1,6}(?:\.\d{1,6}){1,5})(?=$|[\s,_(\-])"
                     r"(?:\s*build\s*(\d{6}|\d{8}))?", re.IGNORECASE)


def parse(text: str | None) -> Firmware | None:
    """Read a vendor firmware string; None when it is not one we can compare.

    Never raises: device replies are hostile input.
    """
    if not isinstance(text, str):
        return None
    raw = text.strip()
    if not raw or len(raw) > MAX_LEN:
        return None
    iso = _ISO_DATE.search(raw)
    stated = None
    if iso:
        stated = _yymmdd(iso.group(1) + iso.group(2) + iso.group(3))

    if m := _HIK.match(raw):
        built = _yymmdd(m.group(4))
        nums = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return Firmware(raw, "vbuild", (), nums + _date_key(built), built)
    if m := _HIK_PKG.match(raw):
        built = _yymmdd(m.group(4))
        nums = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return Firmware(raw, "vbuild", (), nums + _date_key(built), built)
    if m := _DAHUA.match(raw):
        built = _yymmdd(m.group(6)) if m.group(6) else stated
        line = (m.group(1), m.group(2), m.group(3).upper())
        return Firmware(raw, "dahua", line, (int(m.group(4)), *_date_key(built)), built)
    if m := _XM.match(raw):
        tail = tuple(int(p) for p in m.group(5).strip(".").split("."))
        key = (int(m.group(1)), int(m.group(2)), int(m.group(3)), *tail)
        return Firmware(raw, "xiongmai", (m.group(4).upper(), str(len(tail))), key, None)
    if m := _REOLINK.match(raw):
        built = _yymmdd(m.group(5)[:6])
        key = tuple(int(m.group(i)) for i in range(1, 5))
        return Firmware(raw, "reolink", (), key, built)
    if m := _DOTTED.match(raw):
        parts = tuple(int(p) for p in m.group(1).split("."))
        built = _yymmdd(m.group(2)) if m.group(2) else stated
        return Firmware(raw, "dotted", (), parts, built)
    return None


def _pad(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


def compare(a: Firmware, b: Firmware) -> int | None:
    """-1, 0 or 1 as `a` is older, the same or newer than `b`; None if incomparable."""
    if a.scheme != b.scheme or a.line != b.line:
        return None
    ka, kb = _pad(a.key, b.key)
    return (ka > kb) - (ka < kb)


def build_date(text: str | None) -> date | None:
    """The build date a firmware string states, if any (for "built before" ranges)."""
    fw = parse(text)
    return fw.build if fw else None
