"""Channel lists and capability documents read with the operator's login (probes/deep.py).

Every sample under samples/deep/ is a real device answer with its origin inside: 15
Hikvision DeviceCap documents and 4 InputProxy channel lists (maciej-or/hikvision_next
diagnostics dumps, rebuilt as the XML the devices sent), 3 Dahua RemoteDevice tables and
rroller/dahua's VideoAnalyseRule lines.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xmltodict_xml import to_xml

from camaudit.errors import ParseError
from camaudit.probes import deep

SAMPLES = Path(__file__).parent / "samples" / "deep"


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def names(prefix: str) -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob(f"{prefix}-*.json"))


CAPS = names("isapi-capabilities")
PROXIES = names("isapi-inputproxy")
REMOTES = names("dahua-remotedevice")


def test_the_real_documents_are_all_there() -> None:
    assert (len(CAPS), len(PROXIES), len(REMOTES)) == (15, 4, 3)


@pytest.mark.parametrize("name", PROXIES)
def test_inputproxy_lists_give_every_connected_camera(name: str) -> None:
    doc = sample(name)["xmltodict"]
    channels = deep.parse_isapi_inputproxy(to_xml(doc))
    items = doc["InputProxyChannelList"]["InputProxyChannel"]
    assert [c["channel"] for c in channels] == [int(i["id"]) for i in items]
    for got, item in zip(channels, items, strict=True):
        source = item["sourceInputPortDescriptor"]
        assert got["address"] == source["ipAddress"]
        assert got["protocol"] == source["proxyProtocol"]
        assert got.get("model") == source.get("model")
        assert got.get("firmware") == source.get("firmwareVersion")


def test_inputproxy_of_the_ds7732_names_cameras_of_two_protocols() -> None:
    channels = deep.parse_isapi_inputproxy(to_xml(sample("isapi-inputproxy-ds-7732ni-m4")
                                                  ["xmltodict"]))
    assert len(channels) == 18
    assert {c["protocol"] for c in channels} == {"HIKVISION", "ONVIF"}
    onvif = [c for c in channels if c["protocol"] == "ONVIF"]
    assert {c["model"] for c in onvif} == {"JVSWO708-PO300M2"} and onvif[0]["port"] == 6688


@pytest.mark.parametrize("name", CAPS)
def test_capability_documents_list_what_the_device_offers(name: str) -> None:
    fields = deep.parse_isapi_capabilities(to_xml(sample(name)["xmltodict"]))
    offered = fields["offered"]
    assert isinstance(offered, list) and offered
    assert len(offered) > 10 and "isSupport" not in offered
    assert fields["enabled"] == [] and fields["channel"] == 0


def test_face_capture_capabilities_are_read_as_the_device_states_them() -> None:
    offered = {name: set(deep.parse_isapi_capabilities(to_xml(sample(name)["xmltodict"]))
                         ["offered"]) for name in CAPS}
    snapping = {n for n, o in offered.items() if "isSupportFaceSnap" in o}
    assert snapping, "some of the real cameras state face capture"
    assert all("isSupportFaceSnap" not in o for n, o in offered.items() if n not in snapping)


@pytest.mark.parametrize("name", REMOTES)
def test_dahua_remote_device_tables(name: str) -> None:
    data = sample(name)
    channels = deep.parse_dahua_remote_device(data["response"].encode())
    assert len(channels) == len(data["expect"])
    for got, want in zip(channels, data["expect"], strict=True):
        assert {k: got.get(k) for k in want} == want
    assert all("password" not in json.dumps(c).lower() for c in channels)


def test_dahua_remote_device_drops_placeholder_macs() -> None:
    lorex = deep.parse_dahua_remote_device(
        sample("dahua-remotedevice-lorex-nvr6xx-4ks2")["response"].encode())
    assert all("mac" not in c for c in lorex)


def test_dahua_analyse_rules_say_offered_and_enabled() -> None:
    rules = deep.parse_dahua_analyse_rules(
        sample("dahua-videoanalyserule-rroller")["response"].encode())
    assert rules == [{"api": "dahua-cgi", "endpoint": "VideoAnalyseRule", "channel": 1,
                      "offered": ["IVS-1"], "enabled": ["IVS-1"], "platform": []}]
    text = (b"table.VideoAnalyseRule[1][0].Enable=false\n"
            b"table.VideoAnalyseRule[1][0].Type=FaceAnalysis\n"
            b"table.VideoAnalyseRule[1][0].Config.FeatureList[0]=Sex\n"
            b"table.VideoAnalyseRule[1][0].Config.FeatureList[1]=Age\n")
    (one,) = deep.parse_dahua_analyse_rules(text)
    assert one["channel"] == 2 and one["enabled"] == []
    assert one["offered"] == ["FaceAnalysis", "FaceAnalysis.Sex", "FaceAnalysis.Age"]


def test_platform_settings_are_picked_out() -> None:
    doc = (b"<DeviceCap><NetworkCap><isSupportGAT1400>true</isSupportGAT1400>"
           b"<VIIDServer>platform</VIIDServer></NetworkCap></DeviceCap>")
    fields = deep.parse_isapi_capabilities(doc)
    assert fields["platform"] == ["isSupportGAT1400=true", "VIIDServer=platform"]


@pytest.mark.parametrize("body", [b"", b"<html>404</html>", b"<DeviceInfo/>", b"nonsense",
                                  b"<!DOCTYPE x [<!ENTITY a 'b'>]><DeviceCap>&a;</DeviceCap>"])
def test_other_answers_are_parse_errors(body: bytes) -> None:
    for parser in (deep.parse_isapi_inputproxy, deep.parse_isapi_capabilities,
                   deep.parse_dahua_remote_device, deep.parse_dahua_analyse_rules):
        with pytest.raises(ParseError):
            parser(body)


def test_oversized_documents_are_refused() -> None:
    with pytest.raises(ParseError):
        deep.parse_dahua_remote_device(b"table.RemoteDevice.x=1\n" * 20000)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_binary(data: bytes) -> None:
    for key in ("isapi-inputproxy", "isapi-capabilities", "dahua-remotedevice",
                "dahua-analyserule"):
        with contextlib.suppress(ParseError):
            deep.parse(key, data)


_KEYS = st.sampled_from(["Enable", "Address", "DeviceType", "Port", "Mac", "Type",
                         "Config.FeatureList[0]", "Name", "Vendor"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["table.RemoteDevice.uuid:System_CONFIG_NETCAMERA_INFO_",
                                           "table.VideoAnalyseRule["]),
                          st.integers(-2, 99999), _KEYS, st.text(max_size=40)), max_size=40))
def test_fuzz_tables(lines: list[tuple[str, int, str, str]]) -> None:
    text = "\n".join(f"{p}{n}{'.' if p.endswith('_') else f'][{n}].'}{k}={v}"
                     for p, n, k, v in lines).encode("utf-8", "replace")
    for key in ("dahua-remotedevice", "dahua-analyserule"):
        try:
            channels, analytics = deep.parse(key, text)
        except ParseError:
            continue
        for channel in channels:
            assert isinstance(channel["channel"], int) and channel["enabled"] is True
        for fields in analytics:
            assert isinstance(fields["offered"], list)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.text(alphabet="abcXYZ<>&\"' 01", max_size=8),
                    lambda kids: st.dictionaries(st.sampled_from(
                        ["id", "name", "ipAddress", "model", "@opt", "#text",
                         "sourceInputPortDescriptor", "isSupportX"]), kids, max_size=4),
                    max_leaves=12))
def test_fuzz_xml_structure(tree: Any) -> None:
    for root in ("InputProxyChannelList", "DeviceCap"):
        body = to_xml({root: {"InputProxyChannel": tree} if isinstance(tree, dict) else tree})
        for parser in (deep.parse_isapi_inputproxy, deep.parse_isapi_capabilities):
            with contextlib.suppress(ParseError):
                parser(body)
