"""Scan documents: walk the paths, hash and read each file, analyse, store, count.

The store keeps the run as a scan of kind ``docs`` with one row per document (hash,
pages, what could not be read) and its findings, so ``report``, ``evidence`` and
``diff`` work on it as on any scan. A file that cannot be read is stored too, with why.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camaudit import __version__
from camaudit.assess import PolicySet
from camaudit.docs import formats
from camaudit.docs.analyse import analyse
from camaudit.docs.pages import Extracted, Limits
from camaudit.docs.vocabulary import vocabulary
from camaudit.docs.worker import Worker
from camaudit.errors import UsageError
from camaudit.knowledge import kb_versions
from camaudit.store import Store

#: Folders are walked this deep at most (a symlink loop must not trap the walk).
MAX_DEPTH = 32


@dataclass
class DocsResult:
    scan_id: int
    documents: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0
    missing: list[str] = field(default_factory=list)  # paths that do not exist

    @property
    def not_read(self) -> list[dict[str, Any]]:
        return [d for d in self.documents if d["status"] == "not read"]

    @property
    def findings(self) -> list[dict[str, Any]]:
        return [f for d in self.documents for f in d["findings"]]


def expand(paths: list[str]) -> tuple[list[str], list[str]]:
    """(files to read, paths that do not exist): a folder gives its document files, sorted."""
    files: list[str] = []
    missing: list[str] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(_walk(path, 0))
        elif path.exists():
            files.append(str(path))
        else:
            missing.append(given)
    return list(dict.fromkeys(files)), missing


def _walk(folder: Path, depth: int) -> Iterator[str]:
    if depth > MAX_DEPTH:
        return
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path), depth + 1)
        elif entry.is_file() and entry.name.lower().endswith(formats.SUFFIXES):
            yield entry.path


def sha256_file(path: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def scan_documents(paths: list[str], store: Store, policies: PolicySet, limits: Limits,
                   *, on_document: Callable[[dict[str, Any]], None] | None = None) -> DocsResult:
    """Read, analyse and store every document under `paths`; never stops on a bad file."""
    files, missing = expand(paths)
    if not files and not missing:
        raise UsageError("no documents found (PDF, DOCX, XLSX, HTML or text) in the given paths")
    vocab = vocabulary()
    knowledge = {**kb_versions(), "vocabulary": vocab.checked}
    scan_id = store.create_scan(targets=list(paths), excludes=[], resolved={}, ports=[],
                                options={"limits": limits.to_json()}, policies=policies.names,
                                knowledge=knowledge, tool_version=__version__, kind="docs")
    result = DocsResult(scan_id, missing=missing)
    started = time.monotonic()
    with Worker(limits) as worker:
        for path in files:
            document = read_document(path, worker, policies, limits)
            store.save_document(scan_id, document)
            result.documents.append(document)
            result.pages += document["pages"] - len(document["pages_not_read"])
            if on_document is not None:
                on_document(document)
    result.seconds = time.monotonic() - started
    store.finish_scan(scan_id, {
        "elapsed": result.seconds, "documents": len(result.documents),
        "pages_read": result.pages, "document_findings": len(result.findings),
        "not_read": len(result.not_read), "missing": missing})
    return result


def read_document(path: str, worker: Worker, policies: PolicySet,
                  limits: Limits) -> dict[str, Any]:
    """One document in the camaudit/1 ``documents[]`` shape."""
    started = time.monotonic()
    base: dict[str, Any] = {"path": path, "sha256": None, "size": None, "format": "unknown",
                            "pages": 0, "pages_ocr": 0, "pages_not_read": [],
                            "language": None, "status": "not read", "error": None,
                            "notes": [], "findings": [], "models": [], "set_aside": []}
    try:
        base["sha256"], base["size"] = sha256_file(path)
    except OSError as exc:
        base["error"] = f"cannot be opened: {exc.strerror or exc}"
        base["seconds"] = time.monotonic() - started
        return base
    extracted: Extracted = worker.extract(os.path.abspath(path))
    base["format"] = extracted.format
    base["notes"] = extracted.notes
    base["seconds"] = time.monotonic() - started
    if extracted.error:
        base["error"] = extracted.error
        return base
    pages = extracted.pages
    base["pages"] = len(pages)
    base["pages_ocr"] = sum(1 for p in pages if p.ocr)
    base["pages_not_read"] = [{"page": p.number, "why": p.not_read} for p in pages if p.not_read]
    read = len(pages) - len(base["pages_not_read"])
    base["status"] = ("read" if not base["pages_not_read"] else
                      "partly read" if read else "not read")
    if not read and pages:
        base["error"] = pages[0].not_read
    found = analyse(pages, policies, vocabulary())
    base["language"] = found.language
    base["findings"] = [f.to_json() for f in found.findings]
    base["models"] = found.models
    base["set_aside"] = found.set_aside
    base["seconds"] = time.monotonic() - started
    return base
