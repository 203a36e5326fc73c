"""Concatenate PDF files part by part, in memory bounded by the largest part.

pypdf's ``PdfWriter`` keeps every page it appends until it writes the file:
merging the 5,000 pages of a 50,000-device report took 750 MB. Here pypdf
parses one part at a time and serialises its objects, and this module writes
them to the output as soon as they are renumbered, then forgets the part.
What stays in memory is one byte offset per object and one reference per page.

Each part's pages, with everything they reach (contents, fonts, images,
link annotations), are copied; the part's own catalog and page tree are not
(pages get the new tree as /Parent), nor its tagging structure (/StructTreeRoot;
the merged file is not a tagged PDF). Named destinations (/Dests, which
Chromium writes for in-page links) are merged, the first part's name winning
a clash. Each part gets a bookmark (outline item) at its first page.

The output is a classic PDF 1.7 file (ISO 32000-1 7.5: header, objects,
cross-reference table, trailer), as Chromium writes its own.
"""

from __future__ import annotations

import gc
from collections import deque
from pathlib import Path
from typing import IO

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)


class _Writer:
    """Objects written as they come; the cross-reference table at the end."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.offsets: list[int] = [0]  # by object number; 0 is the free head of the table
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def reserve(self) -> int:
        self.offsets.append(-1)
        return len(self.offsets) - 1

    def write(self, number: int, obj: PdfObject) -> None:
        self.offsets[number] = self.out.tell()
        self.out.write(f"{number} 0 obj\n".encode())
        obj.write_to_stream(self.out)
        self.out.write(b"\nendobj\n")

    def finish(self, root: int, info: int) -> None:
        start = self.out.tell()
        self.out.write(f"xref\n0 {len(self.offsets)}\n0000000000 65535 f \n".encode())
        for offset in self.offsets[1:]:
            assert offset >= 0, "an object was reserved but never written"
            self.out.write(f"{offset:010d} 00000 n \n".encode())
        self.out.write(f"trailer\n<< /Size {len(self.offsets)} /Root {root} 0 R /Info {info} 0 R "
                       f">>\nstartxref\n{start}\n%%EOF\n".encode())


def _ref(number: int) -> IndirectObject:
    return IndirectObject(number, 0, None)


class _Part:
    """One input file: its objects renumbered into the output as they are reached."""

    def __init__(self, path: Path, writer: _Writer, pages_root: int) -> None:
        self.reader = PdfReader(path)
        self.writer = writer
        self.pages_root = pages_root
        self.numbers: dict[int, int] = {}  # object number in the part -> in the output
        self.todo: deque[IndirectObject] = deque()
        self.catalog = self.reader.root_object
        # The part's catalog and page tree are not copied: references to them become null.
        self.skip = {ref.idnum for ref in (self.reader.trailer.raw_get("/Root"),
                                           self.catalog.raw_get("/Pages"))
                     if isinstance(ref, IndirectObject)}
        self.page_ids = {page.indirect_reference.idnum for page in self.reader.pages
                         if page.indirect_reference is not None}

    def _number(self, ref: IndirectObject) -> int:
        """The output number of a part's object, reserved (and queued) on first sight; pages
        are written by copy_pages, not from the queue."""
        number = self.numbers.get(ref.idnum)
        if number is None:
            number = self.numbers[ref.idnum] = self.writer.reserve()
            if ref.idnum not in self.page_ids:
                self.todo.append(ref)
        return number

    def _rewrite(self, obj: PdfObject) -> PdfObject:
        """`obj` with every reference renumbered (in place: each object is read once)."""
        if isinstance(obj, IndirectObject):
            if obj.pdf is not self.reader:
                return obj  # renumbered already: pypdf shares inherited page attributes
            return NullObject() if obj.idnum in self.skip else _ref(self._number(obj))
        if isinstance(obj, DictionaryObject):  # streams too: their data is kept as read
            for key in list(obj):
                obj[key] = self._rewrite(obj.raw_get(key))  # raw: [] would resolve references
        elif isinstance(obj, ArrayObject):
            for i, item in enumerate(obj):  # a list: indexing does not resolve
                obj[i] = self._rewrite(item)
        return obj

    def _drain(self) -> None:
        while self.todo:
            ref = self.todo.popleft()
            obj = ref.get_object()
            self.writer.write(self.numbers[ref.idnum],
                              self._rewrite(obj if obj is not None else NullObject()))

    def copy_pages(self) -> list[int]:
        """Write every page with what it reaches; return their numbers in the output."""
        numbers = []
        for page in self.reader.pages:  # with the attributes it inherits from its tree
            ref = page.indirect_reference
            assert ref is not None
            page[NameObject("/Parent")] = _ref(self.pages_root)
            page.pop(NameObject("/StructParents"), None)
            number = self._number(ref)
            self.writer.write(number, self._rewrite(page))
            numbers.append(number)
            self._drain()
        return numbers

    def destinations(self) -> dict[str, PdfObject]:
        """The part's named destinations (/Dests of its catalog), renumbered."""
        names = self.catalog.get("/Dests")
        if isinstance(names, IndirectObject):
            names = names.get_object()
        if not isinstance(names, DictionaryObject):
            return {}
        dests = {str(k): self._rewrite(names.raw_get(k)) for k in names}
        self._drain()
        return dests


