"""The generated OEM data (oem_brands.yaml, rules/mac_oui.yaml) match their sources."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest
import yaml
from netaddr.eui import ieee

from camaudit.identify.oem import (
    build_brand_table,
    build_mac_rules,
    maker_hints,
    render_generated,
)

KB = Path(str(resources.files("camaudit.knowledge") / "data" / "oem.yaml"))
OUI = Path(os.path.dirname(ieee.__file__)) / "oui.txt"
PKG = resources.files("camaudit.identify")


@pytest.mark.skipif(not KB.is_file(), reason="shared/kb is not beside this checkout")
def test_generated_files_are_current() -> None:
    kb = yaml.safe_load(KB.read_text("utf-8"))
    brands = (PKG / "oem_brands.yaml").read_text("utf-8")
    assert yaml.safe_load(brands)["brands"] == build_brand_table(kb)
    mac = (PKG / "rules" / "mac_oui.yaml").read_text("utf-8")
    want = render_generated(build_mac_rules(kb, OUI.read_text("utf-8", errors="replace")),
                            "MAC OUI telltales of camera makers.")
    assert mac == want


def test_brand_hints_stay_below_threshold() -> None:
    (hint,) = maker_hints("annke")
    assert hint[0] == "Hikvision" and hint[1] < 0.6
    assert {m for m, _, _ in maker_hints("Swann")} == {"Hikvision", "Reolink"}
    assert maker_hints("Acme Cameras") == ()
