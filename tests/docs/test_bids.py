"""Done-when of issue 19: a folder of generated bids (EN and ZH, text and scanned) yields
every planted model and claim with page and line, nothing from the negated or regulatory
sentences, a documents section in the report, and the camaudit/1 contract."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from camaudit.cli import main
from camaudit.output import validate

from .conftest import Bids, can_ocr


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    code = done.value.code
    return code if isinstance(code, int) else 0


@pytest.fixture(scope="module")
def scanned(bids: Bids, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("out")
    code = run(["docs", "scan", str(bids.folder), "--db", str(out / "a.db"),
                "--json", str(out / "bids.json")])
    document = json.loads((out / "bids.json").read_text(encoding="utf-8"))
    return {"code": code, "doc": document, "out": out}


def _found(doc: dict[str, Any]) -> dict[tuple[str, int, int], set[str]]:
    got: dict[tuple[str, int, int], set[str]] = {}
    for d in doc["documents"]:
        for f in d["findings"]:
            got.setdefault((Path(d["path"]).name, f["page"], f["line"]), set()).add(f["id"])
    return got


def test_every_planted_model_and_claim_is_found_at_its_page_and_line(
        bids: Bids, scanned: dict[str, Any]) -> None:
    got = _found(scanned["doc"])
    for where, ids in bids.planted.items():
        assert ids <= {i for i in got.get(where, set()) if not i.startswith("analytics:")}, (
            where, got.get(where))


def test_nothing_else_is_reported_and_nothing_from_negated_or_regulatory_text(
        bids: Bids, scanned: dict[str, Any]) -> None:
    got = _found(scanned["doc"])
    assert not set(got) & bids.quiet
    extra = {w: ids for w, ids in got.items() if w not in bids.planted}
    assert extra == {}
    # the negated sentences are listed as set aside, with the reason
    aside = {(Path(d["path"]).name, a["page"], a["line"]): a["why"]
             for d in scanned["doc"]["documents"] for a in d["set_aside"]}
    assert aside[("bid-en.pdf", 2, 3)] == "negated"
    assert aside[("bid-en.pdf", 2, 4)] == "regulatory text"
    assert aside[("bid-zh.pdf", 1, 4)] == "negated"


def test_the_document_keeps_the_contract(bids: Bids, scanned: dict[str, Any]) -> None:
    doc = scanned["doc"]
    validate(doc)
    assert scanned["code"] == 0
    by_name = {Path(d["path"]).name: d for d in doc["documents"]}
    assert set(by_name) == {w[0] for w in bids.planted}
    zh, en = by_name["bid-zh.pdf"], by_name["bid-en.pdf"]
    assert (zh["language"], en["language"], zh["pages"]) == ("zh", "en", 2)
    for d in doc["documents"]:
        assert len(d["sha256"]) == 64 and d["status"] == "read"
        for f in d["findings"]:
            assert {"id", "kind", "severity", "page", "line", "text", "model", "manufacturer",
                    "term", "source"} <= set(f)
    lts = next(f for f in en["findings"] if f["model"] == "CMIP3C42W-28M")
    assert (lts["manufacturer"], lts["brand"], lts["status"]) == ("Hikvision", "LTS", "possible")
    assert "ndaa-889" in lts["regimes"] and lts["kind"] == "restricted-maker"
    amcrest = next(f for f in by_name["bid.docx"]["findings"] if f["model"] and
                   f["model"].startswith("IP8M"))
    assert (amcrest["manufacturer"], amcrest["brand"]) == ("Dahua", "Amcrest")
    axis = [m for m in en["models"] if m["model"] == "M3024-LVE"]
    assert axis and axis[0]["manufacturer"] == "Axis"  # named, not restricted: no finding


def test_scanned_pages_are_read_by_ocr(bids: Bids, scanned: dict[str, Any]) -> None:
    if not can_ocr():
        pytest.skip("Tesseract with chi_sim or Noto CJK fonts not installed "
                    "(scripts/sysdeps.sh ocr cjkfonts)")
    by_name = {Path(d["path"]).name: d for d in scanned["doc"]["documents"]}
    for name in bids.scanned:
        assert by_name[name]["pages_ocr"] == 1


def test_fail_on_exits_3(bids: Bids, tmp_path: Path) -> None:
    assert run(["-q", "docs", "scan", str(bids.folder / "bid-en.pdf"), "--db",
                str(tmp_path / "b.db"), "--fail-on", "high"]) == 3
    assert run(["-q", "docs", "scan", str(bids.folder / "spec.html"), "--db",
                str(tmp_path / "b.db"), "--policy", "us-federal", "--fail-on", "critical"]) == 0


def test_report_csv_and_bundle_carry_the_documents(scanned: dict[str, Any],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out: Path = scanned["out"]
    assert run(["report", str(out / "bids.json"), "--html", str(out / "r.html"), "--csv",
                str(out / "r.csv")]) == 0
    page = (out / "r.html").read_text(encoding="utf-8")
    assert '<section id="documents">' in page and "bid-zh.pdf" in page
    assert "page 2, line 2" in page
    with (out / "r-documents.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["finding"] for r in rows} >= {"ndaa-889", "claim:uyghur", "platform:gat-1400"}
    assert run(["keygen", "--out", str(out / "k.key")]) == 0
    assert run(["evidence", "1", "--db", str(out / "a.db"), "--out", str(out / "e.zip"),
                "--key", str(out / "k.key")]) == 0
    import zipfile

    with zipfile.ZipFile(out / "e.zip") as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
    hashes = {Path(d["path"]).name: d["sha256"] for d in manifest["documents"]}
    assert len(hashes["bid-en.pdf"]) == 64
    assert run(["verify", str(out / "e.zip")]) == 0
    capsys.readouterr()
