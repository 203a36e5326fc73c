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
    (["scan", "127.0.0.0/8"], "--yes"),
    (["scan"], "no targets"),
    (["scan", "127.66.0.1", "--fail-on", "extreme"], "--fail-on"),
    (["show", "42"], "no scan 42"),
    (["show", "last"], "no scans"),
    (["scan", "127.66.0.1", "--db", "/proc/forbidden/x.db"], "cannot open the database"),
])
def test_errors_are_one_clear_line(tmp_path: Path, args: list[str], needle: str) -> None:
    if "--db" not in args:
        args = [*args, "--db", str(tmp_path / "t.db")]
    proc = run(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("camaudit: error:") and needle in lines[0]
    assert "Traceback" not in proc.stderr


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
