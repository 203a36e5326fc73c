"""nmap XML made by the Debian nmap package against the lab (conftest), then ingested."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from camaudit.errors import IngestError
from camaudit.ingest import detect, nmapxml
from camaudit.ingest.records import Record, Seen
from camaudit.model import Observation

from .conftest import CAMERA, RECORDER, Lab, LabCapture


def _records(data: bytes) -> tuple[list[Record], IngestError | None]:
    out: list[Record] = []
    try:
        for record in nmapxml.parse_nmap_xml(io.BytesIO(data), "scan.xml"):
            out.append(record)
    except IngestError as exc:
        return out, exc
    return out, None


def test_open_ports_services_and_scripts(lab: Lab, lab_nmap: Path,
                                         lab_capture: LabCapture) -> None:
    records, error = _records(lab_nmap.read_bytes())
    assert error is None
    ports = {(r.address, p) for r in records if isinstance(r, Seen) for p in r.ports}
    assert ports == {(a, p) for a, ps in lab.endpoints.items() for p in ps if p != 37777}
    obs = [r for r in records if isinstance(r, Observation)]
    services = {(o.address, o.port): o.fields for o in obs if o.probe == "nmap"}
    assert services[(CAMERA, 8000)]["product"] == "Hikvision IPCam control port"
    assert services[(CAMERA, 80)]["service"] == "http"
    titles = {(o.address, o.port) for o in obs if o.probe == "http" and
              o.fields.get("title") == "Web Client"}
    assert {(CAMERA, 80), (CAMERA, 443), (RECORDER, 80)} <= titles
    servers = {o.fields.get("server") for o in obs if o.probe == "http" and
               o.address == RECORDER}
    assert "Device Web Server" in servers
    # ssl-cert's PEM is read by the same certificate parser as the probe's DER.
    active_cert = next(o for o in lab_capture.active if o.probe == "tls")
    nmap_cert = next(o for o in obs if o.probe == "tls")
    assert nmap_cert.fields == active_cert.fields
    rtsp = next(o for o in obs if o.probe == "rtsp")
    assert {"OPTIONS", "DESCRIBE"} <= set(rtsp.fields["public"])  # type: ignore[arg-type]
    with lab_nmap.open("rb") as fh:
        assert detect.detect(fh, "lab.xml") == ("nmap-xml", False)


def test_interrupted_run_keeps_complete_hosts(lab_nmap: Path) -> None:
    data = lab_nmap.read_bytes()
    cut = data.index(f'<address addr="{RECORDER}"'.encode())
    records, error = _records(data[:cut])
    assert error is not None and "scan.xml" in str(error)
    assert "offset" in str(error) and "line" in str(error)
    assert {r.address for r in records} == {CAMERA}


def test_not_nmap_xml() -> None:
    with pytest.raises(IngestError, match="not <nmaprun>"):
        list(nmapxml.parse_nmap_xml(io.BytesIO(b"<html><body/></html>"), "page.xml"))


def test_entities_are_not_expanded() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><nmaprun><host>'
            b'<status state="up"/><address addr="127.77.9.1" addrtype="ipv4"/>'
            b'<hostnames><hostname name="&b;" type="user"/></hostnames></host></nmaprun>')
    records, error = _records(bomb)
    assert records == [] and error is not None and "DTD" in str(error)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cut=st.integers(min_value=0), flips=st.lists(
    st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8))
def test_truncated_or_corrupted_xml_never_crashes(lab_nmap: Path, cut: int,
                                                  flips: list[tuple[int, int]]) -> None:
    data = bytearray(lab_nmap.read_bytes())
    for pos, value in flips:
        data[pos % len(data)] = value
    _records(bytes(data[:cut % (len(data) + 1)]))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=1024))
def test_garbage_never_crashes(blob: bytes) -> None:
    _records(blob)
    _records(b"<nmaprun><host>" + blob)
