"""MAC probe: /proc/net/arp parsing, offline OUI lookup, and the loopback case."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import HOST, make_net

from camaudit.errors import ParseError
from camaudit.probes import mac

# Linux /proc/net/arp layout (proc(5)); addresses from RFC 5737, MACs with real OUIs.
TABLE = """IP address       HW type     Flags       HW address            Mask     Device
192.0.2.10       0x1         0x2         44:19:B6:00:00:01     *        eth0
192.0.2.11       0x1         0x0         00:00:00:00:00:00     *        eth0
192.0.2.12       0x1         0x2         02:fc:00:00:00:05     *        eth0
192.0.2.13       0x1         0x2         not-a-mac             *        eth0
"""


def test_complete_entries_only() -> None:
    assert mac.parse_arp_table(TABLE) == {"192.0.2.10": "44:19:b6:00:00:01",
                                          "192.0.2.12": "02:fc:00:00:00:05"}


def test_oui_vendor_from_offline_ieee_data() -> None:
    # 44-19-B6 is registered to Hangzhou Hikvision in the IEEE MA-L list netaddr ships.
    assert "Hikvision" in (mac.oui_vendor("44:19:b6:00:00:01") or "")
    assert mac.oui_vendor("02:fc:00:00:00:05") is None  # locally administered
    assert mac.fields_for("02:FC:00:00:00:05") == {"mac": "02:fc:00:00:00:05"}


def test_bad_header() -> None:
    with pytest.raises(ParseError):
        mac.parse_arp_table("garbage\n1 2 3 4\n")


def test_read_table_missing_file(tmp_path: Path) -> None:
    assert mac.read_table(tmp_path / "absent") == {}
    path = tmp_path / "arp"
    path.write_text(TABLE)
    assert mac.read_table(path)["192.0.2.10"] == "44:19:b6:00:00:01"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=1000))
def test_fuzz_table(text: str) -> None:
    try:
        table = mac.parse_arp_table(text)
    except ParseError:
        return
    assert all(len(v) == 17 for v in table.values())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_fuzz_oui(text: str) -> None:
    assert mac.oui_vendor(text) is None or isinstance(mac.oui_vendor(text), str)


def test_loopback_has_no_neighbour_entry() -> None:
    assert asyncio.run(mac.run(make_net(), HOST, 0)) == []
