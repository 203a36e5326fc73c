"""Hardened XML: bombs, external entities and oversize documents end in ParseError, fast."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import BILLION_LAUGHS, EXTERNAL_DTD, XXE

from camaudit.errors import ParseError
from camaudit.probes import xmlsafe


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, XXE, EXTERNAL_DTD],
                         ids=["billion-laughs", "xxe", "external-dtd"])
def test_hostile_documents_are_refused_quickly(doc: bytes) -> None:
    start = time.monotonic()
    with pytest.raises(ParseError):
        xmlsafe.parse_xml(doc)
    assert time.monotonic() - start < 0.5


def test_oversize_is_refused_before_parsing() -> None:
    with pytest.raises(ParseError, match="exceeds"):
        xmlsafe.parse_xml(b"<a>" + b"x" * xmlsafe.MAX_XML + b"</a>")


@pytest.mark.parametrize("doc", [b"", b"   ", b"<a>", b"<?xml version='1.0' encoding='nope'?><a/>",
                                 b"\xff\xfe<\x00a\x00"])
def test_malformed(doc: bytes) -> None:
    with pytest.raises(ParseError):
        xmlsafe.parse_xml(doc)


def test_lookup_by_local_name_ignores_prefixes() -> None:
    root = xmlsafe.parse_xml(b'<e:E xmlns:e="urn:e" xmlns:t="urn:t"><t:A> x </t:A>'
                             b"<B>y</B><t:C><t:A>deep</t:A></t:C></e:E>")
    assert xmlsafe.local(root.tag) == "E"
    assert xmlsafe.first_text(root, "A") == "x"
    assert xmlsafe.child_text(root, "B") == "y"
    assert [el.text for el in xmlsafe.iter_local(root, "A")] == [" x ", "deep"]
    assert xmlsafe.split_list(" a  b\nc ") == ["a", "b", "c"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1024))
def test_fuzz_binary(data: bytes) -> None:
    try:
        root = xmlsafe.parse_xml(data)
    except ParseError:
        return
    assert isinstance(root.tag, str)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=512))
def test_fuzz_text(text: str) -> None:
    try:
        root = xmlsafe.parse_xml(("<r>" + text + "</r>").encode("utf-8", "surrogatepass"))
    except ParseError:
        return
    assert root.tag == "r"
