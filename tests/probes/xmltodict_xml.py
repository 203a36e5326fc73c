"""Rebuild the XML a device sent from its xmltodict form (hikvision_next diagnostics dumps).

xmltodict writes attributes as '@name', text beside attributes as '#text', repeated
elements as lists and empty elements as null; the inverse restores the element tree.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr


def element(tag: str, value: Any) -> str:
    if isinstance(value, list):
        return "".join(element(tag, item) for item in value)
    if value is None:
        return f"<{tag}/>"
    if not isinstance(value, dict):
        return f"<{tag}>{escape(str(value))}</{tag}>"
    attrs = "".join(f" {k[1:]}={quoteattr(str(v))}" for k, v in value.items()
                    if k.startswith("@"))
    inner = escape(str(value["#text"])) if "#text" in value else ""
    inner += "".join(element(k, v) for k, v in value.items()
                     if not k.startswith("@") and k != "#text")
    return f"<{tag}{attrs}>{inner}</{tag}>"


def to_xml(doc: dict[str, Any]) -> bytes:
    """One root element (the dict's single key) as an XML document."""
    (tag, value), = doc.items()
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + element(tag, value)).encode()
