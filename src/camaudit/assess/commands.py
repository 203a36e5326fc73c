"""Commands of the assess area, registered on the main app by ``cli.py``."""

from __future__ import annotations

from typing import Annotated

import typer

from camaudit.cliutil import out


def policy(
    specs: Annotated[list[str] | None, typer.Argument(
        help="Built-in policy names or YAML files (default: all).", show_default=False)] = None,
) -> None:
    """Check policies and show what they select: regimes, checks, bans, allow-list entries.

    A bad file is reported as one line: file:line: what is wrong (exit 2).
    """
    from camaudit.assess.policy import load_policies

    ps = load_policies(list(specs or ["all"]))
    checks = [name for name, on in (("kev", ps.kev), ("cve", ps.cve), ("analytics", ps.analytics),
                                    ("unknown-maker", ps.unknown_maker)) if on]
    out.print(f"policies: {', '.join(ps.names)}", markup=False)
    out.print(f"regimes: {', '.join(sorted(ps.regimes)) or '-'}", markup=False)
    out.print(f"binding (applies to you): {', '.join(sorted(ps.binding)) or '-'}; "
              "the others only name the maker", markup=False)
    leads = sorted(r for r in ps.regimes if not ps.knowledge.regimes[r].confirmed)
    if leads:
        out.print(f"not confirmed (findings are leads): {', '.join(leads)}", markup=False)
    out.print(f"checks: {', '.join(checks) or '-'}", markup=False)
    for ban in ps.bans:
        out.print(f"ban: {ban.maker} -> {ban.id} ({ban.severity}; {ban.reason})", markup=False)
    if ps.sensitive_sites:
        out.print(f"sensitive sites: {', '.join(sorted(ps.sensitive_sites))}", markup=False)
    for key, severity in ps.severity.items():
        out.print(f"severity: {key} = {severity}", markup=False)
    for entry in ps.allow:
        who = entry.address or entry.mac or entry.serial
        out.print(f"allow: {who} {entry.finding or '*'} until {entry.expires} ({entry.origin})",
                  markup=False)


def register(app: typer.Typer) -> None:
    """Add `policy` to `app`."""
    app.command(
        "policy",
        epilog="Examples:\n\n  camaudit policy us-federal\n\n"
               "  camaudit policy us-federal my-estate.yaml")(policy)
