"""Canonical maker names and brand -> maker OEM links (data: makers.yaml, oem.yaml)."""

from __future__ import annotations

import pytest

from camaudit.knowledge import makers


@pytest.mark.parametrize(("written", "name"), [
    ("HIKVISION", "Hikvision"),
    ("Hangzhou Hikvision Digital Technology Co., Ltd.", "Hikvision"),
    ("海康威视", "Hikvision"),
    ("ZHEJIANG DAHUA TECHNOLOGYCO.,LTD", "Dahua"),  # IEEE registrant spelling
    ("Dahua Technology", "Dahua"),
    ("tp link", "TP-Link"),
    ("Hanwha Vision", "Hanwha Vision"),
])
def test_canonical(written: str, name: str) -> None:
    assert makers.canonical(written) == name


@pytest.mark.parametrize("written", [None, "", "Annke", "Acme Cameras"])
def test_unknown_is_none(written: str | None) -> None:
    assert makers.canonical(written) is None


def test_every_contracts_maker_is_known() -> None:
    contracts = ["Hikvision", "Dahua", "Xiongmai", "Uniview", "TVT", "Tiandy", "Axis",
                 "Hanwha Vision", "Bosch", "Reolink", "Ubiquiti", "Milesight", "Mobotix",
                 "TP-Link", "Vivotek", "i-PRO", "Huawei", "Amcrest", "GeoVision", "NUUO",
                 "D-Link", "QNAP", "Synology", "HP", "Brother", "Cisco", "Yealink", "Polycom",
                 "MikroTik", "Netgear", "Edimax", "PTZOptics"]
    assert [makers.canonical(m) for m in contracts] == contracts


def test_oem_link_carries_relation_and_source() -> None:
    (link,) = makers.oem_links("Annke")
    assert (link.maker, link.relation, link.confirmed) == ("Hikvision", "oem", True)
    assert link.source.startswith("https://")


def test_brand_names_with_qualifiers_resolve() -> None:
    assert [link.maker for link in makers.oem_links("LTS")] == ["Hikvision"]
    assert [link.maker for link in makers.oem_links("lt security")] == ["Hikvision"]
    assert {link.maker for link in makers.oem_links("Honeywell")} == {"Hikvision", "Dahua"}
    lorex = makers.oem_links("Lorex")
    assert [(link.maker, link.relation) for link in lorex] == [("Dahua", "former-subsidiary")]


def test_unknown_brand_has_no_links() -> None:
    assert makers.oem_links("Acme Cameras") == []
    assert makers.oem_links(None) == []
