"""Built-in policies on Device objects: the findings, their ids, sources and evidence."""

from __future__ import annotations

import dataclasses

import pytest

from camaudit.assess import assess, exceeds, load_policies
from camaudit.errors import ConfigError, UsageError
from camaudit.model import Device, Evidence, Finding

HIK_EVIDENCE = [Evidence("hik-sdk-8000", "sha256:" + "a" * 64, "manufacturer=Hikvision"),
                Evidence("http-title", "sha256:" + "b" * 64, "brand=Annke")]


def _annke(**over: object) -> Device:
    """Hikvision hardware sold as Annke (oem.yaml), as in the DESIGN.md example."""
    device = Device(address="127.42.0.7", device_type="camera", brand="Annke",
                    manufacturer="Hikvision", model="DS-2CD2042WD-I",
                    firmware="V5.4.5 build 170124", evidence=list(HIK_EVIDENCE))
    return dataclasses.replace(device, **over)


def _ids(findings: list[Finding]) -> set[str]:
    return {f.id for f in findings}


def test_annke_under_us_federal_gets_889_via_oem_and_kev() -> None:
    findings = assess(_annke(), load_policies(["us-federal"]))
    assert _ids(findings) == {"ndaa-889", "fcc-covered-list", "fcc-22-84",
                              "us-entity-list-2019-10", "us-ns-cmic", "us-dod-1260h",
                              "kev:CVE-2021-36260"}
    ndaa = next(f for f in findings if f.id == "ndaa-889")
    assert (ndaa.kind, ndaa.severity, ndaa.regime, ndaa.status) == (
        "restriction", "high", "ndaa-889", "open")
    assert "sold as Annke (via OEM: oem, confirmed, source https://" in ndaa.detail
    assert "reached as equipment produced by Hikvision" in ndaa.detail
    assert ndaa.source == "https://www.congress.gov/115/plaws/publ232/PLAW-115publ232.pdf"
    assert {f.id: f.status for f in findings}["us-dod-1260h"] == "lead"
    assert ndaa.evidence == [f"hik-sdk-8000 -> sha256:{'a' * 64} (manufacturer=Hikvision)",
                             f"http-title -> sha256:{'b' * 64} (brand=Annke)"]
    kev = next(f for f in findings if f.id == "kev:CVE-2021-36260")
    assert (kev.kind, kev.severity, kev.regime, kev.status) == (
        "vulnerability", "critical", "kev", "open")
    assert "built 2017-01-24 (before 2021-06-28)" in kev.detail
    for finding in findings:
        json = finding.to_json()
        assert {"id", "kind", "severity", "title", "source", "evidence"} <= set(json)
        assert json["source"]


def test_patched_firmware_gets_no_kev() -> None:
    device = _annke(model="DS-2CD2386G2-IU", firmware="V5.7.15 build 240201")
    assert not any(f.kind == "vulnerability" for f in assess(device, load_policies(["all"])))


def test_unknown_firmware_is_possible() -> None:
    findings = assess(_annke(firmware=None), load_policies(["security"]))
    (kev,) = findings
    assert (kev.id, kev.status) == ("kev:CVE-2021-36260", "possible")
    assert kev.detail.startswith("possibly affected — firmware not read")


def test_manufacturer_null_with_hikvision_brand_is_unknown_maker_not_889() -> None:
    device = _annke(manufacturer=None, evidence=[HIK_EVIDENCE[1]])
    findings = assess(device, load_policies(["us-federal"]))
    (finding,) = findings
    assert (finding.id, finding.kind, finding.status, finding.severity) == (
        "unknown-maker", "unknown-maker", "possible", "high")
    assert "brand Annke is sold with Hikvision hardware per https://" in finding.detail
    assert "confirm the maker" in finding.detail.lower()


def test_unknown_maker_camera_without_brand_link() -> None:
    device = Device(address="127.42.0.9", device_type="camera", model="HD_PREDATOR")
    (finding,) = assess(device, load_policies(["uk-public-sector"]))
    assert (finding.id, finding.status, finding.severity) == ("unknown-maker", "open", "medium")
    assert "cannot rule out" in finding.title


