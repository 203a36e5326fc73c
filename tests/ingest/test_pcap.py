"""Captures: what camaudit's probes saw actively must be seen again in a capture of them.

The capture is made by tcpdump on ``lo`` while the real probes talk to the lab
(conftest); pcapng variants are written by dpkt's pcapng writer from the same
packets. Truncated and corrupted captures keep what was readable and end in
IngestError with the offset.
"""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import dpkt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from camaudit.errors import IngestError
from camaudit.ingest import pcap, pcapfile, wire
from camaudit.ingest.records import Gatherer, Record, Seen
from camaudit.ingest.tcpflow import Flow, FlowTable
from camaudit.model import Observation
from camaudit.probes import dhip, ubnt

from .conftest import CAMERA, RECORDER, LabCapture


def _records(data: bytes, name: str = "cap.pcap") -> tuple[list[Record], IngestError | None]:
    out: list[Record] = []
    try:
        for record in pcap.parse_pcap(io.BytesIO(data), name):
            out.append(record)
    except IngestError as exc:
        return out, exc
    return out, None


def _observations(records: list[Record]) -> list[Observation]:
    return [r for r in records if isinstance(r, Observation)]


def test_capture_holds_every_plaintext_observation_of_the_active_probes(
        lab_capture: LabCapture) -> None:
    records, error = _records(lab_capture.pcap.read_bytes())
    assert error is None
    def key(o: Observation) -> tuple[object, ...]:
        return (o.address, o.port, o.probe, o.sha256, o.fields.get("path"))

    passive = {key(o): o for o in _observations(records)}
    # Over TLS only the certificate is visible; everything else must match byte for byte.
    visible = [o for o in lab_capture.active if o.port != 443 or o.probe == "tls"]
    assert len(visible) >= 20
    missing = [key(o) for o in visible if key(o) not in passive]
    assert missing == []
    for obs in visible:
        twin = passive[key(obs)]
        assert twin.source == "passive"
        assert twin.fields == obs.fields, obs.probe


def test_capture_names_the_real_makers_evidence(lab_capture: LabCapture) -> None:
    records, _ = _records(lab_capture.pcap.read_bytes())
    by_probe = {(o.address, o.probe): o for o in _observations(records)}
    assert by_probe[(CAMERA, "isapi")].fields["model"] == "DS-2CD2386G2-IU"
    assert by_probe[(CAMERA, "hik-sdk")].fields["recognised"] is True
    assert by_probe[(CAMERA, "tls")].fields["subject"] == "CN=127.77.9.1,O=Test Camera Maker,C=CN"
    assert by_probe[(CAMERA, "wsd")].fields["xaddrs"] == [
        f"http://{CAMERA}/onvif/device_service"]
    assert by_probe[(RECORDER, "dahua-cgi")].fields["update_serial"] == "IPC-HDW5830R-Z"
    assert by_probe[(RECORDER, "dvrip")].fields["realm"] == "Login to 4X7C5A1ZAG21L3F"
    ports = {(r.address, p) for r in records if isinstance(r, Seen) for p in r.ports}
    assert ports == {(CAMERA, 80), (CAMERA, 443), (CAMERA, 554), (CAMERA, 8000),
                     (RECORDER, 80), (RECORDER, 37777)}


def _to_pcapng(data: bytes) -> bytes:
    """The same packets in a pcapng container, written by dpkt's pcapng writer."""
    out = io.BytesIO()
    writer = dpkt.pcapng.Writer(out, snaplen=262144, linktype=dpkt.pcap.DLT_EN10MB)
    for frame in pcapfile.read_frames(io.BytesIO(data), "x"):
        writer.writepkt(frame.data, ts=frame.ts)
    return out.getvalue()


def test_pcapng_gives_the_same_observations(lab_capture: LabCapture) -> None:
    data = lab_capture.pcap.read_bytes()
    classic, _ = _records(data)
    ng, error = _records(_to_pcapng(data), "cap.pcapng")
    assert error is None
    key = lambda o: (o.address, o.port, o.probe, o.sha256)  # noqa: E731
    assert sorted(map(key, _observations(ng))) == sorted(map(key, _observations(classic)))


def test_truncated_capture_keeps_what_was_read_and_names_the_offset(
        lab_capture: LabCapture) -> None:
    data = lab_capture.pcap.read_bytes()
    # Cut inside the last record (every packet is longer than 7 bytes): where the probes'
    # packets fall varies from run to run, the last one is a TCP teardown.
    cut = len(data) - 7
    records, error = _records(data[:cut], "cut.pcap")
    assert error is not None
    assert "cut.pcap" in str(error) and "truncated" in str(error)
    offset = int(str(error).rsplit("offset ", 1)[1].rstrip(")"))
    assert 24 <= offset < cut
    kept = {(o.address, o.probe) for o in _observations(records)}
    assert (CAMERA, "isapi") in kept  # everything before the cut survives


def test_not_a_capture() -> None:
    with pytest.raises(IngestError, match="not a pcap or pcapng"):
        list(pcap.parse_pcap(io.BytesIO(b"GIF89a" + b"\0" * 100), "x.pcap"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=10**9), flips=st.lists(
    st.tuples(st.integers(min_value=0, max_value=10**9), st.integers(0, 255)), max_size=8))
