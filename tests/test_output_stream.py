"""scan --json streams the document device by device; it must equal the in-memory one."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.model import Device, Evidence, Finding, Observation
from camaudit.output import device_text, validate
from camaudit.store import Store

_text = st.text(max_size=12)
_maybe = st.none() | _text
_number = st.floats(allow_nan=False, allow_infinity=False)
_evidence = st.builds(Evidence, _text, _text, _text, _number, _maybe)
_finding = st.builds(Finding, _text, _text, _text, _text, _text, _text, _text,
                     st.lists(_text, max_size=2), _maybe, _maybe, _text)
_device = st.builds(
    Device, _text, st.lists(st.integers(0, 65535), max_size=3), _maybe, _maybe, _maybe,
    _maybe, _maybe, _maybe, _maybe, _number, st.lists(_evidence, max_size=2),
    st.lists(_text, max_size=2), st.lists(_finding, max_size=2), _maybe, _maybe,
    _maybe, st.none() | st.integers(0, 2**31))


def test_streamed_json_equals_the_document(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "s.db"))
    scan_id = store.create_scan(targets=["127.66.0.0/24"], excludes=[], resolved={},
                                ports=[80], options={}, policies=["all"], knowledge={},
                                tool_version="test")
    for host in (9, 1, 200, 30):  # saved out of order, as concurrent hosts finish
        obs = Observation(f"127.66.0.{host}", 80, "http", {"title": 'a\n"<b>"\\'})
        findings = [Finding("ndaa-889", "restriction", "high", "t\n2", "https://x")]
        store.save_host(scan_id, Device(
            f"127.66.0.{host}", ports=[80], brand='Br"and\n', confidence=0.5,
            evidence=[Evidence("r", f"sha256:{obs.sha256}", "brand=x\ny")],
            findings=findings if host % 2 else []), [obs])
    store.add_refusals(scan_id, [("127.67.0.1", "redirect")])
    store.finish_scan(scan_id, {})
    out = tmp_path / "out.json"
    store.write_json(scan_id, str(out))
    streamed = json.loads(out.read_text())
    validate(streamed)
    assert streamed == json.loads(json.dumps(store.document(scan_id)))
    assert [d["address"] for d in streamed["devices"]] == [
        "127.66.0.1", "127.66.0.9", "127.66.0.30", "127.66.0.200"]
    assert list(store.iter_devices(scan_id, batch=3))[2].address == "127.66.0.30"


@settings(max_examples=300, deadline=None)
@given(_device)
def test_a_device_is_written_as_json_dumps_writes_it(device: Device) -> None:
    """The export's fast encoder writes the very text of json.dumps(indent=2): any text
    (control characters, quotes, non-BMP, U+2028), any finite confidence and weight."""
    assert device_text(device) == json.dumps(device.to_json(), indent=2, ensure_ascii=False)
