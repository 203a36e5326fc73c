"""Neighbour tables, lease files and inventories, from samples in their real formats."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from camaudit.errors import IngestError, UsageError
from camaudit.ingest import detect, inventory, leases, neighbours
from camaudit.ingest.records import ByMac, Gatherer, Record, Seen
from camaudit.model import Observation

from .conftest import SAMPLES


def _read(parser, path: Path) -> list[Record]:  # type: ignore[no-untyped-def]
    with path.open("rb") as fh:
        return list(parser(fh, path.name))


def _bindings(records: list[Record]) -> dict[str, str | None]:
    return {r.address: r.mac for r in records if isinstance(r, Seen) and r.address}


def test_ip_neigh() -> None:
    records = _read(neighbours.parse_neighbours, SAMPLES / "ip-neigh.txt")
    assert _bindings(records) == {"192.0.2.10": "44:19:b6:12:34:56",
                                  "192.0.2.11": "e0:50:8b:ab:cd:ef",
                                  "fe80::1": "00:00:5e:00:53:01"}


def test_windows_arp_skips_broadcast_and_multicast() -> None:
    records = _read(neighbours.parse_neighbours, SAMPLES / "arp-windows.txt")
    assert _bindings(records) == {"198.51.100.1": "00:00:5e:00:53:02",
                                  "198.51.100.20": "ac:cc:8e:00:00:21"}


def test_bsd_and_net_tools_arp_pad_octets_and_keep_names() -> None:
    records = _read(neighbours.parse_neighbours, SAMPLES / "arp-linux.txt")
    assert _bindings(records) == {"203.0.113.7": "00:40:8c:00:00:07",
                                  "203.0.113.8": "4c:11:bf:00:00:08"}
    assert [r.hostname for r in records if isinstance(r, Seen)] == [None, "nvr-basement"]


def test_cisco_arp_and_mac_table() -> None:
    records = _read(neighbours.parse_neighbours, SAMPLES / "cisco-show-ip-arp.txt")
    assert _bindings(records) == {"192.0.2.1": "00:00:5e:00:53:03",
                                  "192.0.2.10": "44:19:b6:12:34:56"}
    ports = {r.mac: r.observation.fields for r in records if isinstance(r, ByMac)}
    assert set(ports) == {"44:19:b6:12:34:56", "e0:50:8b:ab:cd:ef", "00:e0:fc:00:00:99"}
    assert ports["44:19:b6:12:34:56"]["switch_port"] == "Gi1/0/5"
    assert ports["44:19:b6:12:34:56"]["vlan"] == "20"
    assert "Hikvision" in str(ports["44:19:b6:12:34:56"]["oui_vendor"])
    # The switch port joins the host the ARP table bound that MAC to.
    gatherer = Gatherer()
    gatherer.add_all(records)
    hosts, unbound = gatherer.finish()
    host = next(h for h in hosts if h.address == "192.0.2.10")
    assert any(o.fields.get("switch_port") == "Gi1/0/5" for o in host.observations)
    assert unbound == ["00:e0:fc:00:00:99", "e0:50:8b:ab:cd:ef"]


def test_isc_leases_last_declaration_wins_and_free_binds_nothing() -> None:
    records = _read(leases.parse_isc_leases, SAMPLES / "dhcpd.leases")
    assert _bindings(records) == {"192.0.2.10": "44:19:b6:12:34:56",
                                  "192.0.2.11": "e0:50:8b:ab:cd:ef"}
    dhcp = {r.address: r.fields for r in records if isinstance(r, Observation)}
    assert dhcp["192.0.2.10"] == {"hostname": "IPC", "vendor_class": "udhcp 1.20.2"}
    assert dhcp["192.0.2.11"] == {"hostname": "DVR-lobby"}


def test_truncated_isc_leases_keep_complete_leases() -> None:
    data = (SAMPLES / "dhcpd.leases").read_bytes()
    cut = data.index(b"lease 192.0.2.11") + 40
    out: list[Record] = []
    with pytest.raises(IngestError, match=r"lease 192\.0\.2\.11 is not closed.*offset \d+"):
        for record in leases.parse_isc_leases(io.BytesIO(data[:cut]), "dhcpd.leases"):
            out.append(record)
    assert _bindings(out) == {"192.0.2.10": "44:19:b6:12:34:56"}


def test_dnsmasq_leases() -> None:
    records = _read(leases.parse_dnsmasq_leases, SAMPLES / "dnsmasq.leases")
    assert _bindings(records) == {"198.51.100.20": "ac:cc:8e:00:00:21",
                                  "198.51.100.22": "00:00:5e:00:53:22", "2001:db8::22": None}
    names = {r.address: r.hostname for r in records if isinstance(r, Seen)}
    assert names["198.51.100.20"] == "axis-accc8e000021" and names["198.51.100.22"] is None


def test_csv_inventory_with_title_rows_and_mac_only_rows() -> None:
    records = _read(inventory.parse_csv, SAMPLES / "inventory.csv")
    claims = [r for r in records if isinstance(r, Observation)]
    assert [(c.address, c.fields["make"], c.fields["row"]) for c in claims] == [
        ("127.77.9.1", "Acme", 4), ("127.77.9.2", "Dahua", 5), ("192.0.2.10", "Hikvision", 6)]
    assert all(c.source == "claim" and c.probe == "inventory" for c in claims)
    assert claims[0].fields["location"] == "Lobby"
    by_mac = [r for r in records if isinstance(r, ByMac)]
    assert [(b.mac, b.observation.fields["model"]) for b in by_mac] == [
        ("ac:cc:8e:00:00:21", "M1065-LW")]


def test_column_map_for_other_languages() -> None:
    sheet = "Hersteller,Modell,Adresse,Ort\nHikvision,DS-2CD2042WD-I,192.0.2.10,Eingang\n"
    with pytest.raises(IngestError, match="no header row"):
        list(inventory.parse_csv(io.BytesIO(sheet.encode()), "de.csv"))
    mapping = inventory.parse_map(["make=Hersteller", "model=Modell", "ip=Adresse",
                                   "location=Ort"])
    records = list(inventory.parse_csv(io.BytesIO(sheet.encode()), "de.csv", mapping))
    assert isinstance(records[0], Observation)
    assert records[0].fields["make"] == "Hikvision" and records[0].address == "192.0.2.10"
    with pytest.raises(UsageError):
        inventory.parse_map(["colour=Farbe"])


def test_xlsx_inventory(tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["nothing to see here"])
    sheet = book.create_sheet("Cameras")
    sheet.append(["Make", "Model", "IP", "MAC", "Location"])
    sheet.append(["Annke", "C500", "192.0.2.50", "44:19:b6:00:00:50", "Gate"])
    path = tmp_path / "cameras.xlsx"
    book.save(path)
    records = _read(inventory.parse_xlsx, path)
    assert len(records) == 1 and isinstance(records[0], Observation)
    assert records[0].fields["make"] == "Annke" and records[0].fields["mac"] == \
        "44:19:b6:00:00:50"
    with pytest.raises(IngestError, match="not a readable XLSX"):
        list(inventory.parse_xlsx(io.BytesIO(path.read_bytes()[:300]), "cut.xlsx"))


@pytest.mark.parametrize(("sample", "fmt"), [
    ("ip-neigh.txt", "neighbours"), ("arp-windows.txt", "neighbours"),
    ("arp-linux.txt", "neighbours"), ("cisco-show-ip-arp.txt", "neighbours"),
    ("dhcpd.leases", "isc-leases"), ("dnsmasq.leases", "dnsmasq-leases"),
    ("inventory.csv", "csv")])
def test_detect(sample: str, fmt: str) -> None:
    with (SAMPLES / sample).open("rb") as fh:
        assert detect.detect(fh, sample) == (fmt, False)


def test_detect_refuses_unknown_text() -> None:
    with pytest.raises(IngestError, match="cannot tell the format"):
        detect.detect(io.BytesIO(b"hello world\n"), "notes.txt")


PARSERS = [neighbours.parse_neighbours, leases.parse_isc_leases, leases.parse_dnsmasq_leases,
           inventory.parse_csv, inventory.parse_xlsx]


def _only_ingest_errors(parser, data: bytes) -> None:  # type: ignore[no-untyped-def]
    try:
        for _ in parser(io.BytesIO(data), "fuzz"):
            pass
    except IngestError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=1024))
def test_binary_garbage_never_crashes(blob: bytes) -> None:
    for parser in PARSERS:
        _only_ingest_errors(parser, blob)
    with pytest.raises(IngestError, match="cannot tell the format"):
        detect.detect(io.BytesIO(b"\0" + blob), "fuzz")  # a NUL byte: never text


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(p.name for p in SAMPLES.iterdir()
                              if p.suffix in (".txt", ".leases", ".csv"))),
       st.integers(min_value=0), st.lists(st.tuples(st.integers(min_value=0),
                                                    st.integers(0, 255)), max_size=6))
def test_truncated_or_corrupted_samples_never_crash(sample: str, cut: int,
                                                    flips: list[tuple[int, int]]) -> None:
    data = bytearray((SAMPLES / sample).read_bytes())
    for pos, value in flips:
        data[pos % len(data)] = value
    data = data[:cut % (len(data) + 1)]
    for parser in PARSERS:
        _only_ingest_errors(parser, bytes(data))
