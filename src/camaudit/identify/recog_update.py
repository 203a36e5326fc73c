"""``camaudit update --recog DIR``: take a newer rapid7/recog from a checkout, after checking it.

The copy shipped in ``camaudit/vendor/recog`` stays as it is; an update is
written to the operator's data directory (``knowledge.paths.user_dir() /
"recog"``), which :func:`camaudit.identify.recog.recog_dir` prefers. Before
anything is written, every database must load and every example of every
fingerprint must pass (recog's own test, :func:`camaudit.identify.recog.verify`):
a checkout where one fails is refused, as recog's CI would refuse it. The new
copy replaces the old one by a rename, so a failed update leaves the old one.

Errors: OSError becomes UsageError here (the one boundary of this module).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from camaudit.errors import ConfigError, UsageError
from camaudit.identify import recog
from camaudit.identify.recog_rules import load_databases, load_map, source_line
from camaudit.knowledge.paths import user_dir

#: Files besides xml/ that travel with the data: the licence and recog's vocabularies.
_EXTRA = ("LICENSE", "COPYING", "identifiers/vendor.txt", "identifiers/device.txt")
_SHOWN = 10


@dataclass
class RecogUpdate:
    path: Path
    commit: str
    previous: str
    databases: int
    fingerprints: int
    #: databases of the checkout that recog_map.yaml neither reads nor lists as not read
    unmapped: list[str] = field(default_factory=list)


def _commit(checkout: Path) -> str:
    """The checkout's commit (git rev-parse), or 'unknown' when it is not a git checkout."""
    try:
        done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    text = done.stdout.strip()
    return text if done.returncode == 0 and len(text) == 40 else "unknown"


def check(checkout: Path) -> tuple[list[recog.Database], list[str]]:
    """The checkout's databases and every problem with their examples."""
    if not (checkout / "xml").is_dir():
        raise UsageError(f"{checkout}: not a recog checkout (no xml/ folder)")
    try:
        databases = load_databases(checkout)
    except ConfigError as exc:
        raise UsageError(f"{checkout}: refused: {exc}") from exc
    problems = [p for db in databases for fp in db.fingerprints for p in recog.verify(fp)]
    return databases, problems


def update_recog(checkout: Path, *, target: Path | None = None) -> RecogUpdate:
    """Check a recog checkout and make it the copy camaudit uses."""
    databases, problems = check(checkout)
    if problems:
        shown = "\n  ".join(problems[:_SHOWN])
        more = f"\n  ... and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise UsageError(f"{checkout}: refused: {len(problems)} recog example(s) fail:\n  "
                         f"{shown}{more}")
    rmap = load_map()
    unmapped = sorted(db.name for db in databases
                      if db.name not in rmap.databases and db.name not in rmap.not_read)
    dest = target or user_dir() / "recog"
    previous = source_line(recog.recog_dir())
    commit = _commit(checkout)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".recog-", dir=dest.parent))
        shutil.copytree(checkout / "xml", staging / "xml")
        for name in _EXTRA:
            if (checkout / name).is_file():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(checkout / name, staging / name)
        (staging / "SOURCE").write_text(
            f"repository: https://github.com/rapid7/recog\ncommit: {commit}\n"
            f"copied: {dt.date.today().isoformat()}\nfrom: {checkout.resolve()}\n"
            "checked: every example of every database passed (camaudit update --recog)\n",
            "utf-8")
        old = dest.with_name(dest.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if dest.exists():
            dest.rename(old)
        try:
            staging.rename(dest)
        except OSError:
            if old.exists():
                old.rename(dest)  # put the copy in use back
            raise
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise UsageError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    return RecogUpdate(path=dest, commit=commit, previous=previous, databases=len(databases),
                       fingerprints=sum(len(db.fingerprints) for db in databases),
                       unmapped=unmapped)
