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
