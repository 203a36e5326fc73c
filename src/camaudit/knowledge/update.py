"""``camaudit update``: fetch a feed the operator names, check it, keep it.

Only the source the operator gives is contacted (a file path, or an http(s)
URL); nothing is fetched by default, so the shipped snapshot keeps working
offline. Feeds recognised:

- the CISA KEV catalogue in CISA's JSON format (``catalogVersion``...), stored as
  ``<user dir>/kev.json`` and used when it is at least as new as the snapshot;
- a knowledge directory (a copy of ``shared/kb``): its ``restrictions.yaml`` (and
  ``oem.yaml`` when present) are stored in ``<user dir>/kb/`` and used while at least
  as new as the shipped copies. Refused, with nothing written, when a record lacks its
  sources or its ``confirmed`` flag, when a regime, company or brand link of the copy
  in use is gone, or when camaudit's reading (``readings.yaml``) no longer matches it.

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

from camaudit.errors import ConfigError, UsageError
from camaudit.knowledge import base, kev, makers, readings, restrictions, yamlio
from camaudit.knowledge.makers import maker_id
from camaudit.knowledge.paths import KB_FILES, checked_of, kb_path, user_kb_dir, user_kev_path

#: A knowledge file larger than this is not one camaudit wrote or reads.
KB_MAX_BYTES = 4 * 1024 * 1024


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
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
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


@dataclass
class KbUpdateResult:
    files: dict[str, Path]  # name -> where it was stored
    checked: dict[str, str]  # name -> its `checked` date
    previous: dict[str, str]  # name -> `checked` of the copy in use before
    used: bool  # False when the shipped copy is newer and stays in use
    regimes: int
    unconfirmed: list[str]  # regime ids whose record is confirmed: false (their findings: leads)


def _records(doc: yamlio.LDict) -> set[str]:
    """Every regime, company and brand link of a restrictions file, as 'kind id'."""
    out = {f"regime {r['id']}" for r in doc["regimes"]}
    for company in doc["companies"]:
        out.add(f"company {company['id']}")
        out.update(f"brand {b['name']} of {company['id']}" for b in company.get("brands") or [])
    return out


def _read_kb(path: Path) -> tuple[bytes, yamlio.LDict]:
    data = fetch(str(path), limit=KB_MAX_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text") from exc
    doc = yamlio.loads(text, str(path))
    if not isinstance(doc, yamlio.LDict):
        raise UsageError(f"{path}: not a knowledge file (a YAML mapping is expected)")
    return data, doc


def _check_restrictions(path: Path, doc: yamlio.LDict) -> list[restrictions.Regime]:
    """Sources and confirmed flags on every record, nothing dropped, readings still true."""
    restrictions.check_document(doc, str(path))
    current = yamlio.load(kb_path("restrictions.yaml"))
    gone = sorted(_records(current) - _records(doc))
    if gone:
        raise UsageError(f"{path}: drops {', '.join(gone)} that the knowledge in use has; "
                         "a refresh may correct records, not remove them")
    regimes, _ = restrictions.load_regimes(doc, str(path))
    companies = restrictions.load_companies(doc, str(path))
    readings.load_readings(companies, {r.id: r for r in regimes})
    return regimes


def _check_oem(path: Path, doc: yamlio.LDict) -> None:
    makers.check_oem(doc, str(path))
    current = yamlio.load(kb_path("oem.yaml"))
    gone = sorted({str(b["brand"]) for b in current["brands"]}
                  - {str(b.get("brand")) for b in doc["brands"]})
    if gone:
        raise UsageError(f"{path}: drops brand records {', '.join(gone)} that the knowledge in "
                         "use has; a refresh may correct records, not remove them")


def update_kb(directory: Path) -> KbUpdateResult:
    """Check a knowledge directory's restrictions.yaml (and oem.yaml) and keep them."""
    if not (directory / "restrictions.yaml").is_file():
        raise UsageError(f"{directory}: no restrictions.yaml (give a copy of the kb folder)")
    staged: dict[str, bytes] = {}
    regimes: list[restrictions.Regime] = []
    try:
        for name in KB_FILES:
            path = directory / name
            if not path.is_file():
                continue
            data, doc = _read_kb(path)
            if name == "restrictions.yaml":
                regimes = _check_restrictions(path, doc)
            else:
                _check_oem(path, doc)
            if not str(doc.get("checked", "")).strip():
                raise UsageError(f"{path}: no top-level 'checked:' date")
            staged[name] = data
    except ConfigError as exc:
        raise UsageError(f"refused, nothing changed: {exc}") from exc
    previous = {name: checked_of(kb_path(name)) for name in staged}
    files = {}
    for name, data in staged.items():
        files[name] = user_kb_dir() / name
        _write_atomic(files[name], data)
    base.reload()
    base.knowledge()
    return KbUpdateResult(
        files=files, checked={n: checked_of(p) for n, p in files.items()}, previous=previous,
        used=all(kb_path(n) == p for n, p in files.items()), regimes=len(regimes),
        unconfirmed=[r.id for r in regimes if not r.confirmed])
