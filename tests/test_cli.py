"""The command line: error paths give one line and exit 2; JSON output meets the contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from camaudit.output import validate
from listeners import Listeners

ENV = {**os.environ, "CI": "1"}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "camaudit", *args], capture_output=True,
                          text=True, timeout=120, env=ENV, cwd=cwd)


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("camaudit 0.")


@pytest.mark.parametrize("args, needle", [
    (["scan", "999.1.1.1"], "not an address"),
    (["scan", "@/nonexistent/targets.txt"], "cannot read target file"),
    (["scan", "127.66.0.1", "--ports", "80,http"], "bad port"),
    (["scan", "127.66.0.1", "--bogus-option"], "bogus"),
    (["scan", "127.66.0.7/24", "--yes"], "has host bits set: it would mean 127.66.0.0/24"),
    (["scan", "127.66.0.9-3"], "written backwards"),
    (["scope", "10.0.0.0/4"], "10.0.0.0/4 has host bits set: it would mean 0.0.0.0/4"),
    (["scan"], "no targets"),
    (["scan", "127.66.0.1", "--fail-on", "extreme"], "--fail-on"),
    (["show", "42"], "no scan 42"),
    (["show", "last"], "no scans"),
    (["scan", "127.66.0.1", "--db", "/proc/forbidden/x.db"], "cannot open the database"),
])
def test_errors_are_one_clear_line(tmp_path: Path, args: list[str], needle: str) -> None:
    if "--db" not in args and args[0] != "scope":
        args = [*args, "--db", str(tmp_path / "t.db")]
    proc = run(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("camaudit: error:") and needle in lines[0]
    assert "Traceback" not in proc.stderr


def test_the_issue_typo_is_one_clear_line() -> None:
    """`camaudit scan 10.0.0.0/4 --yes` (issue 14) stops before anything is sent.

    The database cannot be opened, so even a broken check could not start this scan;
    the error shown proves the scope is checked first.
    """
    proc = run("scan", "10.0.0.0/4", "--yes", "--db", "/proc/forbidden/x.db")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ("camaudit: error: 10.0.0.0/4 has host bits set: it would mean "
                           "0.0.0.0/4 (0.0.0.0-15.255.255.255, 268,435,456 addresses); write "
                           "0.0.0.0/4 if that is meant, or add --loose to accept it\n")


def test_large_scope_shows_its_summary_before_asking_for_yes(tmp_path: Path) -> None:
    proc = run("scan", "127.0.0.0/8", "--exclude", "127.0.0.0/16", "--db", str(tmp_path / "t.db"))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("scope: 16,711,680 addresses in 8 networks (127.1.0.0/16, ")
    assert "excluded by --exclude: 65,536 addresses" in lines
    assert lines[-1].startswith("camaudit: error: the scope has 16,711,680 addresses")
    assert "--yes" in lines[-1] and "Traceback" not in proc.stderr


def test_scope_prints_what_a_scan_touches_and_sends_nothing(tmp_path: Path) -> None:
    with Listeners([("127.66.6.1", 18086)]) as listeners:
        proc = run("scope", "127.66.6.0/30", "127.66.6.9-7", "--loose", "-x", "127.66.6.2",
                   "--ports", "18086,80-81")
        assert not listeners.accepted  # nothing was contacted
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "scope: 6 addresses in 4 networks x 3 ports",
        "  127.66.6.0/31                                             2",
        "  127.66.6.3/32                                             1",
        "  127.66.6.7/32                                             1",
        "  127.66.6.8/31                                             2",
        "excluded by --exclude: 1 address",
        "kept, named on its own: 127.0.0.0/8 Loopback, RFC 1122 section 3.2.1.3: 6 addresses",
        "ports: 80-81,18086"]


def test_unwritable_json_is_one_line(tmp_path: Path) -> None:
    with Listeners([("127.66.7.1", 18083)]):
        proc = run("-q", "scan", "127.66.7.1", "--ports", "18083", "--db",
                   str(tmp_path / "t.db"), "--json", "/proc/forbidden/out.json")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "cannot write /proc/forbidden/out.json" in proc.stderr


def test_json_output_validates_and_show_lists_devices(tmp_path: Path) -> None:
    endpoints = [("127.66.8.1", 18084), ("127.66.8.1", 18085), ("127.66.8.9", 18084)]
    with Listeners(endpoints):
        proc = run("-q", "scan", "127.66.8.0/28", "--ports", "18084,18085", "--db",
                   str(tmp_path / "t.db"), "--json", str(tmp_path / "out.json"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "out.json").read_text())
    validate(doc)
    assert doc["schema"] == "camaudit/1"
    assert doc["scan"]["targets"] == ["127.66.8.0/28"]
    assert [(d["address"], d["ports"]) for d in doc["devices"]] == [
        ("127.66.8.1", [18084, 18085]), ("127.66.8.9", [18084])]
    shown = run("show", "last", "--db", str(tmp_path / "t.db"))
    assert shown.returncode == 0 and "127.66.8.9" in shown.stdout


def test_error_line_neutralises_terminal_escapes(tmp_path: Path) -> None:
    proc = run("scan", "@/nonexistent/\x1b[2Jevil.txt", "--db", str(tmp_path / "t.db"))
    assert proc.returncode == 2
    assert "\x1b" not in proc.stderr and "evil.txt" in proc.stderr
