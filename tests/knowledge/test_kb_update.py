"""`camaudit update --from DIR`: a copy of the knowledge folder replaces the restriction and
OEM files only when every record keeps its sources and confirmed flag (issue 20)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_harness import update_app
from typer.testing import CliRunner

from camaudit.assess import assess, load_policies
from camaudit.errors import CamauditError
from camaudit.knowledge import kb_versions, knowledge
from camaudit.knowledge.paths import data_path
from camaudit.knowledge.update import update_kb
from camaudit.model import Device


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A knowledge directory as an operator would copy it (the shipped files)."""
    folder = tmp_path / "kb"
    folder.mkdir()
    for name in ("restrictions.yaml", "oem.yaml"):
        shutil.copy(data_path(name), folder / name)
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_newer_copy_is_kept_and_used(kb_copy: Path, isolated_knowledge: Path) -> None:
    _edit(kb_copy / "restrictions.yaml", "checked: 2026-11-23", "checked: 2026-12-01")
    # A correction a refresh may bring: the Texas list confirmed.
    _edit(kb_copy / "restrictions.yaml", "    confirmed: false\n    note: \"the official list",
          "    confirmed: true\n    note: \"the official list")
    result = CliRunner().invoke(update_app(), ["update", "--from", str(kb_copy)])
    assert result.exit_code == 0, result.output
    assert "restrictions.yaml checked 2026-12-01" in result.output
    assert (isolated_knowledge / "kb" / "restrictions.yaml").is_file()
    assert kb_versions()["restrictions"] == "2026-12-01"
    assert knowledge().regimes["us-tx-prohibited-technologies"].confirmed
    device = Device(address="127.42.0.60", device_type="camera", manufacturer="Uniview")
    (finding,) = assess(device, load_policies(["us-federal"]))
    assert (finding.id, finding.status) == ("us-tx-prohibited-technologies", "open")


def test_an_older_copy_is_stored_but_the_shipped_one_stays(kb_copy: Path) -> None:
    _edit(kb_copy / "restrictions.yaml", "checked: 2026-11-23", "checked: 2026-01-01")
    result = update_kb(kb_copy)
    assert result.used is False
    assert kb_versions()["restrictions"] == "2026-11-23"


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("restrictions.yaml",
     "    confirmed: true\n\n  - id: fcc-22-84", "\n  - id: fcc-22-84",
     "regime fcc-covered-list has no confirmed: true|false flag"),
    ("restrictions.yaml",
     "    sources:\n      - {url: \"https://ktvz.com", "    links:\n      - {url: \"https://ktvz.com",
     "regime au-defence-2023 has no sources"),
    ("restrictions.yaml",
     "        confirmed: false\n        note: \"single encyclopaedia source here",
     "        note: \"single encyclopaedia source here",
     "brand HiWatch of hikvision has no confirmed"),
    ("restrictions.yaml", "  - id: us-ns-cmic\n", "  - id: us-ns-cmic-renamed\n",
     "drops regime us-ns-cmic"),
    ("restrictions.yaml", "2022-11-24", "2022-12-24",  # the Lorex period, read as dates
     "2022-11-24 is not in restrictions.yaml's period or note of Lorex"),
    ("restrictions.yaml", "Reaches equipment that uses covered equipment",
     "Also reaches equipment that uses covered equipment",
     "the clause is not in the scope of ndaa-889"),
    ("oem.yaml", "    confirmed: true\n\n  - brand: HiWatch", "\n  - brand: HiWatch",
     "brand Ezviz has no confirmed"),
])
def test_a_copy_that_drops_sources_or_flags_is_refused(kb_copy: Path, isolated_knowledge: Path,
                                                       file: str, old: str, new: str,
                                                       message: str) -> None:
    _edit(kb_copy / file, old, new)
    with pytest.raises(CamauditError) as info:
        update_kb(kb_copy)
    assert message in str(info.value)
    assert "nothing changed" in str(info.value) or "drops" in str(info.value)
    assert not (isolated_knowledge / "kb").exists()
    assert kb_versions()["restrictions"] == "2026-11-23"


def test_a_folder_without_restrictions_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CamauditError, match=r"no restrictions\.yaml"):
        update_kb(tmp_path)
