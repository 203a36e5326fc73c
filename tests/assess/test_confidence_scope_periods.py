"""Issue 20: unconfirmed records give leads, findings say whom a regime binds, ownership
periods follow the firmware build date, and a HiSilicon SoC is a lead, not a Huawei device."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.assess import assess, exceeds, load_policies
from camaudit.model import Device, Evidence, Finding
from camaudit.zoo.personas import load_all

SHA = "sha256:" + "c" * 64


def _by_id(findings: list[Finding]) -> dict[str, Finding]:
    return {f.id: f for f in findings}


def _lorex(firmware: str | None) -> Device:
    return Device(address="127.42.0.30", device_type="recorder", brand="Lorex",
                  manufacturer="Dahua", model="DHI-NVR4108HS-8P-4KS2", firmware=firmware)


# -- confidence ------------------------------------------------------------------------

def test_unconfirmed_regime_is_a_lead_that_says_what_is_missing() -> None:
    device = Device(address="127.42.0.31", device_type="camera", manufacturer="Dahua")
    lead = _by_id(assess(device, load_policies(["us-federal"])))["us-tx-prohibited-technologies"]
    assert (lead.status, lead.severity, lead.kind) == ("lead", "low", "restriction")
    assert lead.detail.startswith("Lead, not a finding")
    assert "Missing: the official list (dir.texas.gov) was not read" in lead.detail


def test_a_policy_cannot_raise_a_lead_to_high(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("extends: [us-federal]\nseverity: {us-dod-1260h: critical, "
                      "us-entity-list-2019: high}\n")
    device = Device(address="127.42.0.32", device_type="camera", manufacturer="Dahua")
    found = _by_id(assess(device, load_policies([str(policy)])))
    assert (found["us-dod-1260h"].status, found["us-dod-1260h"].severity) == ("lead", "medium")
    assert found["us-entity-list-2019-10"].severity == "high"  # the old id still works
    assert not exceeds([found["us-dod-1260h"]], "info")  # a lead never fails a run


def _identity_devices() -> list[Device]:
    """Every zoo persona as identify should see it, plus brands whose records are unsure."""
    out = []
    for persona in load_all().values():
        ident = persona.identity
        out.append(Device(address="127.42.1.1", device_type=ident.get("device_type"),  # type: ignore[arg-type]
                          brand=ident.get("brand"), manufacturer=ident.get("manufacturer"),
                          model=ident.get("model"), firmware=ident.get("firmware")))
    for brand in ("HiWatch", "Imou", "Digimerge", "HikMicro", "Alibi (Observint)", "Lorex"):
        out.append(Device(address="127.42.1.2", device_type="camera", brand=brand))
    return out


@pytest.mark.parametrize("spec", ["all", "us-federal", "uk-public-sector", "au-gov"])
def test_no_high_finding_rests_on_an_unconfirmed_record(spec: str) -> None:
    policies = load_policies([spec])
    kb = policies.knowledge
    for device in _identity_devices():
        for finding in assess(device, policies):
            regime = kb.regimes.get(finding.id)
            if regime is not None and not regime.confirmed:
                assert finding.status == "lead", (device, finding.id)
            if finding.status == "lead":
                assert finding.severity in ("info", "low", "medium"), finding
            if finding.kind == "unknown-maker" and finding.severity == "high":
                assert ", unconfirmed;" not in finding.detail, finding.detail


def test_unknown_maker_with_an_unconfirmed_brand_link_stays_medium() -> None:
    device = Device(address="127.42.0.33", device_type="camera", brand="HikMicro")
    (finding,) = assess(device, load_policies(["us-federal"]))
    assert (finding.id, finding.severity, finding.status) == ("unknown-maker", "medium", "open")
    assert "A lead to check: only one community database states it" in finding.detail


# -- scope -----------------------------------------------------------------------------

def test_binding_regime_applies_to_you_others_are_named_by() -> None:
    device = Device(address="127.42.0.34", device_type="camera", manufacturer="Hikvision")
    found = _by_id(assess(device, load_policies(["us-federal"])))
    ndaa, fcc = found["ndaa-889"], found["fcc-covered-list"]
    assert "(binds you: policy us-federal)" in ndaa.title
    assert "Applies to you: policy us-federal" in ndaa.detail
    assert "Binds US executive agencies and, through the FAR clause, their contractors." in (
        ndaa.detail)
    assert fcc.title.startswith("Hikvision equipment named by FCC Covered List")
    assert "Named by it, not prohibited for you" in fcc.detail
    cmic = found["us-ns-cmic"]
    assert cmic.severity == "info" and "securities" in cmic.detail


def test_all_binds_nobody_and_au_gov_binds_nothing() -> None:
    device = Device(address="127.42.0.35", device_type="camera", manufacturer="Dahua")
    for spec in ("all", "au-gov"):
        for finding in assess(device, load_policies([spec])):
            if finding.kind == "restriction":
                assert "binds you" not in finding.title, (spec, finding.title)
                assert "not prohibited for you" in finding.detail
    au = _by_id(assess(device, load_policies(["au-gov"])))["au-defence-2023"]
    assert "Australian Department of Defence sites." in au.detail
    assert "Not a government-wide ban" in au.basis
    assert "2023-06-30" not in au.basis + au.detail  # the old, unsupported deadline is gone


def test_fcc_22_84_cites_adoption_release_and_effect() -> None:
    device = Device(address="127.42.0.36", device_type="camera", manufacturer="Hikvision")
    fcc = _by_id(assess(device, load_policies(["us-federal"])))["fcc-22-84"]
    assert "adopted 2022-11-11, released 2022-11-25, effective 2023-02-06" in fcc.basis


# -- ownership periods -----------------------------------------------------------------

@pytest.mark.parametrize(("firmware", "status", "words"), [
    (None, "possible", "depends on manufacture date"),
    ("2.800.0000016.0.R,build:2020-06-05", "open", "inside that period"),
    ("2.800.0000016.0.R,build:2017-03-01", "open", "before that period"),
    ("2.800.0000016.0.R,build:2023-06-01", "possible", "sources disagree on"),
    ("2.800.0000016.0.R,build:2024-06-05", "lead", "allegation, not a finding"),
])
def test_lorex_finding_states_the_ownership_period(firmware: str | None, status: str,
                                                   words: str) -> None:
    ndaa = _by_id(assess(_lorex(firmware), load_policies(["us-federal"])))["ndaa-889"]
    assert ndaa.status == status
    assert "Lorex was a Dahua subsidiary from 2018-02-06 until 2022-11-24 or 2023" in ndaa.detail
    assert words in ndaa.detail
    if status == "lead":
        assert ndaa.severity == "low" and "Texas AG lawsuit" in ndaa.detail


def test_a_brand_that_never_changed_owner_has_no_period() -> None:
    device = Device(address="127.42.0.37", device_type="camera", brand="Amcrest",
                    manufacturer="Dahua", firmware="2.800.0000016.0.R,build:2024-06-05")
    ndaa = _by_id(assess(device, load_policies(["us-federal"])))["ndaa-889"]
    assert ndaa.status == "open" and "period" not in ndaa.detail


# -- components ------------------------------------------------------------------------

def test_hisilicon_soc_in_a_xiongmai_camera_is_a_lead_not_a_huawei_finding() -> None:
    device = Device(address="127.42.0.38", device_type="camera", manufacturer="Xiongmai",
                    model="HI3516EV300_85H50AI",
                    firmware="V5.00.R02.000529B2.10010.040600.0020000")
    (lead,) = assess(device, load_policies(["all"]))
    assert (lead.id, lead.status, lead.severity) == ("ndaa-889", "lead", "low")
    assert "not Huawei equipment" in lead.title and "HiSilicon part inside a Xiongmai" in lead.title
    assert "substantial or essential component" in lead.detail
    assert "HiSilicon to Huawei (subsidiary, unconfirmed" in lead.detail
    assert "the device's maker is Xiongmai" in lead.detail
    # Only NDAA 889 has a component clause: no FCC or other Huawei regime follows.
    assert not assess(device, load_policies(["uk-public-sector"]))


def test_hisilicon_firmware_named_by_an_identification_rule_source() -> None:
    rule = Evidence("recog:http_servers:7", SHA, "device_type=recorder", 0.4,
                    source="rapid7/recog xml/http_servers.xml:1 (Web server found on DVR and "
                           "webcam servers sourced from HiSilicon)")
    device = Device(address="127.42.0.39", device_type="recorder", evidence=[rule])
    found = _by_id(assess(device, load_policies(["us-federal"])))
    assert found["ndaa-889"].status == "lead"
    assert found["unknown-maker"].severity == "medium"


def test_a_named_makers_own_hisilicon_device_keeps_its_open_finding() -> None:
    device = Device(address="127.42.0.40", device_type="camera", manufacturer="Hikvision",
                    model="HI3516EV300_X")
    found = assess(device, load_policies(["us-federal"]))
    assert [f.status for f in found if f.id == "ndaa-889"] == ["open"]


# -- hostile device strings ------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(brand=st.one_of(st.none(), st.sampled_from(["Lorex", "HiWatch", "Annke", "EZVIZ"]),
                       st.text(max_size=40)),
       maker=st.sampled_from([None, "Dahua", "Hikvision", "Xiongmai", "Huawei", "Uniview"]),
       model=st.one_of(st.none(), st.text(max_size=60), st.from_regex(r"HI35\d\d[A-Z]V\d{3}_\w*")),
       firmware=st.one_of(st.none(), st.text(max_size=80),
                          st.dates().map(lambda d: f"2.800.0000016.0.R,build:{d.isoformat()}")))
def test_any_device_strings_give_findings_never_a_high_lead(
        brand: str | None, maker: str | None, model: str | None, firmware: str | None) -> None:
    device = Device(address="127.42.0.41", device_type="camera", brand=brand,
                    manufacturer=maker, model=model, firmware=firmware)
    for finding in assess(device, load_policies(["all"])):
        assert finding.source
        assert finding.status != "lead" or finding.severity in ("info", "low", "medium")
