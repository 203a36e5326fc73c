"""scan --json streams the document device by device; it must equal the in-memory one."""

from __future__ import annotations

import json
from pathlib import Path

from camaudit.model import Device, Evidence, Finding, Observation
from camaudit.output import validate
from camaudit.store import Store


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
