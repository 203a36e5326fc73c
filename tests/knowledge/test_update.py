"""`camaudit update --from FILE|URL` against real files and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from cli_harness import update_app
from typer.testing import CliRunner

from camaudit.errors import CamauditError
from camaudit.knowledge import kb_versions, knowledge
from camaudit.knowledge.update import update

SNAPSHOT = Path(__file__).resolve().parents[2] / "src/camaudit/knowledge/data/kev" / \
    "known_exploited_vulnerabilities.json"


def _newer_catalogue() -> bytes:
    """The real snapshot, re-versioned, with one more (real) Hikvision KEV-format entry."""
    doc = json.loads(SNAPSHOT.read_bytes())
    doc["catalogVersion"] = "2026.11.24"
    doc["dateReleased"] = "2026-11-24T12:00:00.000Z"
    hik = next(v for v in doc["vulnerabilities"] if v["cveID"] == "CVE-2021-36260")
    doc["vulnerabilities"].insert(0, dict(hik, cveID="CVE-2017-7921", dateAdded="2026-11-24"))
    doc["count"] = len(doc["vulnerabilities"])
    return json.dumps(doc).encode()


class _Feed(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, bytes]]] = {}

    def do_GET(self) -> None:
        status, body = self.routes.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def feed_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)




def test_update_from_file(tmp_path: Path, isolated_knowledge: Path) -> None:
    feed = tmp_path / "kev.json"
    feed.write_bytes(_newer_catalogue())
    assert "CVE-2017-7921" not in knowledge().kev
    result = update(str(feed))
    assert (result.version, result.used) == ("2026.11.24", True)
    assert (isolated_knowledge / "kev.json").read_bytes() == feed.read_bytes()
    assert "CVE-2017-7921" in knowledge().kev
    assert kb_versions()["kev"].startswith("2026.11.24")
    assert "CVE-2017-7921" not in result.unranged  # vulns.yaml has its ranges


def test_update_from_url_via_cli(feed_server: str, isolated_knowledge: Path) -> None:
    _Feed.routes["/feeds/kev.json"] = (200, _newer_catalogue())
    result = CliRunner().invoke(update_app(), ["update", "--from", f"{feed_server}/feeds/kev.json"])
    assert result.exit_code == 0, result.output
    assert "kev 2026.11.24: 1405 entries" in result.output
    assert knowledge().kev.version == "2026.11.24"


def test_older_feed_is_kept_but_snapshot_stays(tmp_path: Path) -> None:
    doc = json.loads(SNAPSHOT.read_bytes())
    doc["catalogVersion"] = "2024.01.02"
    feed = tmp_path / "old.json"
    feed.write_text(json.dumps(doc))
    result = update(str(feed))
    assert result.used is False
    assert knowledge().kev.version == "2025.08.25"


@pytest.mark.parametrize(("path", "status", "body", "message"), [
    ("/missing.json", None, None, "HTTP 404"),
    ("/page.html", 200, b"<html>maintenance</html>", ":1: not JSON"),
    ("/other.json", 200, b'{"hello": "world"}', "not a KEV catalogue (no 'catalogVersion')"),
])
def test_bad_url_is_refused_and_nothing_written(feed_server: str, isolated_knowledge: Path,
                                                path: str, status: int | None,
                                                body: bytes | None, message: str) -> None:
    if status is not None and body is not None:
        _Feed.routes[path] = (status, body)
    with pytest.raises(CamauditError) as info:
        update(f"{feed_server}{path}")
    assert message in str(info.value)
    assert not (isolated_knowledge / "kev.json").exists()
    assert knowledge().kev.version == "2025.08.25"


def test_unreachable_and_bad_sources(tmp_path: Path) -> None:
    with pytest.raises(CamauditError, match="cannot read"):
        update(str(tmp_path / "nope.json"))
    with pytest.raises(CamauditError, match="file path or an http"):
        update("ftp://127.0.0.1/kev.json")
    # A closed port on loopback: connection refused, reported in one line.
    with pytest.raises(CamauditError, match="cannot fetch"):
        update("http://127.0.0.1:9/kev.json", timeout=2)


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(update_app(), ["update", "--help"])
    assert result.exit_code == 0
    assert "camaudit update --from" in result.output
