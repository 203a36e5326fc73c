"""Hardened XML reading for device replies (ONVIF SOAP, WS-Discovery, UPnP descriptions).

A camera is an untrusted peer: its XML may carry a DOCTYPE with entity
definitions (billion laughs, quadratic blow-up) or external entities that
point at files or URLs. We refuse every DTD outright (defusedxml with
``forbid_dtd``), never resolve entities, never touch the network, and cap the
input size before the parser sees it, so a hostile reply costs bounded time
and memory and ends in :class:`camaudit.errors.ParseError`.

Boundary: expat's ``xml.etree.ElementTree.ParseError``, defusedxml's
``DefusedXmlException`` and the codec errors an unknown ``encoding=`` raises
are translated here, once, chained with ``from exc``.

Devices disagree about namespace prefixes (``SOAP-ENV``/``s``/``env``,
``tds``/``ns0``), so lookups go by local name only.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from camaudit.errors import ParseError

#: Largest XML document a probe parses; camera replies are a few KiB.
MAX_XML = 256 * 1024
#: Longest text value kept from one element.
MAX_TEXT = 512


def parse_xml(data: bytes, *, what: str = "xml", max_bytes: int = MAX_XML) -> ET.Element:
    """Parse untrusted XML; any DTD, entity or malformation raises ParseError."""
    if len(data) > max_bytes:
        raise ParseError(f"{what}: document of {len(data)} bytes exceeds {max_bytes}",
                         offset=max_bytes)
    if not data.strip():
        raise ParseError(f"{what}: empty document", offset=0)
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ParseError(f"{what}: refused ({type(exc).__name__})", offset=0) from exc
    except ET.ParseError as exc:
        line, col = getattr(exc, "position", (0, 0))
        raise ParseError(f"{what}: malformed XML at line {line} column {col}") from exc
    except (ValueError, LookupError, UnicodeError, RecursionError) as exc:
        raise ParseError(f"{what}: cannot decode XML ({type(exc).__name__})") from exc
    if not isinstance(root, ET.Element):  # pragma: no cover - defusedxml returns Element
        raise ParseError(f"{what}: no root element")
    return root


def local(tag: object) -> str:
    """Local part of a ``{namespace}name`` tag (comments/PIs have non-str tags)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def iter_local(root: ET.Element, name: str) -> Iterator[ET.Element]:
    """Every descendant (and root) whose local name is `name`."""
    for el in root.iter():
        if local(el.tag) == name:
            yield el


def first_text(root: ET.Element, name: str) -> str | None:
    """Stripped text of the first element named `name`, capped; None if absent or empty."""
    for el in iter_local(root, name):
        text = (el.text or "").strip()
        if text:
            return text[:MAX_TEXT]
    return None


def child_text(parent: ET.Element, name: str) -> str | None:
    """Stripped text of the direct child named `name` (not a deeper descendant)."""
    for el in parent:
        if local(el.tag) == name:
            text = (el.text or "").strip()
            return text[:MAX_TEXT] or None
    return None


def split_list(text: str | None, limit: int = 64) -> list[str]:
    """Split a whitespace-separated list (WS-Discovery Types/Scopes/XAddrs), bounded."""
    if not text:
        return []
    return [item[:MAX_TEXT] for item in text.split()[:limit]]
