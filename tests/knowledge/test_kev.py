"""The KEV catalogue: the shipped snapshot, and what a damaged catalogue is told."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camaudit.knowledge import kb_versions, kev, knowledge, reload

SNAPSHOT = Path(__file__).resolve().parents[2] / "src/camaudit/knowledge/data" / kev.SNAPSHOT


def _doc(**over: object) -> bytes:
    doc = json.loads(SNAPSHOT.read_bytes())
    doc.update(over)
    return json.dumps(doc).encode()


def test_shipped_snapshot() -> None:
    cat = kev.shipped()
    assert cat.version == "2025.08.25"
    assert len(cat.entries) == 1404
    assert "CVE-2021-36260" in cat and "CVE-2021-33044" in cat
    assert "CVE-2017-7921" not in cat  # checked: absent from the 2025.08.25 catalogue
    assert kb_versions()["kev"].startswith("2025.08.25")


@pytest.mark.parametrize(("data", "message"), [
    (b"\xff\xfe", "not UTF-8"),
    (b"{not json", ":1: not JSON"),
    (b"[]", "top level is not an object"),
    (b'{"catalogVersion": "2025.08.25"}', "no 'dateReleased'"),
    (_doc(catalogVersion="latest"), "is not YYYY.MM.DD"),
    (_doc(vulnerabilities=[]), "non-empty list"),
    (_doc(count=3), "count says 3"),
    (_doc(count=1, vulnerabilities=[{"cveID": "CVE-21-1"}]), "vulnerabilities[0]: cveID"),
    (_doc(count=1, vulnerabilities=[{"cveID": "CVE-2021-36260", "product": 7}]),
     "field 'product' must be text"),
])
def test_bad_catalogue(data: bytes, message: str) -> None:
    with pytest.raises(kev.KevError) as info:
        kev.parse_catalogue(data, "feed.json")
    assert str(info.value).startswith("feed.json")
    assert message in str(info.value)


def test_newer_update_is_used_and_older_is_not(isolated_knowledge: Path) -> None:
    newer = json.loads(SNAPSHOT.read_bytes())
    newer["catalogVersion"] = "2026.11.20"
    newer["vulnerabilities"].append(dict(newer["vulnerabilities"][0], cveID="CVE-2017-7921"))
    newer["count"] += 1
    (isolated_knowledge / "kev.json").write_text(json.dumps(newer))
    reload()
    assert knowledge().kev.version == "2026.11.20"
    assert "CVE-2017-7921" in knowledge().kev
    older = dict(newer, catalogVersion="2024.01.02")
    (isolated_knowledge / "kev.json").write_text(json.dumps(older))
    reload()
    assert knowledge().kev.version == "2025.08.25"
