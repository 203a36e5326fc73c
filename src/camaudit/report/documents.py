"""The documents part of a report (``camaudit docs scan``): HTML section data and CSV rows.

Kept apart from the device report so that a scan of documents and a scan of a network
share one report, evidence bundle and diff, while each part stays in its own file. Text
read from a document is untrusted exactly like device text: the HTML template escapes
it, and CSV cells that a spreadsheet would run as formulas are neutralised.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from camaudit.errors import UsageError
from camaudit.report.csvout import neutralise
from camaudit.report.document import Doc, severity_rank

COLUMNS: tuple[str, ...] = (
    "path", "sha256", "page", "line", "finding", "kind", "severity", "status", "model",
    "manufacturer", "brand", "term", "regimes", "text", "source", "detail",
)
KIND_TITLES = {"restricted-maker": "Restricted maker", "analytics-claim": "Analytics claim",
               "platform": "Platform feature"}


def documents(doc: Doc) -> list[dict[str, Any]]:
    return list(doc.get("documents") or [])


def sorted_findings(document: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(document.get("findings") or [],
                  key=lambda f: (-severity_rank(f.get("severity")), f.get("page") or 0,
                                 f.get("line") or 0))


def summary(doc: Doc) -> dict[str, int]:
    """Counts for the section's opening sentence."""
    docs = documents(doc)
    found = [f for d in docs for f in d.get("findings") or []]
    return {
        "documents": len(docs),
        "not_read": sum(1 for d in docs if d.get("status") == "not read"),
        "partly": sum(1 for d in docs if d.get("status") == "partly read"),
        "restricted": sum(1 for f in found if f.get("kind") == "restricted-maker"),
        "claims": sum(1 for f in found if f.get("kind") == "analytics-claim"),
        "platform": sum(1 for f in found if f.get("kind") == "platform"),
        "set_aside": sum(len(d.get("set_aside") or []) for d in docs),
    }


def rows(doc: Doc) -> list[dict[str, str]]:
    out = []
    for document in documents(doc):
        for f in document.get("findings") or []:
            row: dict[str, Any] = {
                "path": document.get("path"), "sha256": document.get("sha256"),
                "finding": f.get("id"), "regimes": " ".join(f.get("regimes") or []),
            }
            for name in COLUMNS:
                row.setdefault(name, f.get(name))
            out.append({k: neutralise(v) for k, v in row.items()})
    return out


def csv_path(devices_path: Path) -> Path:
    """``audit.csv`` -> ``audit-documents.csv``."""
    return devices_path.with_name(f"{devices_path.stem}-documents{devices_path.suffix or '.csv'}")


def write_documents_csv(doc: Doc, devices_path: Path) -> Path | None:
    """One row per document finding beside the device CSV; None when there are no documents."""
    if not documents(doc):
        return None
    path = csv_path(devices_path)
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
            writer.writeheader()
            writer.writerows(rows(doc))
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    return path
