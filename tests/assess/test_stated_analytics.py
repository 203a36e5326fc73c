"""Analytics a device states through its own API: protected-trait words, offered vs enabled.

The vocabulary (knowledge/data/analytics_terms.yaml) must name a trait only where the
device's own words do: none of the 15 real Hikvision capability documents states one, and
whole-word matching keeps `traceRoute` or `isSupportRacm` out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.assess import assess, exceeds, load_policies
from camaudit.knowledge.terms import load_terms, match, words
from camaudit.model import Device
from camaudit.probes import deep

SAMPLES = Path(__file__).parent.parent / "probes" / "samples" / "deep"
sys.path.insert(0, str(SAMPLES.parent.parent))
from xmltodict_xml import to_xml  # noqa: E402


def _device(*docs: dict[str, object]) -> Device:
    return Device(address="192.0.2.5", device_type="camera", manufacturer="Dahua",
                  model="IPC-HDW5831R-ZE",
                  analytics=[{**d, "observation": "sha256:" + "ab" * 32} for d in docs])


def _rule(enabled: list[str], offered: list[str], channel: int = 1) -> dict[str, object]:
    return {"api": "dahua-cgi", "endpoint": "VideoAnalyseRule", "channel": channel,
            "offered": offered, "enabled": enabled, "platform": []}


@pytest.mark.parametrize(("name", "trait"), [
    ("emRace", "race"), ("FaceAnalysis.Race", "race"), ("SkinColor", "race"),
    ("skin_colour", "race"), ("肤色", "race"), ("EthicCode", "ethnicity"),
    ("Ethnicity", "ethnicity"), ("民族代码", "ethnicity"), ("traceRoute", None),
    ("isSupportRacm", None), ("GRACE", None), ("NationalityCode", None),
    ("isSupportFaceSnap", None), ("Sex", None), ("pictureSearchType:FaceDetection", None)])
def test_whole_words_only(name: str, trait: str | None) -> None:
    found = match(load_terms(), name)
    assert (found.id if found else None) == trait, words(name)


def test_no_real_capability_document_states_a_protected_trait() -> None:
    terms = load_terms()
    for path in sorted(SAMPLES.glob("isapi-capabilities-*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))["xmltodict"]
        fields = deep.parse_isapi_capabilities(to_xml(doc))
        assert [n for n in fields["offered"] if match(terms, str(n))] == [], path.name  # type: ignore[union-attr]


def test_enabled_and_offered() -> None:
    policies = load_policies(["all"])
    on = assess(_device(_rule(["FaceAnalysis", "FaceAnalysis.Race"],
                              ["FaceAnalysis", "FaceAnalysis.Sex", "FaceAnalysis.Race"])),
                policies)
    (finding,) = [f for f in on if f.id == "analytics:stated-race"]
    assert (finding.kind, finding.status, finding.severity) == ("analytics", "enabled", "high")
    assert "'FaceAnalysis.Race' (dahua-cgi VideoAnalyseRule channel 1)" in finding.detail
    assert finding.evidence == [
        "device API dahua-cgi VideoAnalyseRule channel 1 -> sha256:" + "ab" * 32]
    assert finding.source and "EU AI Act Art. 5(1)(g)" in finding.detail
    off = assess(_device(_rule([], ["FaceAnalysis", "FaceAnalysis.Race"])), policies)
    (finding,) = [f for f in off if f.id == "analytics:stated-race"]
    assert (finding.status, finding.severity) == ("offered", "medium")
    assert exceeds([finding], "medium") and not exceeds([finding], "high")


def test_nothing_protected_nothing_found() -> None:
    policies = load_policies(["all"])
    plain = assess(_device(_rule(["IVS-1"], ["IVS-1", "FaceAnalysis", "FaceAnalysis.Age"])),
                   policies)
    assert not [f for f in plain if f.kind == "analytics"]


def test_platform_settings() -> None:
    doc = {"api": "isapi", "endpoint": "/ISAPI/System/capabilities", "channel": 0,
           "offered": [], "enabled": [], "platform": ["isSupportGAT1400=true"]}
    (finding,) = [f for f in assess(_device(doc), load_policies(["all"]))
                  if f.id == "analytics:gat1400"]
    assert finding.status == "enabled" and "GA/T 1400" in finding.title


def test_only_policies_with_analytics_look() -> None:
    device = _device(_rule(["FaceAnalysis.Race"], ["FaceAnalysis.Race"]))
    assert any(f.id == "analytics:stated-race"
               for f in assess(device, load_policies(["eu-ai-act"])))
    assert not any(f.kind == "analytics" for f in assess(device, load_policies(["security"])))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_fuzz_words(name: str) -> None:
    found = match(load_terms(), name)
    assert found is None or found.id in ("race", "ethnicity")
