"""``camaudit update``: fetch a feed the operator names, check it, keep it.

Only the source the operator gives is contacted (a file path, or an http(s)
URL); nothing is fetched by default, so the shipped snapshot keeps working
offline. Feeds recognised:

- the CISA KEV catalogue in CISA's JSON format (``catalogVersion``...), stored as
  ``<user dir>/kev.json`` and used when it is at least as new as the snapshot.

A download is capped at :data:`kev.MAX_BYTES` and a timeout; a feed that does
not check out is rejected before anything is written, and the file is replaced
atomically. Errors: OSError/URLError become UsageError here (the one boundary).
"""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from camaudit.errors import UsageError
from camaudit.knowledge import base, kev
from camaudit.knowledge.makers import maker_id
from camaudit.knowledge.paths import user_kev_path


@dataclass
class UpdateResult:
    feed: str
    version: str
    entries: int
    previous: str
    path: Path
    used: bool  # False when the shipped snapshot is newer and stays in use
    #: New KEV entries of makers camaudit knows, for which vulns.yaml has no range yet:
    #: they produce no finding until someone researches their affected firmware.
    unranged: list[str] = field(default_factory=list)


def fetch(source: str, *, timeout: float = 30.0, limit: int = kev.MAX_BYTES) -> bytes:
    """The bytes of a file path or an http(s) URL, at most `limit` of them."""
    scheme = urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        request = urllib.request.Request(source, headers={"User-Agent": "camaudit-update"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                data: bytes = response.read(limit + 1)
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the response socket
            raise UsageError(f"{source}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UsageError(f"{source}: cannot fetch ({reason})") from exc
    elif scheme in ("", "file") or len(scheme) == 1:  # a path (or a Windows drive letter)
        path = Path(source[7:] if scheme == "file" else source)
        try:
            with path.open("rb") as fh:
                data = fh.read(limit + 1)
        except OSError as exc:
            raise UsageError(f"{source}: cannot read ({exc.strerror or exc})") from exc
    else:
        raise UsageError(f"{source}: give a file path or an http(s) URL")
    if len(data) > limit:
        raise UsageError(f"{source}: larger than {limit} bytes; not a feed camaudit reads")
    return data


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kev-", suffix=".json")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write ({exc.strerror or exc})") from exc


def update(source: str, *, timeout: float = 30.0) -> UpdateResult:
    """Fetch, check and store a KEV catalogue; reload the knowledge base."""
    data = fetch(source, timeout=timeout)
    catalogue = kev.parse_catalogue(data, source)
    previous = base.knowledge().kev
    path = user_kev_path()
    _write_atomic(path, data)
    base.reload()
    kb = base.knowledge()
    ranged = {r.cve for r in kb.vulns}
    unranged = sorted(cve for cve, e in catalogue.entries.items()
                      if cve not in ranged and cve not in previous
                      and maker_id(e.vendor) is not None)
    return UpdateResult(feed="kev", version=catalogue.version, entries=len(catalogue.entries),
                        previous=previous.label, path=path,
                        used=kb.kev.version == catalogue.version, unranged=unranged)
