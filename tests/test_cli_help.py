"""The public command line, pinned: every command exists, documents itself, shows an example."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from camaudit.cli import app

COMMANDS = ["scope", "scan", "show", "explain", "scans", "demo", "policy", "update", "report",
            "evidence", "verify", "keygen", "diff", "ingest", "zoo", "docs", "serve",
            "users", "worker", "schedule", "audit", "audits", "cancel"]

runner = CliRunner()


def test_the_command_set_is_pinned() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    listed = [c for c in COMMANDS if f" {c} " in result.output]
    assert listed == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, result.output
    assert "--help" in result.output


def test_docs_scan_has_help_with_an_example() -> None:
    result = runner.invoke(app, ["docs", "scan", "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "Example" in result.output and "--fail-on" in result.output


def test_scan_help_names_the_worker_options() -> None:
    result = runner.invoke(app, ["scan", "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "--workers" in result.output and "--shard-size" in result.output
    assert "--workers 2" in result.output  # the example
