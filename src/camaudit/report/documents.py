"""The documents part of a report (``camaudit docs scan``): HTML section data and CSV rows.

Kept apart from the device report so that a scan of documents and a scan of a network
share one report, evidence bundle and diff, while each part stays in its own file. Text
read from a document is untrusted exactly like device text: the HTML template escapes
it, and CSV cells that a spreadsheet would run as formulas are neutralised.

The streamed report (build.py) asks its source for the documents once: they are few
beside the devices, so the section is rendered whole in the summary part of the page
(and of the PDF), and the documents CSV is written beside the device CSV. A finding of
status ``lead`` (a brand whose link to the maker is unconfirmed) is listed with the
others, marked, and counted apart, as the device report does.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from camaudit.errors import UsageError
from camaudit.report.csvout import neutralise
from camaudit.report.document import Doc, is_lead, severity_rank

COLUMNS: tuple[str, ...] = (
    "path", "sha256", "page", "line", "finding", "kind", "severity", "status", "model",
    "manufacturer", "brand", "term", "regimes", "text", "source", "detail",
)
KIND_TITLES = {"restricted-maker": "Restricted maker", "analytics-claim": "Analytics claim",
               "platform": "Platform feature"}


def documents(doc: Doc) -> list[dict[str, Any]]:
    """The ``documents`` of a camaudit/1 document (none when no docs scan read any)."""
    return list(doc.get("documents") or [])


def sorted_findings(document: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(document.get("findings") or [],
                  key=lambda f: (-severity_rank(f.get("severity")), f.get("page") or 0,
                                 f.get("line") or 0))


def summary(docs: list[dict[str, Any]]) -> dict[str, int]:
    """Counts for the section's opening sentence; leads are counted apart, not as findings."""
    everything = [f for d in docs for f in d.get("findings") or []]
    found = [f for f in everything if not is_lead(f)]
    return {
        "documents": len(docs),
        "not_read": sum(1 for d in docs if d.get("status") == "not read"),
        "partly": sum(1 for d in docs if d.get("status") == "partly read"),
        "restricted": sum(1 for f in found if f.get("kind") == "restricted-maker"),
        "claims": sum(1 for f in found if f.get("kind") == "analytics-claim"),
        "platform": sum(1 for f in found if f.get("kind") == "platform"),
        "set_aside": sum(len(d.get("set_aside") or []) for d in docs),
        "leads": len(everything) - len(found),
    }


def rows(docs: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One CSV row per document finding (leads included, with their status)."""
    out = []
    for document in docs:
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


def write_documents_csv(docs: list[dict[str, Any]], devices_path: Path) -> Path | None:
    """One row per document finding beside the device CSV; None when there are no documents."""
    if not docs:
        return None
    path = csv_path(devices_path)
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
            writer.writeheader()
            writer.writerows(rows(docs))
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    return path
