"""Plain text and HTML: decoded, split into pages and lines (sans-IO: bytes in, pages out).

Text is decoded as UTF-8 (with or without BOM) or UTF-16 with a BOM, else as GB18030
(the superset of GBK/GB2312 in which Chinese documents without a BOM are usually
written), else Latin-1. A form feed starts a new page. HTML is parsed by lxml's HTML
parser (no network, no entities fetched); its visible text is kept with the source
line each piece came from, so a finding points at the line of the file.
"""

from __future__ import annotations

import codecs
import re

from camaudit.docs.pages import Extracted, Limits, Page

_BLOCK_TAGS = {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
               "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
               "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
               "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "title", "caption"}
_SKIP_TAGS = {"script", "style", "noscript", "template", "head"}
_LINES = re.compile(r"\r\n|\r|\n")


def decode(data: bytes) -> str:
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, "replace")
    for codec in ("utf-8", "gb18030"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_text(data: bytes, limits: Limits) -> Extracted:
    out = Extracted("text")
    text = decode(data)
    if len(text) > limits.doc_chars:
        text = text[: limits.doc_chars]
        out.notes.append(f"text cut at {limits.doc_chars:,} characters")
    line_no = 1
    for number, chunk in enumerate(text.split("\f"), start=1):
        if number > limits.max_pages:
            out.notes.append(f"only the first {limits.max_pages} pages were read")
            break
        lines = [line[: limits.page_chars] for line in _LINES.split(chunk)]
        # a form feed keeps the file's line numbering: the page starts where the file is
        out.pages.append(Page(number=number, lines=lines, start=line_no))
        line_no += len(lines) - 1
    return out


def read_html(data: bytes, limits: Limits) -> Extracted:
    """Visible text of an HTML file: one line per block (paragraph, list item, cell...),
    numbered by the source line the block starts on; blocks starting on one source line
    are joined with ' | '."""
    from lxml import etree, html

    out = Extracted("html")
    if len(data) > limits.doc_chars * 4:
        data = data[: limits.doc_chars * 4]
        out.notes.append("file cut before parsing (too large)")
    parser = html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True,
                             huge_tree=False, encoding=_charset(data))
    try:
        root = html.document_fromstring(data, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        out.error = f"HTML cannot be parsed ({exc})"
        return out
    by_line: dict[int, list[str]] = {}
    chars = 0
    block: list[str] = []
    where = [1]

    def flush() -> None:
        nonlocal chars
        text = " ".join(" ".join(block).split())
        block.clear()
        if text and chars < limits.doc_chars:
            chars += len(text)
            by_line.setdefault(where[0], []).append(text)

    def walk(element: etree._Element, depth: int) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag in _SKIP_TAGS or depth > 200:
            return
        is_block = tag in _BLOCK_TAGS
        if is_block:
            flush()
            where[0] = element.sourceline or where[0]
        block.append(element.text or "")
        for child in element:
            walk(child, depth + 1)
            block.append(child.tail or "")
        if is_block:
            flush()

    walk(root, 0)
    flush()
    if chars >= limits.doc_chars:
        out.notes.append(f"text cut at {limits.doc_chars:,} characters")
    page = Page(number=1, blocks=True)
    if by_line:
        first = min(by_line)
        page.start = first
        page.lines = [" | ".join(by_line.get(n, [])) for n in range(first, max(by_line) + 1)]
    out.pages.append(page)
    return out


def _charset(data: bytes) -> str | None:
    """The encoding the file declares, if Python knows it; else None (lxml guesses)."""
    found = re.search(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", data[:4096])
    if found is None:
        if data.startswith(codecs.BOM_UTF8):
            return "utf-8"
        return None
    name = found.group(1).decode("ascii")
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return "gb18030" if name.lower() in ("gb2312", "gbk") else name
