"""Commands of the knowledge area, registered on the main app by ``cli.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from camaudit.cliutil import info, out
from camaudit.errors import UsageError


def update(
    source: Annotated[str | None, typer.Option(
        "--from", help="A KEV catalogue in CISA's JSON format (a file path or an http(s) URL), "
        "or a knowledge directory (a copy of shared/kb: restrictions.yaml, oem.yaml).",
        show_default=False)] = None,
    recog: Annotated[Path | None, typer.Option(
        "--recog", help="A checkout of rapid7/recog: its fingerprints replace the shipped "
        "copy if every example passes.", show_default=False)] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a URL.", min=1.0)] = 30.0,
) -> None:
    """Refresh the CISA KEV catalogue, the restriction knowledge or the recog fingerprints.

    Nothing else is contacted. The shipped snapshots work offline; without an
    update camaudit uses them and reports their dates. A feed is checked before
    it is kept: the KEV catalogue is used when it is at least as new as the
    snapshot; a knowledge directory only when every record keeps its sources
    and its confirmed flag; a recog checkout only when every example of every
    fingerprint passes.
    """
    if (source is None) == (recog is None):
        raise UsageError("give one of --from (a KEV catalogue) or --recog (a recog checkout)")
    if recog is not None:
        _update_recog(recog)
        return
    assert source is not None
    if Path(source).is_dir():
        _update_kb(Path(source))
        return
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


def _update_kb(directory: Path) -> None:
    from camaudit.knowledge.update import update_kb

    result = update_kb(directory)
    for name, path in result.files.items():
        out.print(f"{name} checked {result.checked[name]} -> {path}", markup=False)
        info(f"was: {name} checked {result.previous[name] or '-'}")
    if not result.used:
        info("the shipped copy is newer and stays in use")
    info(f"{result.regimes} regimes; not confirmed (their findings are leads): "
         f"{', '.join(result.unconfirmed) or '-'}")


def _update_recog(checkout: Path) -> None:
    from camaudit.identify.recog_update import update_recog

    result = update_recog(checkout)
    out.print(f"recog {result.commit[:12]}: {result.databases} databases, "
              f"{result.fingerprints} fingerprints, every example passed -> {result.path}",
              markup=False)
    info(f"was: {result.previous}")
    if result.unmapped:
        info(f"new databases camaudit does not read yet (see identify/recog_map.yaml): "
             f"{', '.join(result.unmapped)}")


def register(app: typer.Typer) -> None:
    """Add `update` to `app`."""
    app.command(
        "update",
        epilog="Examples:\n\n  camaudit update --from known_exploited_vulnerabilities.json\n\n"
               "  camaudit update --from ~/kb  (a copy of the knowledge folder)\n\n"
               "  camaudit update --recog ~/src/recog  (a git checkout of rapid7/recog)\n\n"
               "  camaudit update --from http://192.0.2.10/feeds/known_exploited_vulnerabilities"
               ".json  (a mirror of CISA's JSON feed)")(update)
