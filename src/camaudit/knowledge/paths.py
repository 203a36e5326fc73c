"""Where knowledge lives: the snapshot shipped in the package, and the operator's updates.

The shipped snapshot (``knowledge/data/``) works offline. ``camaudit update``
writes refreshed feeds to a per-user directory instead of the package (which
may be read-only): ``$CAMAUDIT_DATA`` if set, else ``$XDG_DATA_HOME/camaudit``,
else ``~/.local/share/camaudit``. Knowledge files taken from a knowledge
directory (``update --from DIR``: restrictions.yaml, oem.yaml) live in its
``kb/`` folder and are used while their ``checked`` date is not older than the
shipped copy's, so a newer package is never shadowed by an older update.
"""

from __future__ import annotations

import os
import re
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


#: Knowledge files `update --from DIR` may replace (the others ship with the package only).
KB_FILES = ("restrictions.yaml", "oem.yaml")
_CHECKED = re.compile(r"^checked:\s*['\"]?(\d{4}-\d{2}-\d{2})", re.MULTILINE)


def user_kb_dir() -> Path:
    return user_dir() / "kb"


def checked_of(path: Path) -> str:
    """The top-level ``checked:`` date of a knowledge file ('' if none or unreadable)."""
    try:
        match = _CHECKED.search(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return ""
    return match.group(1) if match else ""


def kb_path(name: str) -> Path:
    """The copy of a knowledge file in use: the update unless the shipped copy is newer."""
    shipped = data_path(name)
    updated = user_kb_dir() / name
    if name in KB_FILES and updated.is_file() and checked_of(updated) >= checked_of(shipped):
        return updated
    return shipped