def test_corrupted_captures_never_crash(lab_capture: LabCapture, cut: int,
                                        flips: list[tuple[int, int]]) -> None:
    data = bytearray(lab_capture.pcap.read_bytes())
    for pos, value in flips:
        data[pos % len(data)] = value
    data = data[:cut % (len(data) + 1)]
    _records(bytes(data))  # only results or IngestError


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_garbage_never_crashes(blob: bytes) -> None:
    _records(blob)
    _records(pcapfile.PCAPNG_MAGIC + blob)
    _records(b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\0" * 12 + b"\x01\0\0\0" + blob)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1500), st.sampled_from([80, 554, 443, 8000, 37777, 34567, 21, 9]))
def test_stream_analysis_of_garbage_never_crashes(payload: bytes, port: int) -> None:
    flow = Flow("127.0.0.1", 40000, CAMERA, port, True, 0.0)
    flow.to_client.add(0, payload)
    flow.to_server.add(0, payload[::-1])
    wire.tcp_records(flow)
    stats = pcap.PcapStats()
    for sport, dport in ((3702, 40000), (40000, 3702), (1900, 40000), (40000, 1900),
                         (5353, 5353), (68, 67), (67, 68), (10001, 40000), (37810, 40000),
                         (40000, 37810)):
        frame = pcapfile.Frame(0, 1, 0.0, _udp_frame(CAMERA, sport, dport, payload))
        pcap.packet_records(frame, FlowTable(), stats)  # only results


def _udp_frame(src: str, sport: int, dport: int, payload: bytes, dst: str = "127.0.0.1",
               mac: bytes = b"\x00" * 6) -> bytes:
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
    udp.ulen = 8 + len(payload)
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=17, data=udp)
    return bytes(dpkt.ethernet.Ethernet(src=mac, dst=b"\xff" * 6, data=ip))


SAMPLES = Path(__file__).parent.parent / "probes" / "samples"


def test_ubiquiti_and_dahua_discovery_replies_are_read_by_the_probes_parsers() -> None:
    """The published UVC G3 Flex and IPC-HDW5421S replies, as a capture would hold them."""
    uvc = bytes.fromhex(json.loads(
        (SAMPLES / "ubiquiti-discovery-uvc-g3-flex.json").read_text())["response_hex"])
    body = json.loads((SAMPLES / "dahua-dhip-notifydevinfo-ipc-hdw5421s.json").read_text())
    ipc = dhip.frame(body["response"].encode())
    got: dict[str, Observation] = {}
    for src, sport, payload in ((CAMERA, ubnt.PORT, uvc), (RECORDER, dhip.PORT, ipc)):
        frame = pcapfile.Frame(0, 1, 1.7e9, _udp_frame(src, sport, 40000, payload))
        for record in pcap.packet_records(frame, FlowTable(), pcap.PcapStats()):
            assert isinstance(record, Observation)
            got[record.probe] = record
    assert got["ubnt"].address == CAMERA and got["ubnt"].fields["product"] == "UVC G3 Flex"
    assert got["ubnt"].fields == ubnt.parse_reply(uvc)
    assert got["dhip"].address == RECORDER and got["dhip"].fields["device_class"] == "IPC"
    assert got["dhip"].port == dhip.PORT and got["dhip"].source == "passive"


def test_dhcp_request_and_ack_give_hostname_vendor_class_and_binding() -> None:
    """A DHCP exchange built with dpkt's encoder per RFC 2131/2132 (documentation MACs)."""
    mac = bytes.fromhex("00005e005301")
    request = dpkt.dhcp.DHCP(op=dpkt.dhcp.DHCP_OP_REQUEST, chaddr=mac, xid=7, opts=(
        (dpkt.dhcp.DHCP_OPT_MSGTYPE, b"\x03"), (dpkt.dhcp.DHCP_OPT_HOSTNAME, b"IPC-lobby"),
        (dpkt.dhcp.DHCP_OPT_VENDOR_ID, b"udhcp 1.19.4"),
        (dpkt.dhcp.DHCP_OPT_PARAM_REQ, bytes([1, 3, 6, 12, 15, 28, 42]))))
    ack = dpkt.dhcp.DHCP(op=dpkt.dhcp.DHCP_OP_REPLY, chaddr=mac, xid=7,
                         yiaddr=int.from_bytes(socket.inet_aton("192.0.2.40"), "big"),
                         opts=((dpkt.dhcp.DHCP_OPT_MSGTYPE, b"\x05"),))
    table, stats, gatherer = FlowTable(), pcap.PcapStats(), Gatherer()
    for src, sport, dport, msg in (("0.0.0.0", 68, 67, request), ("192.0.2.1", 67, 68, ack)):
        frame = pcapfile.Frame(0, 1, 1.7e9, _udp_frame(src, sport, dport, bytes(msg),
                                                       dst="255.255.255.255", mac=mac))
        gatherer.add_all(pcap.packet_records(frame, table, stats))
    hosts, unbound = gatherer.finish()
    assert unbound == [] and [h.address for h in hosts] == ["192.0.2.40"]
    dhcp = next(o for o in hosts[0].observations if o.probe == "dhcp")
    assert dhcp.fields == {"message_type": "REQUEST", "hostname": "IPC-lobby",
                           "vendor_class": "udhcp 1.19.4", "param_list": "1,3,6,12,15,28,42"}
    mac_obs = next(o for o in hosts[0].observations if o.probe == "mac")
    assert mac_obs.fields["mac"] == "00:00:5e:00:53:01"


