"""The report commands end to end on a real SQLite store: report, evidence, verify, keygen, diff."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from camaudit.cli import main
from camaudit.output import validate
from camaudit.store import Store

COMMANDS = ("report", "evidence", "verify", "keygen", "diff")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, samples: Any) -> str:
    """Two scans: the first saw three devices, the second all five (with their observations)."""
    path = str(tmp_path_factory.mktemp("store") / "camaudit.db")
    store = Store(path)
    observations = samples.observations()
    for devices in (samples.devices()[:3], samples.devices()):
        scan_id = store.create_scan(
            targets=["127.42.0.0/24"], excludes=[], resolved={}, ports=[80, 554, 8000],
            options={}, policies=["all"], knowledge={"kev": "2026-11-23"}, tool_version="0.1.0")
        for device in devices:
            store.save_host(scan_id, device,
                            [o for o in observations if o.address == device.address])
        store.finish_scan(scan_id, {})
    store.close()
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out, captured.err


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_an_example(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0 and "Example: camaudit " + command in " ".join(out.split())


def test_report_every_format(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path) -> None:
    code, out, err = run(capsys, "report", "last", "--db", db, "--since", "1",
                         "--html", str(tmp_path / "r.html"), "--csv", str(tmp_path / "r.csv"),
                         "--cyclonedx", str(tmp_path / "bom.json"),
                         "--json", str(tmp_path / "r.json"))
    assert code == 0, err
    for name in ("r.html", "r.csv", "r-findings.csv", "bom.json", "r.json"):
        assert str(tmp_path / name) in out
    doc = json.loads((tmp_path / "r.json").read_text("utf-8"))
    validate(doc)
    assert doc["scan"]["id"] == 2 and len(doc["devices"]) == 5
    tree = lxml.html.document_fromstring((tmp_path / "r.html").read_text("utf-8"))
    assert "Changes since scan 1" in tree.get_element_by_id("changes").text_content()
    assert len(tree.xpath("//details[@class='dev']")) == 5
    assert sum(int(r.get("data-count")) for r in tree.xpath("//tr[@data-finding]")) == 8
    # The JSON file is itself a SCAN_ID.
    code, _, err = run(capsys, "report", str(tmp_path / "r.json"), "--csv",
                       str(tmp_path / "again.csv"))
    assert code == 0, err
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "r.csv").read_bytes()


@pytest.mark.parametrize("args, needle", [
    (["report", "last"], "say what to write"),
    (["report", "9", "--html", "x.html"], "no scan 9"),
    (["report", "missing.json", "--html", "x.html"], "cannot read"),
    (["evidence", "r.json", "--out", "e.zip", "--key", "k"], "cannot read the signing key"),
    (["verify", "nothing.zip"], "not a readable evidence bundle"),
])
def test_errors_are_one_line(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch, args: list[str],
                             needle: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *args, *(["--db", db] if args[0] != "verify" else []))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("camaudit: error:") and needle in err


def test_keygen_evidence_verify(capsys: pytest.CaptureFixture[str], db: str,
                                tmp_path: Path) -> None:
    key = tmp_path / "auditor.key"
    code, out, _ = run(capsys, "keygen", "--out", str(key))
    assert code == 0 and "fingerprint:" in out and (tmp_path / "auditor.key.pub").exists()
    bundle = tmp_path / "scan.zip"
    code, out, err = run(capsys, "evidence", "last", "--db", db, "--out", str(bundle),
                         "--key", str(key))
    assert code == 0, err
    assert "6 observations" in out
    code, out, _ = run(capsys, "verify", str(bundle))
    assert code == 0 and "OK" in out and "not who signed" in out
    code, out, _ = run(capsys, "verify", str(bundle), "--pubkey", str(key) + ".pub")
    assert code == 0 and "note:" not in out and "knowledge: kev 2026-11-23" in out
    with zipfile.ZipFile(bundle) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    files["report.json"] = files["report.json"].replace(b"Annke", b"Axis!")
    files["observations/\x1b[31mplanted"] = b"x"
    with zipfile.ZipFile(bundle, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    code, out, _ = run(capsys, "verify", str(bundle), "--pubkey", str(key) + ".pub")
    assert code == 1
    assert "FAILED report.json: SHA-256 differs" in out
    assert "\x1b" not in out and "observations/\\x1b[31mplanted" in out


def test_diff_command(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "diff", "1", "last", "--db", db)
    assert code == 0
    assert "scan 1 → scan 2: 2 added, 0 removed, 0 changed, 3 unchanged" in out
    assert "\x1b" not in out and "\\x1b[31mRED" not in out  # ESC firmware is not in a label
    assert "127.42.0.10" in out and "127.42.0.11" in out