def test_dahua_analytics_model() -> None:
    device = Device(address="127.42.0.10", device_type="camera", manufacturer="Dahua",
                    model="IPC-HF8249F-FD")
    (finding,) = assess(device, load_policies(["eu-ai-act"]))
    assert (finding.id, finding.kind, finding.regime, finding.status) == (
        "analytics:dahua-dh-ipc-hf8249f-fd", "analytics", "eu-ai-act", "open")
    assert "EU AI Act Art. 5(1)(g)" in finding.detail and "GDPR Art. 9" in finding.detail
    assert finding.source.startswith("https://")


def test_hikvision_analytics_family_is_possible() -> None:
    device = Device(address="127.42.0.11", device_type="camera", manufacturer="Hikvision",
                    model="DS-2CD7A26G0-JM/RX")
    (finding,) = assess(device, load_policies(["eu-ai-act"]))
    assert (finding.id, finding.status) == ("analytics:hikvision-ds-2cd7a2xyz-jm-rx", "possible")


def test_dahua_kev_by_build_date_and_lorex_oem() -> None:
    device = Device(address="127.42.0.12", device_type="camera", brand="Lorex",
                    manufacturer="Dahua", model="IPC-HDW5831R-ZE",
                    firmware="2.800.0000016.0.R,build:2020-06-05")
    findings = assess(device, load_policies(["all"]))
    ids = _ids(findings)
    assert {"ndaa-889", "kev:CVE-2021-33044"} <= ids
    assert "kev:CVE-2021-33045" not in ids
    ndaa = next(f for f in findings if f.id == "ndaa-889")
    assert "sold as Lorex: formerly a Dahua subsidiary" in ndaa.detail
    assert "firmware was built 2020-06-05" in ndaa.detail and "inside that period" in ndaa.detail
    assert ndaa.status == "open"


def test_cve_not_in_kev_is_cve_id_under_security_only() -> None:
    device = _annke(model="DS-2CD2132F-IS", firmware="V5.3.0 build 150513")
    assert "cve:CVE-2017-7921" in _ids(assess(device, load_policies(["security"])))
    assert "cve:CVE-2017-7921" not in _ids(assess(device, load_policies(["us-federal"])))


@pytest.mark.parametrize("device", [
    Device(address="127.42.0.20", device_type="other", manufacturer="HP", model="LaserJet M404"),
    Device(address="127.42.0.21", device_type="other", manufacturer="Synology",
           model="DS920+", firmware="7.2.1"),
    Device(address="127.42.0.22", device_type="other", manufacturer=None, brand=None),
    Device(address="127.42.0.23", device_type="camera", manufacturer="Axis",
           model="M3024-L", firmware="5.51"),
])
def test_decoys_and_clean_devices_get_nothing(device: Device) -> None:
    assert assess(device, load_policies(["all"])) == []


def test_uk_finding_cites_the_statement() -> None:
    device = _annke(site="hq")
    plain = next(f for f in assess(device, load_policies(["uk-public-sector"]))
                 if f.id == "uk-sensitive-sites-2022")
    assert plain.severity == "medium"
    # The statement names no company: the finding cites its rule and the written answers.
    assert plain.source.startswith("https://www.parallelparliament.co.uk/")
    assert "binds you: policy uk-public-sector" in plain.title
    assert "names no company" in plain.detail
    assert "National Intelligence Law" in plain.basis
    # Under `all` (nobody's scope) the same regime is a rule the maker falls within.
    other = next(f for f in assess(device, load_policies(["all"]))
                 if f.id == "uk-sensitive-sites-2022")
    assert "within the rule of" in other.title and "not prohibited for you" in other.detail


def test_assess_is_pure() -> None:
    device = _annke()
    before = device.to_json()
    assess(device, load_policies(["all"]))
    assert device.to_json() == before


def test_exceeds() -> None:
    findings = assess(_annke(), load_policies(["all"]))
    assert exceeds(findings, "critical")
    assert not exceeds([f for f in findings if f.severity != "critical"], "critical")
    assert not exceeds([], "low")
    with pytest.raises(UsageError):
        exceeds(findings, "severe")


def test_unknown_policy_name() -> None:
    with pytest.raises(ConfigError, match="not a built-in policy"):
        load_policies(["us-federl"])
