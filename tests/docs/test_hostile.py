"""Hostile documents cost bounded time and memory, get one clear line, and never stop the
batch: zip bombs in DOCX/XLSX, malformed and encrypted PDFs, huge pages, a reader that
hangs or runs out of memory."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from camaudit.assess import load_policies
from camaudit.docs.pages import Limits
from camaudit.docs.run import scan_documents
from camaudit.store import Store

from . import makedocs
from .conftest import can_ocr


def _scan(tmp_path: Path, files: list[Path], limits: Limits) -> dict[str, dict[str, object]]:
    store = Store(str(tmp_path / "h.db"))
    result = scan_documents([str(f) for f in files], store, load_policies(["all"]), limits)
    store.close()
    return {Path(str(d["path"])).name: d for d in result.documents}


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return makedocs.text_pdf(tmp_path / "good.pdf", [["Item: Hikvision DS-2CD2043G2-I camera."]])


def test_hostile_files_are_not_read_with_a_reason_and_the_batch_goes_on(
        tmp_path: Path, good: Path) -> None:
    files = [
        makedocs.zip_bomb(tmp_path / "bomb.docx", "word/document.xml"),
        makedocs.zip_bomb(tmp_path / "bomb.xlsx", "xl/workbook.xml"),
        makedocs.text_pdf(tmp_path / "locked.pdf", [["secret"]], encrypt=True),
        tmp_path / "truncated.pdf", tmp_path / "garbage.pdf", tmp_path / "fake.docx",
        tmp_path / "legacy.doc", good,
    ]
    files[3].write_bytes(good.read_bytes()[:200])
    files[4].write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 64)
    files[5].write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    files[6].write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    started = time.monotonic()
    docs = _scan(tmp_path, files, Limits(timeout=30))
    assert time.monotonic() - started < 60
    for name in ("bomb.docx", "bomb.xlsx"):
        assert docs[name]["status"] == "not read" and "zip bomb" in str(docs[name]["error"])
    assert "encrypted" in str(docs["locked.pdf"]["error"])
    assert "legacy binary Office" in str(docs["legacy.doc"]["error"])
    for name in ("truncated.pdf", "garbage.pdf", "fake.docx"):
        assert docs[name]["status"] == "not read" or docs[name]["findings"] == [], name
        assert docs[name]["sha256"]  # the hash of what was given is kept all the same
    assert [f["id"] for f in docs["good.pdf"]["findings"]] == ["ndaa-889"]  # type: ignore[index]


def test_a_huge_page_and_a_flood_of_text_are_cut_not_followed(tmp_path: Path) -> None:
    huge = makedocs.text_pdf(tmp_path / "huge.pdf", [["Race detection supported."] * 3],
                             media=(14400, 14400))
    flood = makedocs.text_pdf(tmp_path / "flood.pdf", [["x" * 400] * 800] * 3)
    limits = Limits(timeout=30, page_chars=50_000, doc_chars=100_000)
    docs = _scan(tmp_path, [huge, flood], limits)
    assert docs["huge.pdf"]["status"] == "read"
    assert docs["flood.pdf"]["notes"] and "cut" in str(docs["flood.pdf"]["notes"])


def test_a_reader_past_its_time_is_stopped_and_the_next_file_is_read(
        tmp_path: Path, good: Path) -> None:
    if not can_ocr():
        pytest.skip("needs Tesseract and Noto CJK (a scanned page is the slow file)")
    font = makedocs.cjk_font()
    assert font is not None
    slow = makedocs.scanned_pdf(tmp_path / "slow.pdf", [["支持维族识别报警"] * 20] * 3, font)
    started = time.monotonic()
    docs = _scan(tmp_path, [slow, good], Limits(timeout=2))
    assert time.monotonic() - started < 30
    assert "longer than 2s" in str(docs["slow.pdf"]["error"])
    assert docs["good.pdf"]["findings"]


def test_a_reader_over_its_memory_limit_is_one_line(tmp_path: Path, good: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text(("Hikvision DS-2CD2043G2-I " * 40 + "\n") * 40_000, encoding="utf-8")
    docs = _scan(tmp_path, [big, good], Limits(timeout=60, memory=160 * 2**20,
                                               doc_chars=200_000_000))
    assert docs["big.txt"]["status"] == "not read"
    assert "memory" in str(docs["big.txt"]["error"]) or "reader" in str(docs["big.txt"]["error"])
    assert docs["good.pdf"]["findings"]


def test_scanned_pages_without_ocr_are_not_read(tmp_path: Path, good: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    font = makedocs.cjk_font()
    if font is None:
        pytest.skip("needs Noto CJK fonts to draw a scanned page")
    monkeypatch.setenv("CAMAUDIT_TESSERACT", "")  # inherited by the worker process
    scan = makedocs.scanned_pdf(tmp_path / "scan.pdf", [["Race detection"]], font)
    docs = _scan(tmp_path, [scan, good], Limits(timeout=30))
    assert docs["scan.pdf"]["status"] == "not read"
    assert docs["scan.pdf"]["pages_not_read"] == [
        {"page": 1, "why": "scanned page (no text layer); OCR is not installed"}]
