"""Held out means held out: no rule, recog correction or zoo persona cites a source that a
scored held-out sample cites (issue 13). A sample whose source becomes a rule source is moved
to tests/identify/heldout/retired/ with its reason, never kept in the score."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "identify" / "heldout"
RULE_FILES = [*sorted((ROOT / "src/camaudit/identify/rules").glob("*.yaml")),
              ROOT / "src/camaudit/identify/recog_map.yaml"]
PERSONAS = sorted((ROOT / "src/camaudit/zoo/personas").glob("*.yaml"))

_GITHUB = re.compile(r"github\.com/([\w.-]+/[\w.-]+)/(?:(?:issues|pull|discussions)/(\d+)"
                     r"|blob/[^/\s]+/([^\s'\"),;@]+))", re.I)
_REPO_PATH = re.compile(r"\b([\w.-]+/[\w.-]+) ((?:src|tests?|pkg|test|testdata)/[^\s@'\",;)]+)")
_URL = re.compile(r"https?://[^\s'\"),;\]]+")
_SHORT = re.compile(r"\b([\w.-]+/[\w.-]+) ?#(\d+)\b")  # "owner/repo#12", as persona notes write it


def citations(text: str) -> set[str]:
    """The sources a text names: GitHub threads, repository files, other URLs."""
    out: set[str] = set()
    for owner_repo, number, path in _GITHUB.findall(text):
        out.add(f"{owner_repo}#{number}".lower() if number else f"{owner_repo}:{path}".lower())
    for owner_repo, path in _REPO_PATH.findall(text):
        out.add(f"{owner_repo}:{path}".lower().rstrip("."))
    for owner_repo, number in _SHORT.findall(text):
        out.add(f"{owner_repo}#{number}".lower())
    for url in _URL.findall(text):
        if "github.com/" not in url:
            out.add(url.lower().rstrip("./"))
    return out


def _heldout_sources() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in sorted(HELDOUT.glob("*.yaml")):
        for sample in yaml.safe_load(path.read_text("utf-8")).get("samples") or []:
            out[f"{path.name}:{sample['id']}"] = citations(str(sample.get("source", "")))
    return out


def test_citations_reader() -> None:
    text = ("scottlamb/retina src/client/testdata/x_sdp.txt@6972ac4 and "
            "https://github.com/koush/scrypted/issues/441 and https://example.org/a.html "
            "(AlexxIT/StreamAssist#19).")
    assert citations(text) == {"scottlamb/retina:src/client/testdata/x_sdp.txt",
                               "koush/scrypted#441", "https://example.org/a.html",
                               "alexxit/streamassist#19"}


def test_no_rule_or_persona_cites_a_heldout_source() -> None:
    used = set().union(*(citations(p.read_text("utf-8")) for p in RULE_FILES + PERSONAS))
    clashes = {sample: sorted(sources & used)
               for sample, sources in _heldout_sources().items() if sources & used}
    assert not clashes, ("held-out samples whose source a rule or persona cites (retire them "
                         f"to heldout/retired/ or drop the rule): {clashes}")
    assert len(_heldout_sources()) >= 99
