"""ONVIF Analytics and GetCapabilities answers of a real camera (samples/deep/onvif-*.json).

The replies are one camera's own (A_ONVIF_CAMERA YMA42P_C2_WM701_AF, published with their
origin inside each file); the dump gives the Body's answer, wrapped here in an Envelope.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.errors import ParseError
from camaudit.probes import onvif, onvif_analytics

SAMPLES = Path(__file__).parent / "samples" / "deep"


def reply(name: str) -> tuple[str, bytes]:
    data = json.loads((SAMPLES / f"onvif-{name}-yma42p.json").read_text(encoding="utf-8"))
    body = ('<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
            'xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope"><SOAP-ENV:Body>'
            f'{data["response"]}</SOAP-ENV:Body></SOAP-ENV:Envelope>')
    return str(data["action"]), body.encode()


def test_get_capabilities_gives_the_service_addresses() -> None:
    action, body = reply("capabilities")
    fields = onvif.parse_soap(body, action)
    services = dict(item.split(" ", 1) for item in fields["capabilities"])  # type: ignore[union-attr]
    assert services["Analytics"] == "http://192.168.178.67:80/onvif/analytics"
    assert services["Media"] == "http://192.168.178.67:80/onvif/media"
    assert set(services) == {"Analytics", "Device", "Events", "Imaging", "Media", "PTZ"}


def test_supported_and_configured_names() -> None:
    answers = dict(reply(n) for n in ("supported-modules", "supported-rules", "modules",
                                      "rules"))
    assert onvif_analytics.parse_names("GetSupportedRules", answers["GetSupportedRules"])[:3] \
        == ["tt:CellMotionDetector", "tt:CellMotionDetector.MinCount",
            "tt:CellMotionDetector.AlarmOnDelay"]
    fields = onvif_analytics.fields(answers)
    offered, enabled = fields["offered"], fields["enabled"]
    assert isinstance(offered, list) and isinstance(enabled, list)
    assert {"tt:CellMotionEngine", "tt:SmartMotionDetectorEngine", "tt:LineDetectorEngine",
            "tt:LineDetector"} <= set(offered)
    assert "tt:SmartMotionDetector.Week:Everyday" in enabled
    assert "tt:LineDetector" not in enabled  # supported, not configured
    assert set(enabled) <= set(offered)


def test_configuration_tokens() -> None:
    body = (b'<Envelope><Body><GetVideoAnalyticsConfigurationsResponse>'
            b'<Configurations token="VideoAnalyticsToken"/><Configurations token="bad token"/>'
            b"</GetVideoAnalyticsConfigurationsResponse></Body></Envelope>")
    assert onvif_analytics.parse_configuration_tokens(body) == ["VideoAnalyticsToken"]


def test_envelopes_refuse_a_hostile_token() -> None:
    assert b"<ConfigurationToken>VideoAnalyticsToken<" in onvif_analytics.envelope(
        onvif_analytics.NS_ANALYTICS, "GetRules", "VideoAnalyticsToken")
    with pytest.raises(ValueError):
        onvif_analytics.envelope(onvif_analytics.NS_ANALYTICS, "GetRules", "</x><evil>")


def test_nothing_read_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        onvif_analytics.fields({"GetRules": b"<html/>"})


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.sampled_from([a for _, a in onvif_analytics.TOKEN_ACTIONS]))
def test_fuzz(data: bytes, action: str) -> None:
    for call in (lambda: onvif_analytics.parse_names(action, data),
                 lambda: onvif_analytics.parse_configuration_tokens(data),
                 lambda: onvif.parse_soap(data, "GetCapabilities"),
                 lambda: onvif.parse_soap(data, "GetNetworkInterfaces")):
        with contextlib.suppress(ParseError):
            call()


def test_network_interfaces_give_the_mac() -> None:
    body = (b'<Envelope><Body><GetNetworkInterfacesResponse><NetworkInterfaces token="eth0">'
            b"<Enabled>true</Enabled><Info><Name>eth0</Name><HwAddress>44:19:b6:01:02:03"
            b"</HwAddress><MTU>1500</MTU></Info></NetworkInterfaces>"
            b"</GetNetworkInterfacesResponse></Body></Envelope>")
    fields = onvif.parse_soap(body, "GetNetworkInterfaces")
    assert (fields["mac"], fields["interface"]) == ("44:19:b6:01:02:03", "eth0")
