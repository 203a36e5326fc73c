"""Documents the tests write themselves, in English and Chinese: text PDFs, scanned-image
PDFs, DOCX, XLSX, HTML — and hostile ones (zip bombs, malformed and encrypted PDFs, huge
pages).

Text PDFs are written by hand (ISO 32000-1): one Type0 font with Identity-H encoding and a
ToUnicode CMap (9.10.3), so any BMP character, Han included, is a two-byte code whose text
every reader recovers; no font file is needed to extract text. Scanned pages are drawn
with Pillow in Noto Sans CJK (Debian fonts-noto-cjk) and saved as image-only PDFs.
"""

from __future__ import annotations

import glob
import zipfile
from pathlib import Path

import docx
import openpyxl

PAGE_W, PAGE_H = 595, 842  # A4 in points


def _obj(n: int, body: bytes) -> bytes:
    return b"%d 0 obj\n" % n + body + b"\nendobj\n"


def _tounicode() -> bytes:
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
            b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
            b"1 beginbfrange <0000> <FFFF> <0000> endbfrange\n"
            b"endcmap CMapName currentdict /CMap defineresource pop end end\n")
    return b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream"


def text_pdf(path: Path, pages: list[list[str]], *, size: int = 11,
             media: tuple[float, float] = (PAGE_W, PAGE_H), encrypt: bool = False) -> Path:
    """A PDF whose page i shows pages[i] line by line (top to bottom)."""
    objects: dict[int, bytes] = {}
    n_pages = len(pages)
    font, tounicode, cid = 3, 4, 5
    first_page = 6
    kids = []
    for i, lines in enumerate(pages):
        page_no, content_no = first_page + 2 * i, first_page + 2 * i + 1
        kids.append(b"%d 0 R" % page_no)
        ops = [b"BT", b"/F1 %d Tf" % size, b"%d TL" % int(size * 1.6),
               b"50 %d Td" % int(media[1] - 60)]
        for line in lines:
            code = "".join(f"{ord(ch):04X}" for ch in line if ord(ch) <= 0xFFFF)
            ops.append(b"<" + code.encode() + b"> Tj T*")
        ops.append(b"ET")
        stream = b"\n".join(ops)
        objects[content_no] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + \
            b"\nendstream"
        objects[page_no] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
                            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                            % (int(media[0]), int(media[1]), font, content_no))
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), n_pages)
    objects[font] = (b"<< /Type /Font /Subtype /Type0 /BaseFont /NotoSansCJKsc-Regular "
                     b"/Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>"
                     % (cid, tounicode))
    objects[tounicode] = _tounicode()
    objects[cid] = (b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /NotoSansCJKsc-Regular "
                    b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
                    b" /FontDescriptor << /Type /FontDescriptor /FontName "
                    b"/NotoSansCJKsc-Regular /Flags 4 /FontBBox [0 -120 1000 880] "
                    b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >> "
                    b"/DW 1000 >>")
    trailer_extra = b""
    if encrypt:  # a Standard security handler dictionary: readers ask for a password
        enc = max(objects) + 1
        objects[enc] = (b"<< /Filter /Standard /V 1 /R 2 /O <" + b"AB" * 32 + b"> /U <"
                        + b"CD" * 32 + b"> /P -44 >>")
        trailer_extra = b" /Encrypt %d 0 R /ID [<00112233445566778899AABBCCDDEEFF> " \
                        b"<00112233445566778899AABBCCDDEEFF>]" % enc
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for n in sorted(objects):
        offsets[n] = len(out)
        out += _obj(n, objects[n])
    xref = len(out)
    top = max(objects)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (top + 1)
    for n in range(1, top + 1):
        out += b"%010d 00000 n \n" % offsets[n] if n in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        top + 1, trailer_extra, xref)
    path.write_bytes(bytes(out))
    return path


def cjk_font() -> str | None:
    """A Noto Sans CJK font file (Debian fonts-noto-cjk), or None."""
    found = sorted(glob.glob("/usr/share/fonts/**/NotoSansCJK-Regular.tt[cf]", recursive=True)
                   + glob.glob("/usr/share/fonts/**/NotoSansCJK*.otf", recursive=True))
    return found[0] if found else None


def scanned_pdf(path: Path, pages: list[list[str]], font_file: str, *, px: int = 44) -> Path:
    """An image-only PDF (no text layer): each page drawn at 200 dpi, as a scanner makes."""
    from PIL import Image, ImageDraw, ImageFont

    index = 2 if font_file.endswith(".ttc") else 0  # the SC face of the collection
    font = ImageFont.truetype(font_file, px, index=index)
    images = []
    for lines in pages:
        image = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(lines):
            draw.text((120, 150 + i * int(px * 1.9)), line, font=font, fill=0)
        images.append(image)
    images[0].save(path, "PDF", resolution=200.0, save_all=True, append_images=images[1:])
    return path


def docx_file(path: Path, pages: list[list[str]], *, table: list[list[str]] | None = None
              ) -> Path:
    """A DOCX: the paragraphs of each page, a hard page break between pages; `table`
    (rows of cells) after the first page's paragraphs."""
    document = docx.Document()
    for i, lines in enumerate(pages):
        for line in lines:
            document.add_paragraph(line)
        if i == 0 and table:
            grid = document.add_table(rows=len(table), cols=len(table[0]))
            for r, row in enumerate(table):
                for c, value in enumerate(row):
                    grid.cell(r, c).text = value
        if i < len(pages) - 1:
            document.add_page_break()
    document.save(str(path))
    return path


def xlsx_file(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(str(path))
    return path


def zip_bomb(path: Path, part: str, *, size: int = 64 * 2**20) -> Path:
    """A DOCX/XLSX-shaped ZIP whose `part` inflates to far more than any document: highly
    compressible content (`size` bytes, about a thousand times its compressed size)."""
    chunk = b"<w:t>" + b"A" * (1 << 20) + b"</w:t>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        info = zipfile.ZipInfo(part)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            written = 0
            while written < size:
                member.write(chunk)
                written += len(chunk)
    return path
