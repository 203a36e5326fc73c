"""Sans-IO parts of docs: sniffing, text/HTML reading, claims scoring, model tokens, the
vocabulary file — unit tests and hypothesis fuzzing (a result, never an exception)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.docs import formats
from camaudit.docs.claims import scan_pages
from camaudit.docs.extract import extract_file
from camaudit.docs.models import find_models, tokens
from camaudit.docs.pages import Limits, Page
from camaudit.docs.textfile import read_html, read_text
from camaudit.docs.vocabulary import PATH, parse, vocabulary
from camaudit.errors import ConfigError
from camaudit.knowledge import yamlio
from camaudit.knowledge.paths import data_path


def claims(lines: list[str], blocks: bool = False) -> dict[int, dict[str, str | None]]:
    out: dict[int, dict[str, str | None]] = {}
    for hit in scan_pages([Page(1, lines=lines, blocks=blocks)], vocabulary()):
        out.setdefault(hit.line, {})[hit.term.id] = hit.severity or hit.why
    return out


@pytest.mark.parametrize(("line", "term", "expect"), [
    ("The camera supports race and gender attribute recognition.", "race", "high"),
    ("Uyghur detection with alarm.", "uyghur", "high"),
    ("支持少数民族识别。", "minority", "high"),
    ("人脸属性:肤色", "skin-colour", "high"),
    ("The system shall not detect race.", "race", "negated"),
    ("Race detection is not supported.", "race", "negated"),
    ("本系统不支持种族识别。", "race", "negated"),
    ("The EU AI Act prohibits inferring race from biometric data.", "race", "regulatory text"),
    ("依据法律法规,不得采集民族信息。", "ethnicity", "regulatory text"),
    ("Fixed a race condition in the encoder.", "race", None),
    ("Minority shareholders approved the merger.", "minority", "no analytics context"),
    ("中华民族伟大复兴", "ethnicity", None),
    ("Analyses whether or not a person is Uyghur, accuracy no less than 90%.", "uyghur",
     "high"),
])
def test_claims_are_told_from_negations_and_law(line: str, term: str,
                                                expect: str | None) -> None:
    assert claims([line]).get(1, {}).get(term) == expect


def test_a_heading_gives_context_and_negation_to_the_list_under_it() -> None:
    got = claims(["Recognised attributes:", "• gender", "• race",
                  "Not supported:", "• ethnicity"])
    assert got[3]["race"] == "high" and got[5]["ethnicity"] == "negated"


def test_a_wrapped_sentence_keeps_its_negation() -> None:
    line = "The video management platform delivered under this contract must not"
    got = claims([line, "detect race or the ethnicity of any person in view, at any time."])
    assert got[2] == {"race": "negated", "ethnicity": "negated"}


def test_platform_terms_and_staff() -> None:
    got = claims(["Key personnel: project manager and site engineer.",
                  "平台支持GA/T 1400视图库。", "Face library alerts for key persons."], True)
    assert got[1] == {"key-persons": "no surveillance context"}
    assert got[2] == {"gat-1400": "medium"}
    assert got[3] == {"face-library": "low", "key-persons": "medium"}


def test_model_tokens_resolve_through_identify_grammars() -> None:
    page = Page(1, lines=["Hikvision DS-2CD2043G2-I, Uniview IPC322LB-SF28K-A",
                          "ISO 9001-2015, EN 50132-5, 2.8mm, 2026-12-01",
                          "大华DH-SD49425XB-HNR球机", "Lorex N841A81 recorder"])
    got = {(m.model, m.manufacturer, m.status) for m in find_models([page])}
    assert got == {("DS-2CD2043G2-I", "Hikvision", "open"),
                   ("IPC322LB-SF28K-A", "Uniview", "open"),
                   ("DH-SD49425XB-HNR", "Dahua", "open"),
                   ("N841A81", "Dahua", "possible")}


def test_the_vocabulary_cites_a_source_for_every_term() -> None:
    vocab = vocabulary()
    analytics = data_path("analytics.yaml").read_text(encoding="utf-8")
    assert vocab.claims and vocab.platform
    for term in (*vocab.claims, *vocab.platform):
        assert term.sources and all(s.url.startswith("https://") for s in term.sources)
    # the claims rest at least in part on the reports the knowledge base records
    for term in vocab.claims:
        assert any(s.url in analytics for s in term.sources) or term.id == "minority", term.id


def test_a_broken_vocabulary_says_file_and_line() -> None:
    doc = yaml.safe_load(PATH.read_text(encoding="utf-8"))
    doc["claims"][0]["sources"] = ["nowhere"]
    text = yaml.safe_dump(doc, allow_unicode=True)
    with pytest.raises(ConfigError, match=r"vocab.yaml:\d+: term uyghur cites unknown source"):
        parse(yamlio.loads(text, "vocab.yaml"), "vocab.yaml")


@pytest.mark.parametrize(("name", "head", "members", "fmt"), [
    ("a.pdf", b"%PDF-1.7\n", [], "pdf"),
    ("a.bin", b"junk\n%PDF-1.4", [], "pdf"),
    ("a.docx", b"PK\x03\x04", ["word/document.xml"], "docx"),
    ("a.zip", b"PK\x03\x04", ["xl/workbook.xml"], "xlsx"),
    ("a.zip", b"PK\x03\x04", ["x.txt"], "unknown"),
    ("a.txt", "招标".encode("gb18030"), [], "text"),
    ("page", b"<!DOCTYPE html><html>", [], "html"),
    ("a.bin", bytes(range(32)) * 10, [], "unknown"),
])
def test_sniff(name: str, head: bytes, members: list[str], fmt: str) -> None:
    assert formats.sniff(name, head, members)[0] == fmt


def test_html_lines_are_source_lines() -> None:
    page = read_html(b"<html>\n<body>\n<p>one</p>\n<script>race()</script>\n<p>two\nthree</p>"
                     b"\n</body></html>", Limits()).pages[0]
    numbered = {page.start + i: line for i, line in enumerate(page.lines) if line}
    assert numbered == {3: "one", 5: "two three"}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=12), st.booleans())
def test_claims_and_models_never_raise(lines: list[str], blocks: bool) -> None:
    page = Page(1, lines=lines, blocks=blocks)
    for hit in scan_pages([page], vocabulary()):
        assert 1 <= hit.line <= len(lines)
    for mention in find_models([page]):
        assert 1 <= mention.line <= len(lines)
    for line in lines:
        for at, word in tokens(line):
            assert 0 <= at <= len(line) and word


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000))
def test_text_html_and_sniff_never_raise(data: bytes) -> None:
    formats.sniff("x", data, [])
    for page in read_text(data, Limits()).pages:
        assert all("\n" not in line for line in page.lines)
    read_html(data, Limits())


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([b"%PDF-1.7\n", b"PK\x03\x04", b"", b"<html>"]))
def test_extract_file_never_raises(tmp_path_factory: pytest.TempPathFactory, data: bytes,
                                   head: bytes) -> None:
    path: Path = tmp_path_factory.mktemp("fuzz") / "f.bin"
    path.write_bytes(head + data)
    result = extract_file(str(path), Limits())
    assert result.error is None or re.search(r"\w", result.error)
