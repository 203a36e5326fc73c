"""Shared pieces of the command line: options every command takes, consoles, SCAN_ID.

Each area registers its commands from ``<area>/commands.py`` with
``register(app)``; they import their options from here so that ``--db`` and
friends mean the same thing everywhere.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

#: Results (tables, paths) go to stdout; progress and messages to stderr. No emoji codes:
#: an IPv6 address such as 2001:bee:1:: would otherwise print a bee.
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

T = TypeVar("T")

DEFAULT_DB = os.environ.get("CAMAUDIT_DB", "camaudit.db")

DbOption = Annotated[
    str,
    typer.Option("--db", help="Store: a SQLite file path or an SQLAlchemy URL "
                 "(env CAMAUDIT_DB).", show_default=True),
]
ScanIdArg = Annotated[str, typer.Argument(help="Scan id, or 'last' for the latest scan.")]


class Verbosity:
    """-q / -v as set on the top-level command."""

    level = 1  # 0 quiet, 1 normal, 2 verbose

    @classmethod
    def quiet(cls) -> bool:
        return cls.level == 0

    @classmethod
    def verbose(cls) -> bool:
        return cls.level >= 2


def is_tty() -> bool:
    return sys.stderr.isatty() and os.environ.get("CI") is None


def info(message: str) -> None:
    if not Verbosity.quiet():
        err.print(message, markup=False)


#: Allocations between two collections of the youngest generation (Python's default: 700).
#: A scan allocates futures, handles and replies by the million, and many live for a
#: request or a host: collecting every 700 allocations promoted them to the older
#: generations, whose collections then took a tenth of the scan's CPU. Cycles are
#: still collected, a little later.
GC_YOUNG_THRESHOLD = 50_000


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on uvloop where available (faster sockets), else asyncio; the
    cyclic garbage collector runs less often meanwhile (:data:`GC_YOUNG_THRESHOLD`).

    Only on the main thread: the threshold is the whole process's, and a scan run in a
    thread of a server (the web console's audits) must not change it under the server.
    """
    if threading.current_thread() is not threading.main_thread():
        return _run(coro)
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        return _run(coro)
    finally:
        gc.set_threshold(*thresholds)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    if not os.environ.get("CAMAUDIT_NO_UVLOOP"):
        try:
            import uvloop
        except ImportError:  # pragma: no cover - optional on some platforms
            pass
        else:
            return uvloop.run(coro)
    return asyncio.run(coro)


def sanitize(text: object) -> str:
    """Device-supplied text made safe for a terminal: no control or escape characters."""
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in str(text))
