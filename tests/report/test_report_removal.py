"""The removal plan: restricted devices only, most severe first, totals, and operator costs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from camaudit.errors import ConfigError
from camaudit.model import Finding
from camaudit.report.removal import NO_SITE, load_cost_table, plan_removal


def test_defaults_say_they_are_placeholders() -> None:
    table = load_cost_table()
    assert table.origin == "built-in defaults" and table.currency == "USD"
    assert "placeholder" in table.basis.lower() and "not vendor prices" in table.basis
    assert set(table.classes) == {"camera", "recorder", "encoder", "vms", "surveillance", "other",
                                  "unknown"}


def test_plan_orders_by_severity_and_totals(doc: dict[str, Any]) -> None:
    plan = plan_removal(doc)
    # Within a severity: exploited firmware first, then most regimes, site, address (as a number).
    assert [i.address for i in plan.items] == ["127.42.0.7", "127.42.0.9", "127.42.0.10"]
    first = plan.items[0]
    assert first.severity == "critical" and first.exploited
    assert first.regimes == ("ndaa-889", "fcc-covered-list")
    # camera 500+200 twice, recorder 2000+500
    assert plan.total == 700 + 700 + 2500
    assert plan.by_site == {"Depot": 3200, "HQ": 700}
    assert plan.by_regime == {"ndaa-889": 3900, "fcc-covered-list": 700}
    assert plan.count(site="Depot") == 2 and plan.count(regime="fcc-covered-list") == 1


def test_lines_group_devices_by_site_maker_model_and_class(doc: dict[str, Any]) -> None:
    lines = plan_removal(doc).groups
    assert [(g.site, g.manufacturer, g.model, g.cost_class, g.count, g.total) for g in lines] == [
        ("HQ", "Hikvision", "DS-2CD2042WD-I", "camera", 1, 700),
        ("Depot", "Dahua", "NVR4108HS", "recorder", 1, 2500),
        ("Depot", "Dahua", "IPC-HDW5831R-ZE", "camera", 1, 700),
    ]
    assert lines[0].exploited == 1 and lines[0].regimes == ["ndaa-889", "fcc-covered-list"]
    assert sum(g.total for g in lines) == plan_removal(doc).total


def test_accepted_findings_and_unknown_class(samples: Any) -> None:
    devices = samples.devices()
    accepted = samples.ndaa()
    accepted.status, accepted.accepted_reason = "accepted", "waiver 2026-17"
    devices[0].findings = [accepted]
    devices[4].device_type, devices[4].site = None, None
    devices[4].findings = [Finding("uk-sensitive-sites-2022", "restriction", "medium", "t",
                                   "https://example.invalid/", regime="uk-sensitive-sites-2022")]
    plan = plan_removal(samples.document(devices))
    addresses = [i.address for i in plan.items]
    assert "127.42.0.7" not in addresses  # the operator accepted it
    last = plan.items[-1]
    assert last.address == "127.42.0.11" and last.cost_class == "unknown"
    assert last.site == NO_SITE and last.cost.total == 800


def test_operator_cost_table_overrides(tmp_path: Path, doc: dict[str, Any]) -> None:
    costs = tmp_path / "costs.yaml"
    costs.write_text("currency: EUR\nclasses:\n  camera:\n    hardware: 1000\n", "utf-8")
    table = load_cost_table(costs)
    assert table.currency == "EUR" and table.origin == str(costs)
    assert table.classes["camera"].hardware == 1000 and table.classes["camera"].labour == 200
    assert "costs.yaml (which states no basis)" in table.basis
    plan = plan_removal(doc, table)
    assert plan.total == 1200 + 1200 + 2500
    costs.write_text("basis: quote Q-17 of 2026-10-01\nclasses:\n  recorder: {labour: 0}\n",
                     "utf-8")
    table = load_cost_table(costs)
    assert table.basis == "quote Q-17 of 2026-10-01" and table.classes["recorder"].total == 2000


@pytest.mark.parametrize("text, message", [
    ("classes:\n  camera:\n    hardware: -5\n", ":3: classes.camera.hardware: must be a number"),
    ("classes:\n  camra:\n    hardware: 5\n", ":2: classes.camra: unknown class"),
    ("classes:\n  camera:\n    price: 5\n", ":3: classes.camera.price: unknown key"),
    ("currency: EUR\nbudget: 3\n", ":2: budget: unknown key"),
    ("classes: [1, 2]\n", ":1: classes: must be a mapping"),
    ("classes:\n  camera: {hardware: 5\n", ": not valid YAML"),
    ("- a list\n", ":1: a cost table is a mapping"),
])
def test_bad_cost_tables_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    costs = tmp_path / "bad.yaml"
    costs.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_cost_table(costs)
    assert str(caught.value).startswith(str(costs)) and message in str(caught.value)