def test_mdns_response_gives_services_and_hostname() -> None:
    """An mDNS answer built with dpkt's DNS encoder per RFC 6762/6763."""
    answers = [
        dpkt.dns.DNS.RR(name="_axis-video._tcp.local", type=dpkt.dns.DNS_PTR,
                        cls=dpkt.dns.DNS_IN, ttl=120,
                        ptrname="AXIS M1065-LW - 00408C000001._axis-video._tcp.local"),
        dpkt.dns.DNS.RR(name="axis-00408c000001.local", type=dpkt.dns.DNS_A,
                        cls=dpkt.dns.DNS_IN, ttl=120, ip=socket.inet_aton(CAMERA)),
        dpkt.dns.DNS.RR(name="AXIS M1065-LW - 00408C000001._axis-video._tcp.local",
                        type=dpkt.dns.DNS_TXT, cls=dpkt.dns.DNS_IN, ttl=120,
                        text=[b"macaddress=00408C000001"])]
    msg = dpkt.dns.DNS(id=0, op=dpkt.dns.DNS_QR | dpkt.dns.DNS_AA, an=answers)
    frame = pcapfile.Frame(0, 1, 1.7e9, _udp_frame(CAMERA, 5353, 5353, bytes(msg),
                                                   dst="224.0.0.251"))
    records = pcap.packet_records(frame, FlowTable(), pcap.PcapStats())
    assert len(records) == 1 and isinstance(records[0], Observation)
    assert records[0].fields == {
        "hostname": "axis-00408c000001.local", "services": ["_axis-video._tcp.local"],
        "instances": ["AXIS M1065-LW - 00408C000001._axis-video._tcp.local"],
        "txt": ["macaddress=00408C000001"]}


def test_reassembly_handles_reordering_retransmission_and_wrap() -> None:
    table = FlowTable()
    base = 0xFFFFFFF0  # sequence numbers wrap inside the reply
    table.segment(0, "127.0.0.1", 5000, CAMERA, 80, 100, 0x02, b"")  # SYN
    table.segment(0, CAMERA, 80, "127.0.0.1", 5000, base - 1, 0x12, b"")  # SYN-ACK
    reply = b"HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhello"
    parts = [reply[:10], reply[10:30], reply[30:]]
    offsets = [0, 10, 30]
    table.segment(1, CAMERA, 80, "127.0.0.1", 5000, (base + offsets[2]) & 0xFFFFFFFF, 0x18,
                  parts[2])  # out of order
    table.segment(1, CAMERA, 80, "127.0.0.1", 5000, base, 0x18, parts[0])
    table.segment(1, CAMERA, 80, "127.0.0.1", 5000, base, 0x18, parts[0])  # retransmission
    table.segment(1, CAMERA, 80, "127.0.0.1", 5000, (base + 5) & 0xFFFFFFFF, 0x18,
                  reply[5:30])  # overlap
    done = table.segment(2, CAMERA, 80, "127.0.0.1", 5000, 0, 0x04, b"")  # RST
    assert len(done) == 1
    assert bytes(done[0].to_client.data) == reply
    assert done[0].server == CAMERA and done[0].server_port == 80


def test_flow_table_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from camaudit.ingest import tcpflow

    monkeypatch.setattr(tcpflow, "MAX_FLOWS", 50)
    table = FlowTable()
    handed_back = 0
    for i in range(500):
        handed_back += len(table.segment(float(i), "127.0.0.1", 10000 + i, CAMERA, 80, 1, 0x18,
                                         b"HTTP/1.1 200 OK\r\n" + b"x" * 100))
    assert len(table.flows) <= 50
    assert handed_back == 450
    assert table.buffered == sum(f.buffered for f in table.flows.values())


def test_gatherer_dedupes_repeated_replies(lab_capture: LabCapture) -> None:
    data = lab_capture.pcap.read_bytes()
    once, twice = Gatherer(), Gatherer()
    once.add_all(_records(data)[0])
    twice.add_all(_records(data)[0])
    twice.add_all(_records(data)[0])
    count = lambda g: sum(len(h.observations) for h in g.finish()[0])  # noqa: E731
    assert count(once) == count(twice) > 0


def test_file_on_disk_is_streamed(lab_capture: LabCapture, tmp_path: Path) -> None:
    seen: list[int] = []
    with lab_capture.pcap.open("rb") as fh:
        records = list(pcap.parse_pcap(fh, str(lab_capture.pcap), seen.append))
    assert records and seen and seen[-1] == lab_capture.pcap.stat().st_size
