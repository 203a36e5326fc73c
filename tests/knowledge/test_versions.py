"""Firmware version parsing and ordering on real vendor strings (fixtures and advisories)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from camaudit.knowledge.versions import build_date, compare, parse

# (string, scheme, build date) - origins: shared/fixtures (Hikvision ISAPI deviceInfo,
# Dahua getSoftwareVersion, Xiongmai DVRIP SystemInfo, Reolink GetDevInfo, Axis VAPIX,
# Tapo), NVD CVE-2017-7921, Talos TALOS-2021-1424, Tenable's CVE-2020-5735 record and the
# Watchful IP CVE-2021-36260 write-up.
REAL = [
    ("V5.5.0 build 170725", "vbuild", date(2017, 7, 25)),
    ("V5.4.5 build 170124", "vbuild", date(2017, 1, 24)),
    ("V5.4.0 Build 160401", "vbuild", date(2016, 4, 1)),
    ("V5.7.17 build 240606", "vbuild", date(2024, 6, 6)),
    ("V4.62.210 build 230619", "vbuild", date(2023, 6, 19)),
    ("IPC_G5_EN_STD_5.5.113_210317", "vbuild", date(2021, 3, 17)),
    ("IPCK_E6_EN_STD_5.5.100_200226", "vbuild", date(2020, 2, 26)),
    ("2.800.0000016.0.R,build:2020-06-05", "dahua", date(2020, 6, 5)),
    ("V2.622.0000000.31.R, Build Date: 2020-10-10", "dahua", date(2020, 10, 10)),
    ("2.800.0000000.16.R", "dahua", None),
    ("2.420.AC00.18.R.20200217", "dahua", date(2020, 2, 17)),
    ("2.800.00AC000.0.R.200330", "dahua", date(2020, 3, 30)),
    ("2.800.0000000.6.R.200314.bin", "dahua", date(2020, 3, 14)),
    ("V5.00.R02.000529B2.10010.040600.0020000", "xiongmai", None),
    ("v3.0.0.136_20121102", "reolink", date(2020, 12, 11)),
    ("v2.0.0.1389_18081408", "reolink", date(2018, 8, 14)),
    ("9.80.3.8", "dotted", None),
    ("5.51", "dotted", None),
    ("1.84.1", "dotted", None),
    ("1.3.14 Build 240513 Rel.43631n(5553)", "vbuild", date(2024, 5, 13)),
    ("4.48.16", "dotted", None),
]


@pytest.mark.parametrize(("text", "scheme", "built"), REAL)
def test_real_strings_parse(text: str, scheme: str, built: date | None) -> None:
    fw = parse(text)
    assert fw is not None
    assert fw.scheme == scheme
    assert fw.build == built
    assert build_date(text) == built


@pytest.mark.parametrize(("older", "newer"), [
    ("V5.4.5 build 170124", "V5.5.0 build 170725"),
    ("V5.2.0 build 140721", "V5.4.0 build 160530"),  # NVD CVE-2017-7921 range ends
    ("V5.4.0 build 160530", "V5.4.0 build 160531"),  # same version, later build
    ("V5.5.113 build 210317", "V5.5.800 build 210628"),  # Watchful IP: vulnerable -> fixed
    ("IPC_G5_EN_STD_5.5.113_210317", "V5.5.800 build 210628"),
    ("2.800.00AC000.0.R.200101", "2.800.00AC000.0.R.200330"),
    ("2.622.0000000.9.R", "2.622.0000000.31.R"),  # revision, not string order
    ("v3.0.0.136_20121102", "v3.0.0.494_21073000"),
    ("9.80.3.8", "10.12.182"),  # numeric, not lexical
    ("5.51", "5.51.0.1"),
])
def test_order(older: str, newer: str) -> None:
    a, b = parse(older), parse(newer)
    assert a is not None and b is not None
    assert compare(a, b) == -1
    assert compare(b, a) == 1


@pytest.mark.parametrize(("left", "right"), [
    ("2.800.00AC000.0.R.200330", "2.800.0000000.6.R.200314"),  # Amcrest line vs generic line
    ("V5.5.0 build 170725", "9.80.3.8"),  # different schemes
    ("V5.00.R02.000529B2.10010.040600.0020000", "V5.00.R02.000559A7.10010.040600.0020000"),
])
def test_incomparable(left: str, right: str) -> None:
    a, b = parse(left), parse(right)
    assert a is not None and b is not None
    assert compare(a, b) is None


def test_equal_with_trailing_zeros() -> None:
    a, b = parse("5.51"), parse("5.51.0")
    assert a is not None and b is not None
    assert compare(a, b) == 0


@pytest.mark.parametrize("text", ["", "Unknown", "build 170725", "V", "5", "x" * 500,
                                  "2.800.0000016.0", "\x00\xff"])
def test_not_versions(text: str) -> None:
    assert parse(text) is None


@given(st.text(max_size=300))
def test_fuzz_never_raises(text: str) -> None:
    fw = parse(text)
    if fw is not None:
        assert compare(fw, fw) == 0


def _hik(v: tuple[int, int, int], built: date) -> str:
    return f"V{v[0]}.{v[1]}.{v[2]} build {built:%y%m%d}"


_hik_versions = st.tuples(st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 999)),
                          st.dates(date(2000, 1, 1), date(2099, 12, 31)))


@given(_hik_versions, _hik_versions)
def test_hikvision_order_matches_tuples(x: tuple, y: tuple) -> None:  # type: ignore[type-arg]
    a, b = parse(_hik(*x)), parse(_hik(*y))
    assert a is not None and b is not None
    expected = (x > y) - (x < y)
    assert compare(a, b) == expected
    assert compare(b, a) == -expected


_dahua_versions = st.tuples(st.integers(0, 999), st.dates(date(2000, 1, 1), date(2099, 12, 31)))


@given(_dahua_versions, _dahua_versions, _dahua_versions)
def test_dahua_order_is_total_and_transitive(x: tuple, y: tuple, z: tuple) -> None:  # type: ignore[type-arg]
    def fw(v: tuple) -> str:  # type: ignore[type-arg]
        return f"2.800.00AC000.{v[0]}.R.{v[1]:%y%m%d}"

    a, b, c = parse(fw(x)), parse(fw(y)), parse(fw(z))
    assert a is not None and b is not None and c is not None
    ab, bc, ac = compare(a, b), compare(b, c), compare(a, c)
    assert ab == (x > y) - (x < y)
    if ab is not None and bc is not None and ab <= 0 and bc <= 0:
        assert ac is not None and ac <= 0


@given(st.lists(st.integers(0, 10_000), min_size=2, max_size=6),
       st.lists(st.integers(0, 10_000), min_size=2, max_size=6))
def test_dotted_order_is_numeric(x: list[int], y: list[int]) -> None:
    a, b = parse(".".join(map(str, x))), parse(".".join(map(str, y)))
    assert a is not None and b is not None
    n = max(len(x), len(y))
    px, py = x + [0] * (n - len(x)), y + [0] * (n - len(y))
    assert compare(a, b) == (px > py) - (px < py)
