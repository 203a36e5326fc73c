"""Following device pointers through the scope gate."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import make_net

from camaudit.probes import follow


def test_parse_target() -> None:
    assert follow.parse_target("http://192.0.2.10:8899/onvif/device_service?x=1") == \
        follow.Target("http", "192.0.2.10", 8899, "/onvif/device_service?x=1")
    assert follow.parse_target("https://[2001:db8::1]/d.xml") == \
        follow.Target("https", "2001:db8::1", 443, "/d.xml")
    for bad in ("", "SERVICE_URI", "ftp://192.0.2.1/", "http://camera.example/",
                "http://192.0.2.1:99999/", "http://[zz::1]/", "http://" + "1" * 3000):
        assert follow.parse_target(bad) is None


def test_gate_records_refusals() -> None:
    net = make_net()
    assert follow.gate(net, "http://127.77.5.9:80/x", "t") is not None
    assert follow.gate(net, "http://203.0.113.5/x", "t") is None
    assert follow.gate(net, "http://239.255.255.250:1900/x", "t") is None
    assert follow.gate(net, "SERVICE_URI", "t") is None
    assert net.scope.refused == [("203.0.113.5", "t"), ("239.255.255.250", "t"),
                                 ("SERVICE_URI", "t")]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fuzz(text: str) -> None:
    target = follow.parse_target(text)
    assert target is None or target.scheme in ("http", "https")
    prefixed = follow.parse_target("http://" + text)
    assert prefixed is None or (prefixed.scheme == "http" and 0 <= prefixed.port <= 65535
                                and prefixed.path.startswith("/"))
