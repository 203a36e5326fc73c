"""Joining PDF parts page by page: pages, their contents, bookmarks and named destinations
survive; the parts' own catalogs and page trees do not come along."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
)

from camaudit.errors import ResourceError
from camaudit.report.pdf import merge_pdfs
from camaudit.report.pdfmerge import concatenate


def part(path: Path, words: list[str], dest: str | None = None) -> Path:
    """A PDF whose page i draws words[i]; `dest` names its first page."""
    writer = PdfWriter()
    for word in words:
        page = writer.add_blank_page(200, 100)
        content = DecodedStreamObject()
        content.set_data(f"BT /F1 12 Tf 10 50 Td ({word}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(content)
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                                 NameObject("/Subtype"): NameObject("/Type1"),
                                 NameObject("/BaseFont"): NameObject("/Helvetica")})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): writer._add_object(font)})})
    if dest:  # as Chromium writes them: a /Dests dictionary in the catalog
        writer.root_object[NameObject("/Dests")] = writer._add_object(DictionaryObject({
            NameObject(f"/{dest}"): ArrayObject([writer.pages[0].indirect_reference,
                                                 NameObject("/Fit")])}))
    writer.write(path)
    return path


def test_pages_bookmarks_and_destinations(tmp_path: Path) -> None:
    parts = [("Summary", part(tmp_path / "a.pdf", ["alpha", "beta"], dest="removal")),
             ("Devices 1–2", part(tmp_path / "b.pdf", ["gamma"])),
             ("Devices 3–4", part(tmp_path / "c.pdf", ["delta", "epsilon"]))]
    out = BytesIO()
    assert concatenate(parts, out, title="Audit") == 5
    reader = PdfReader(BytesIO(out.getvalue()), strict=True)
    assert [p.extract_text() for p in reader.pages] == ["alpha", "beta", "gamma", "delta",
                                                       "epsilon"]
    assert [o.title for o in reader.outline] == ["Summary", "Devices 1–2", "Devices 3–4"]
    assert [reader.get_destination_page_number(o) for o in reader.outline] == [0, 2, 3]
    assert reader.metadata is not None and reader.metadata.title == "Audit"
    # Each named destination still points at its page; only one catalog and page tree.
    assert reader.get_destination_page_number(reader.named_destinations["/removal"]) == 0
    data = out.getvalue()
    assert data.count(b"/Type /Catalog") == 1 and data.count(b"/Type /Pages") == 1


def test_inherited_page_attributes_are_copied_once(tmp_path: Path) -> None:
    """pypdf hands every page the same inherited /Resources object; it must be renumbered
    once, not once per page."""
    source = part(tmp_path / "a.pdf", ["one", "two"])
    reader = PdfReader(source)
    writer = PdfWriter(clone_from=reader)
    tree = writer.root_object["/Pages"]
    shared = writer._add_object(reader.pages[0]["/Resources"])
    tree[NameObject("/Resources")] = shared
    tree[NameObject("/MediaBox")] = ArrayObject([NumberObject(0), NumberObject(0),
                                                 NumberObject(300), NumberObject(300)])
    for page in writer.pages:
        del page[NameObject("/Resources")]
        del page[NameObject("/MediaBox")]
    writer.write(tmp_path / "inherit.pdf")
    out = BytesIO()
    concatenate([("x", tmp_path / "inherit.pdf"), ("y", tmp_path / "inherit.pdf")], out)
    merged = PdfReader(BytesIO(out.getvalue()), strict=True)
    assert [p.extract_text() for p in merged.pages] == ["one", "two", "one", "two"]
    assert [float(p.mediabox.width) for p in merged.pages] == [300.0] * 4


def test_a_damaged_part_is_a_resource_error_and_leaves_no_pdf(tmp_path: Path) -> None:
    good = part(tmp_path / "a.pdf", ["alpha"])
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\nnot really")
    target = tmp_path / "report.pdf"
    with pytest.raises(ResourceError, match="cannot join the PDF parts"):
        merge_pdfs([("a", good), ("b", bad)], target)
    assert not target.exists() and list(tmp_path.glob(".*part")) == []
