"""A Typer app with only the knowledge area's commands, for CliRunner tests."""

from __future__ import annotations

import typer


def update_app() -> typer.Typer:
    """A Typer app with only the knowledge area's commands (`update`), for CliRunner."""
    from camaudit.knowledge import commands

    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test harness."""

    commands.register(app)
    return app
