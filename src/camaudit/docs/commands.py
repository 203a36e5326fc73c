"""``camaudit docs scan``: audit the paperwork (spec sheets, tenders, contracts, bills of
materials) before the equipment is on the network. Registered by ``cli.py``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from camaudit.cliutil import DEFAULT_DB, DbOption, err, info, out, sanitize
from camaudit.errors import UsageError

SEVERITY_ORDER = ("low", "medium", "high", "critical")
EPILOG = ("Examples:\n\n  camaudit docs scan bids/ --json bids.json --fail-on high\n\n"
          "  camaudit docs scan tender.pdf spec-sheet.docx bom.xlsx --policy us-federal\n\n"
          "  camaudit report last --html bids.html")

app = typer.Typer(name="docs", help="Audit documents: spec sheets, tenders, contracts, bills "
                  "of materials (PDF, DOCX, XLSX, HTML, text; English and Chinese).",
                  epilog="Example:\n\n  camaudit docs scan bids/ --json bids.json",
                  no_args_is_help=True)


@app.command("scan", epilog=EPILOG)
def scan(
    paths: Annotated[list[str], typer.Argument(help="Files or folders (walked for .pdf, "
                                               ".docx, .xlsx, .html, .txt ...).")],
    json_out: Annotated[str | None, typer.Option("--json", help="Write the camaudit/1 "
                                                 "document here.")] = None,
    policy: Annotated[list[str] | None, typer.Option(
        help="Policy set name or YAML file; repeatable (default: all).")] = None,
    fail_on: Annotated[str | None, typer.Option(
        help="Exit 3 if an open or possible finding is at least this severe: "
             "low|medium|high|critical.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds one document may take, OCR "
                                           "included.", min=1.0)] = 300.0,
    max_memory: Annotated[int, typer.Option(help="MiB of memory the reader may use.",
                                            min=256)] = 2048,
    ocr_pages: Annotated[int, typer.Option(help="Scanned pages OCR'd per document.",
                                           min=0)] = 50,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Find restricted makers' models, ethnicity-analytics claims and police-platform
    features in documents, with file, page, line and the text around each.

    Scanned pages are read with Tesseract OCR when it is installed, else listed as not
    read. A file that cannot be read (encrypted, malformed, a zip bomb, too slow) gets one
    line and the rest of the batch goes on; the command then exits 2 (3 wins when
    --fail-on is exceeded). Negated and regulatory sentences ("must not detect race")
    are set aside, not reported as findings.
    """
    if fail_on is not None and fail_on not in SEVERITY_ORDER:
        raise UsageError(f"--fail-on must be one of {', '.join(SEVERITY_ORDER)}")
    from camaudit.assess import load_policies
    from camaudit.docs.pages import Limits
    from camaudit.docs.run import scan_documents
    from camaudit.store import Store

    policies = load_policies(policy or ["all"])
    limits = Limits(timeout=timeout, memory=max_memory * 2**20, ocr_pages=ocr_pages)
    store = Store(db)
    result = scan_documents(paths, store, policies, limits, on_document=_document_line)
    for path in result.missing:
        err.print(f"camaudit: {sanitize(path)}: no such file or folder", markup=False)
    findings = result.findings
    rate = result.pages / result.seconds if result.seconds else 0.0
    info(f"docs scan {result.scan_id}: {len(result.documents)} documents, {result.pages} "
         f"pages read ({rate:.1f} pages/s), {len(findings)} findings, "
         f"{len(result.not_read)} not read -> {store.url}")
    if json_out:
        store.write_json(result.scan_id, json_out)
        info(f"wrote {json_out}")
    info(f"next: camaudit report {result.scan_id} --html documents.html")
    if fail_on is not None:
        from camaudit.assess import exceeds
        from camaudit.model import Finding

        as_findings = [Finding(id=f["id"], kind="analytics", severity=f["severity"],
                               title="", source=f["source"], status=f["status"])
                       for f in findings]
        if exceeds(as_findings, fail_on):
            err.print(f"camaudit: findings at or above {fail_on}: exit 3", markup=False)
            raise typer.Exit(3)
    if result.not_read or result.missing:
        err.print(f"camaudit: {len(result.not_read) + len(result.missing)} document(s) not "
                  f"read (listed above); the rest was read and saved (docs scan "
                  f"{result.scan_id}): exit 2", markup=False)
        raise typer.Exit(2)


def _document_line(document: dict[str, Any]) -> None:
    """One line per document: findings, or why it was (partly) not read."""
    path = sanitize(document["path"])
    if document["status"] == "not read":
        err.print(f"camaudit: {path}: not read: {sanitize(document['error'] or '?')}",
                  markup=False)
        return
    counts: dict[str, int] = {}
    for f in document["findings"]:
        counts[f["kind"]] = counts.get(f["kind"], 0) + 1
    said = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no findings"
    ocr = f", {document['pages_ocr']} by OCR" if document["pages_ocr"] else ""
    info(f"{path}: {document['format']}, {document['pages']} pages{ocr}, "
         f"{document['language'] or '-'}: {said}")
    for gap in document["pages_not_read"][:5]:
        info(f"  page {gap['page']} not read: {sanitize(gap['why'])}")
    if len(document["pages_not_read"]) > 5:
        info(f"  … {len(document['pages_not_read']) - 5} more pages not read")
    for f in document["findings"]:
        out.print(f"  {sanitize(path)}:{f['page']}:{f['line']}: {f['severity']} {f['kind']} "
                  f"{f['id']}{' (' + f['status'] + ')' if f['status'] != 'open' else ''}: "
                  f"{sanitize(f['text'])[:160]}", markup=False)


def register(root: typer.Typer) -> None:
    """Add ``camaudit docs`` to `root`."""
    root.add_typer(app, name="docs")
