"""Affected-range matching on the shipped records, and errors in a vulns file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from camaudit.errors import ConfigError
from camaudit.knowledge import knowledge, yamlio
from camaudit.knowledge.vulns import Vuln, load_records, match


def _record(cve: str) -> Vuln:
    return next(r for r in knowledge().vulns if r.cve == cve)


@pytest.mark.parametrize(("cve", "model", "dtype", "firmware", "outcome"), [
    # Watchful IP: builds before 210628 vulnerable; V5.7.x 2024 builds (fixtures) are later.
    ("CVE-2021-36260", "DS-2CD2042WD-I", "camera", "V5.4.5 build 170124", "affected"),
    ("CVE-2021-36260", "DS-2DE4225IW-DE", "camera", "IPDEX_E7_EN_STD_5.6.30_210526", "affected"),
    ("CVE-2021-36260", "DS-2CD2386G2-IU", "camera", "V5.7.15 build 240201", None),
    ("CVE-2021-36260", "DS-2CD2386G2-IU", "camera", None, "possible"),
    ("CVE-2021-36260", "DS-2CD2386G2-IU", "camera", "V5.7.15", "possible"),  # no build date
    ("CVE-2021-36260", "DS-2CD2386G2-IU", "camera", "V5.5.800 build 210702", "possible"),
    ("CVE-2021-36260", "DS-7608NXI-I2/8P/S", "recorder", "V4.62.210 build 230619", None),
    # NVD CVE-2017-7921: DS-2CD2xx2F-I V5.2.0 build 140721 to V5.4.0 build 160530.
    ("CVE-2017-7921", "DS-2CD2132F-IS", "camera", "V5.3.0 build 150513", "affected"),
    ("CVE-2017-7921", "DS-2CD2132F-IS", "camera", "V5.4.0 build 160530", "affected"),
    ("CVE-2017-7921", "DS-2CD2132F-IS", "camera", "V5.4.5 build 170124", None),
    ("CVE-2017-7921", "DS-2CD2042WD-I", "camera", "V5.3.0 build 150513", None),
    # Dahua CNA: IPC-HX5XXX build time before June 2021 (33044) / May 2020 (33045).
    ("CVE-2021-33044", "IPC-HDW5831R-ZE", "camera", "2.800.0000016.0.R,build:2020-06-05",
     "affected"),
    ("CVE-2021-33045", "IPC-HDW5831R-ZE", "camera", "2.800.0000016.0.R,build:2020-06-05", None),
    ("CVE-2021-33044", "DH-IPC-HFW3849T1-AS-PV", "camera", "V2.840.0000000.5.R, Build Date: "
     "2022-03-01", None),
    ("CVE-2021-33044", "IPC-HDW5831R-ZE", "camera", "2.800.0000000.16.R", "possible"),
    ("CVE-2021-33045", "DHI-NVR2104HS", "recorder", "4.001.0000000.1.R.190101", "affected"),
    ("CVE-2021-33045", "DHI-NVR4108HS-8P-4KS2", "recorder", "4.001.0000000.1.R.190101", None),
    # Tenable CVE-2020-5735: fixed per firmware line.
    ("CVE-2020-5735", "IP2M-841", "camera", "2.800.00AC000.0.R.200101", "affected"),
    ("CVE-2020-5735", "IP2M-841", "camera", "2.800.00AC000.0.R.200401", None),
    ("CVE-2020-5735", "IP2M-841", "camera", "2.520.00AC000.0.R.200401", "possible"),
    # Talos: one firmware tested; nothing published for others.
    ("CVE-2021-40407", "RLC-410W", "camera", "v3.0.0.136_20121102", "affected"),
    ("CVE-2021-40407", "RLC-410W", "camera", "v3.0.0.494_21073000", "possible"),
    ("CVE-2021-40407", "RLC-411WS", "camera", "v2.0.0.1389_18081408", None),
])
def test_match(cve: str, model: str, dtype: str, firmware: str | None,
               outcome: str | None) -> None:
    found = match(_record(cve), model, dtype, firmware)
    assert (found.outcome if found else None) == outcome
    if found:
        assert found.why


def test_every_record_cites_a_source() -> None:
    for record in knowledge().vulns:
        assert record.source.startswith("https://"), record.cve
        assert record.ranges, record.cve


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "vulns.yaml"
    path.write_text(body)
    return path


GOOD = """\
vulnerabilities:
  - cve: CVE-2021-36260
    makers: [hikvision]
    title: t
    sources: [{url: "https://example.invalid/a"}]
    affected:
      - {models: '^DS-2CD', before: "V5.5.800 build 210628"}
"""


@pytest.mark.parametrize(("old", "new", "line", "what"), [
    ("CVE-2021-36260", "CVE-21-1", 2, "is not CVE-YYYY-NNNN"),
    ("[hikvision]", "[acme]", 3, "'makers' must name known makers"),
    ("    sources: [{url: \"https://example.invalid/a\"}]\n", "", 2,
     "no source, no finding"),
    ("'^DS-2CD'", "'^DS-(2CD'", 7, "not a valid regex"),
    ('"V5.5.800 build 210628"', '"soon"', 7, "cannot read firmware version 'soon'"),
    ("before:", "fixed:", 7, "unknown key 'fixed'"),
    ("title: t", "title: [t", 5, "expected ','"),  # YAML syntax error: where it stopped
])
def test_bad_file_names_file_and_line(tmp_path: Path, old: str, new: str, line: int,
                                      what: str) -> None:
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_records(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: ")
    assert what in message


def test_good_file_loads(tmp_path: Path) -> None:
    (record,) = load_records(_write(tmp_path, GOOD))
    assert record.cve == "CVE-2021-36260"


@given(st.text(max_size=400))
def test_yaml_boundary_only_raises_config_error(text: str) -> None:
    """Any text in a knowledge or policy file ends as data or one ConfigError, nothing else."""
    try:
        yamlio.loads(text, "fuzz.yaml")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.yaml")