def concatenate(parts: list[tuple[str, Path]], out: IO[bytes], *, title: str = "") -> int:
    """Write the (bookmark title, PDF file) parts one after another to `out`; return the
    number of pages. Raises pypdf's errors for a damaged part."""
    writer = _Writer(out)
    catalog, pages_root, outlines, info = (writer.reserve() for _ in range(4))
    kids: list[int] = []
    dests: dict[str, PdfObject] = {}
    marks: list[tuple[str, int, int]] = []  # title, its own object number, first page
    for name, path in parts:
        part = _Part(path, writer, pages_root)
        numbers = part.copy_pages()
        for key, value in part.destinations().items():
            dests.setdefault(key, value)
        if numbers:
            marks.append((name, writer.reserve(), numbers[0]))
        kids += numbers
        # pypdf's objects point back at their reader (cycles): without a collection here,
        # a dozen parsed parts piled up before the collector ran (+120 MB at 50 parts).
        del part
        gc.collect()
    writer.write(pages_root, DictionaryObject({
        NameObject("/Type"): NameObject("/Pages"),
        NameObject("/Kids"): ArrayObject([_ref(n) for n in kids]),
        NameObject("/Count"): NumberObject(len(kids)),
    }))
    for i, (name, number, first) in enumerate(marks):
        item = DictionaryObject({
            NameObject("/Title"): TextStringObject(name),
            NameObject("/Parent"): _ref(outlines),
            NameObject("/Dest"): ArrayObject([_ref(first), NameObject("/Fit")]),
        })
        if i > 0:
            item[NameObject("/Prev")] = _ref(marks[i - 1][1])
        if i + 1 < len(marks):
            item[NameObject("/Next")] = _ref(marks[i + 1][1])
        writer.write(number, item)
    outline = DictionaryObject({NameObject("/Type"): NameObject("/Outlines"),
                                NameObject("/Count"): NumberObject(len(marks))})
    if marks:
        outline[NameObject("/First")] = _ref(marks[0][1])
        outline[NameObject("/Last")] = _ref(marks[-1][1])
    writer.write(outlines, outline)
    root = DictionaryObject({
        NameObject("/Type"): NameObject("/Catalog"),
        NameObject("/Pages"): _ref(pages_root),
        NameObject("/Outlines"): _ref(outlines),
        NameObject("/PageMode"): NameObject("/UseOutlines"),
    })
    if dests:
        root[NameObject("/Dests")] = DictionaryObject(
            {NameObject(k): v for k, v in sorted(dests.items())})
    writer.write(catalog, root)
    writer.write(info, DictionaryObject({
        NameObject("/Producer"): TextStringObject("camaudit (Chromium, parts joined)"),
        NameObject("/Title"): TextStringObject(title),
    }))
    writer.finish(catalog, info)
    return len(kids)
