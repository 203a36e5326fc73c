"""Commands of the knowledge area, registered on the main app by ``cli.py``."""

from __future__ import annotations

from typing import Annotated

import typer

from camaudit.cliutil import info, out


def update(
    source: Annotated[str, typer.Option(
        "--from", help="A KEV catalogue in CISA's JSON format: a file path or an http(s) URL.",
        show_default=False)],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a URL.", min=1.0)] = 30.0,
) -> None:
    """Refresh the CISA KEV catalogue from a file or URL you give; nothing else is contacted.

    The shipped snapshot works offline; without an update camaudit uses it and
    reports its date. The catalogue is checked before it is kept, and used when
    it is at least as new as the snapshot.
    """
    from camaudit.knowledge.update import update as run_update

    result = run_update(source, timeout=timeout)
    out.print(f"kev {result.version}: {result.entries} entries -> {result.path}", markup=False)
    if not result.used:
        info(f"the shipped snapshot is newer and stays in use ({result.previous})")
    else:
        info(f"was: {result.previous}")
    if result.unranged:
        info(f"{len(result.unranged)} new KEV entries of known makers have no model/firmware "
             f"range in camaudit yet (no finding until researched): "
             f"{', '.join(result.unranged[:20])}{' ...' if len(result.unranged) > 20 else ''}")


def register(app: typer.Typer) -> None:
    """Add `update` to `app`."""
    app.command(
        "update",
        epilog="Examples:\n\n  camaudit update --from known_exploited_vulnerabilities.json\n\n"
               "  camaudit update --from http://192.0.2.10/feeds/known_exploited_vulnerabilities"
               ".json  (a mirror of CISA's JSON feed)")(update)
