"""Where knowledge lives: the snapshot shipped in the package, and the operator's updates.

The shipped snapshot (``knowledge/data/``) works offline. ``camaudit update``
writes refreshed feeds to a per-user directory instead of the package (which
may be read-only): ``$CAMAUDIT_DATA`` if set, else ``$XDG_DATA_HOME/camaudit``,
else ``~/.local/share/camaudit``.
"""

from __future__ import annotations

import os
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"


def data_path(name: str) -> Path:
    """A file shipped with the package, e.g. ``data_path("vulns.yaml")``."""
    return _DATA / name


def user_dir() -> Path:
    """The directory `camaudit update` writes to (not created here)."""
    explicit = os.environ.get("CAMAUDIT_DATA")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "camaudit"


def user_kev_path() -> Path:
    return user_dir() / "kev.json"
