"""Reports streamed from the store: the same report as from the whole document, written
without ever loading the whole scan."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from camaudit.report.build import build_reports
from camaudit.report.csvout import read_csv, write_csv
from camaudit.report.source import DocSource, StoreSource
from camaudit.store import Store

WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path, samples: Any) -> Any:
    store = Store(str(tmp_path / "camaudit.db"))
    scan_id = store.create_scan(
        targets=["127.42.0.0/24"], excludes=[], resolved={}, ports=[80], options={},
        policies=["all"], knowledge={"kev": "2026-11-23"}, tool_version="0.1.0")
    for device in samples.devices():
        store.save_host(scan_id, device, [])
    store.finish_scan(scan_id, {})
    yield store
    store.close()


def test_the_store_streams_the_same_report_as_the_document(store: Store,
                                                           tmp_path: Path) -> None:
    doc = store.document(1)
    build_reports(DocSource(doc), html=tmp_path / "doc.html", csv=tmp_path / "doc.csv",
                  generated=WHEN)
    build_reports(StoreSource(store, 1), html=tmp_path / "store.html",
                  csv=tmp_path / "store.csv", generated=WHEN)
    assert (tmp_path / "store.html").read_text() == (tmp_path / "doc.html").read_text()
    for name in ("store.csv", "store-findings.csv"):
        assert (tmp_path / name).read_bytes() == (tmp_path / name.replace(
            "store", "doc")).read_bytes()
    write_csv(doc, tmp_path / "whole.csv")
    assert read_csv(tmp_path / "whole.csv") == read_csv(tmp_path / "store.csv")


def test_streaming_never_loads_the_whole_scan(store: Store, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the whole scan was loaded")

    monkeypatch.setattr(Store, "document", refuse)
    monkeypatch.setattr(Store, "devices", refuse)
    built = build_reports(StoreSource(store, 1), html=tmp_path / "r.html",
                          csv=tmp_path / "r.csv")
    assert (built.devices, built.findings) == (5, 8)
    assert (tmp_path / "r.html").read_text().count('<details class="dev"') == 5


def test_iteration_is_batched(store: Store) -> None:
    """Store.iter_devices reads a batch at a time: the stream holds one batch, not the scan."""
    seen = [d.address for d in store.iter_devices(1, batch=2)]
    assert seen == ["127.42.0.7", "127.42.0.8", "127.42.0.9", "127.42.0.10", "127.42.0.11"]


def _bid(lead: bool) -> dict[str, Any]:
    """A document as `docs scan` stores it: one model of a restricted maker, maybe a lead."""
    finding = {"id": "ndaa-889", "kind": "restricted-maker", "severity": "low" if lead else "high",
               "status": "lead" if lead else "open", "page": 1, "line": 3,
               "text": "20 x DS-2CD2043G2-I bullet camera", "model": "DS-2CD2043G2-I",
               "manufacturer": "Hikvision", "brand": None, "term": "DS-2CD2043G2-I",
               "source": "https://www.acquisition.gov/far/52.204-25", "title": "t",
               "detail": "=cmd|' /C calc'!A0", "score": None, "regimes": ["ndaa-889"]}
    return {"path": f"/bids/{'lead' if lead else 'bid'}.pdf",
            "sha256": ("ab" if lead else "cd") * 32, "size": 100, "format": "pdf", "pages": 2,
            "pages_ocr": 0, "pages_not_read": [],
            "language": "en", "status": "read", "error": None, "notes": [], "seconds": 0.1,
            "findings": [finding], "models": [], "set_aside": []}


def test_documents_are_in_the_summary_and_their_csv_beside_the_devices(
        store: Store, tmp_path: Path) -> None:
    """h/docs' documents section, moved into the streamed report: the same from the store as
    from the whole document; a lead in a document is listed, marked and counted apart."""
    store.save_document(1, _bid(lead=False))
    store.save_document(1, _bid(lead=True))
    doc = store.document(1)
    assert StoreSource(store, 1).document() == doc
    build_reports(DocSource(doc), html=tmp_path / "doc.html", csv=tmp_path / "doc.csv",
                  generated=WHEN)
    built = build_reports(StoreSource(store, 1), html=tmp_path / "store.html",
                          csv=tmp_path / "store.csv", generated=WHEN)
    page = (tmp_path / "store.html").read_text()
    assert page == (tmp_path / "doc.html").read_text()
    # In the summary part, before the device appendix; named in the table of contents.
    assert page.index('<section id="documents">') < page.index('<section id="appendix">')
    assert '<a href="#documents">' in page
    assert "<strong>1</strong> model of a restricted maker" in page
    assert "1 more is a lead" in page and 'class="finding is-lead"' in page
    assert built.documents_csv == tmp_path / "store-documents.csv"
    rows = read_csv(built.documents_csv)
    assert [(r["path"], r["status"]) for r in rows] == [("/bids/bid.pdf", "open"),
                                                        ("/bids/lead.pdf", "lead")]
    assert rows[0]["detail"].startswith("=cmd")  # neutralised on disk, restored on reading
    assert (tmp_path / "store-documents.csv").read_bytes() == (
        tmp_path / "doc-documents.csv").read_bytes()


def test_no_documents_no_section_and_no_csv(store: Store, tmp_path: Path) -> None:
    built = build_reports(StoreSource(store, 1), html=tmp_path / "r.html",
                          csv=tmp_path / "r.csv")
    assert built.documents_csv is None and not (tmp_path / "r-documents.csv").exists()
    assert 'id="documents"' not in (tmp_path / "r.html").read_text()
