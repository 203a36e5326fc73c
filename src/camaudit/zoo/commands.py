"""The ``camaudit zoo`` command (also ``python -m camaudit.zoo``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from camaudit.errors import CamauditError
from camaudit.zoo.estate import DEFAULT_BASE, manifest, plan
from camaudit.zoo.server import Zoo, serve
from camaudit.zoo.wire import Limits


def zoo(
    count: Annotated[int, typer.Option("--count", "-n", help="Devices to start.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the persona mix.")] = 1,
    base: Annotated[str, typer.Option("--base", help="Loopback network to use.")] = DEFAULT_BASE,
    manifest_file: Annotated[str | None, typer.Option(
        "--manifest", help="Write the ground-truth manifest (JSON) here.")] = None,
    stats_file: Annotated[str | None, typer.Option(
        "--stats", help="Write connection counts here on SIGUSR1 and on exit.")] = None,
    no_hostile: Annotated[bool, typer.Option(
        "--no-hostile", help="Leave hostile personas out (benchmarks).")] = False,
    only: Annotated[str | None, typer.Option(
        "--only", help="Comma-separated persona ids to use.")] = None,
    lifetime: Annotated[float, typer.Option(
        "--lifetime", help="Seconds a connection may live.")] = 60.0,
) -> None:
    """Start an emulated surveillance estate on loopback; print 'ready N'; stop on Ctrl-C.

    Example: camaudit zoo --count 300 --seed 7 --manifest zoo.json
    """
    try:
        picked = [p.strip() for p in only.split(",") if p.strip()] if only else None
        devices = plan(count, seed, base, picked, hostile=not no_hostile)
        doc = manifest(devices, count, seed, base, trap=not no_hostile)
        if manifest_file:
            Path(manifest_file).write_text(json.dumps(doc, indent=1))
        started = time.monotonic()
        server = Zoo(devices, Limits(lifetime=lifetime), trap=not no_hostile,
                     stats_path=stats_file)

        def ready() -> None:
            sys.stderr.write(f"zoo: {len(devices)} devices on {base} in "
                             f"{time.monotonic() - started:.1f}s\n")
            sys.stdout.write(f"ready {len(devices)}\n")
            sys.stdout.flush()

        serve(server, ready)
    except CamauditError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(2) from exc


def register(app: typer.Typer) -> None:
    """Add ``camaudit zoo`` to the main app."""
    app.command("zoo")(zoo)
