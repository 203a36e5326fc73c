"""Commands of the report area (report, evidence, verify, keygen, diff), registered by ``cli.py``.

A SCAN_ID is a scan id in ``--db``, ``last`` for the latest scan there, or the
path of a camaudit/1 JSON file (``scan --json`` output) ending in ``.json``.
Errors are camaudit errors, which the CLI prints as one line with exit code 2;
``verify`` exits 1 when a bundle fails its checks. Nothing a device said is
printed without going through :func:`terminal_safe`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from camaudit.cliutil import DEFAULT_DB, DbOption, ScanIdArg, info, out
from camaudit.errors import UsageError
from camaudit.report.document import Doc, check_document, load_document
from camaudit.report.text import terminal_safe

if TYPE_CHECKING:
    from camaudit.report.source import Source


def _to(flag: str, help_text: str) -> Any:
    """An output-file option."""
    return typer.Option(flag, dir_okay=False, help=help_text)


def _is_file_ref(ref: str) -> bool:
    return ref.lower().endswith(".json")


def load_scan(db: str, ref: str) -> Doc:
    """The camaudit/1 document for a SCAN_ID: from a JSON file, or from the store."""
    if _is_file_ref(ref):
        return load_document(Path(ref))
    from camaudit.store import Store  # the store migrates on open: only when needed

    store = Store(db)
    try:
        scan_id = store.resolve_scan_id(ref)
        return check_document(store.document(scan_id), f"scan {scan_id} in {db}")
    finally:
        store.close()


@contextlib.contextmanager
def open_source(db: str, ref: str) -> Iterator[Source]:
    """The devices of a SCAN_ID, read device by device from the store (bounded memory), or
    the checked document of a .json file."""
    from camaudit.report.source import DocSource, StoreSource

    if _is_file_ref(ref):
        yield DocSource(load_document(Path(ref)))
        return
    from camaudit.store import Store

    store = Store(db)
    try:
        yield StoreSource(store, store.resolve_scan_id(ref))
    finally:
        store.close()


def _write_json(source: Source, path: Path) -> None:
    from camaudit.output import write_json
    from camaudit.report.source import StoreSource

    if isinstance(source, StoreSource):
        source.store.write_json(source.scan_id, str(path))  # streamed, device by device
    else:
        write_json(source.document(), str(path))


def _said(label: str, path: Path) -> None:
    out.print(f"{label}: {terminal_safe(path)}")


def report(
    scan_id: ScanIdArg,
    db: DbOption = DEFAULT_DB,
    html: Annotated[Path | None, _to("--html", "Write the HTML report here.")] = None,
    pdf: Annotated[Path | None, _to("--pdf", "Write the PDF report here (needs Chromium).")
                   ] = None,
    csv: Annotated[Path | None, _to("--csv", "Write one row per device here, and one row "
                                    "per finding beside it (NAME-findings.csv).")] = None,
    cyclonedx: Annotated[Path | None, _to("--cyclonedx", "Write a CycloneDX 1.6 JSON bill "
                                          "of materials here.")] = None,
    json_out: Annotated[Path | None, _to("--json", "Write the camaudit/1 JSON document "
                                         "here.")] = None,
    costs: Annotated[Path | None, typer.Option("--costs", exists=True, dir_okay=False,
                                               help="YAML cost table merged over the "
                                               "built-in placeholder figures.")] = None,
    since: Annotated[str | None, typer.Option("--since", metavar="OLD_SCAN_ID",
                                              help="Add a 'changes since' section comparing "
                                              "with this earlier scan.")] = None,
) -> None:
    """Write the audit report of a scan: HTML, PDF, CSV, CycloneDX or JSON.

    SCAN_ID may also be a camaudit/1 .json file (scan --json output).

    Example: camaudit report last --html audit.html --pdf audit.pdf --costs my-costs.yaml
    """
    if not any((html, pdf, csv, cyclonedx, json_out)):
        raise UsageError("say what to write: --html, --pdf, --csv, --cyclonedx or --json")
    from camaudit.report.build import build_reports
    from camaudit.report.diff import diff_documents
    from camaudit.report.removal import load_cost_table

    table = load_cost_table(costs)
    with open_source(db, scan_id) as source:
        # A diff compares two whole scans, so --since reads both into memory.
        changes = (diff_documents(load_scan(db, since), source.document())
                   if since and (html or pdf) else None)
        if html or pdf or csv:
            if pdf:
                info("writing the report; the PDF is printed with headless Chromium ...")
            built = build_reports(source, html=html, pdf=pdf, csv=csv, table=table,
                                  diff=changes)
            if html:
                _said("HTML report", html)
            if pdf:
                _said(f"PDF report ({built.pdf_pages} pages)", pdf)
            if built.csv:
                _said("CSV, one row per device", built.csv[0])
                _said("CSV, one row per finding", built.csv[1])
            if built.documents_csv:
                _said("CSV, one row per document finding", built.documents_csv)
        if cyclonedx:
            from camaudit.report.cyclonedx import write_cyclonedx

            write_cyclonedx(source.document(), cyclonedx)
            _said("CycloneDX 1.6", cyclonedx)
        if json_out:
            _write_json(source, json_out)
            _said("camaudit/1 JSON", json_out)


def evidence(
    scan_id: ScanIdArg,
    out_file: Annotated[Path, typer.Option("--out", dir_okay=False,
                                           help="The evidence bundle to write (.zip).")],
    key: Annotated[Path, typer.Option("--key", envvar="CAMAUDIT_KEY", dir_okay=False,
                                      help="Ed25519 private key from 'camaudit keygen' "
                                      "(env CAMAUDIT_KEY).")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write a signed evidence bundle: raw observations, the JSON report, SHA-256 manifest.

    Example: camaudit evidence last --out scan.zip --key auditor.key
    """
    from camaudit.report.bundle import build_bundle
    from camaudit.report.signing import load_private_key
    from camaudit.store import Store

    private = load_private_key(key)
    if _is_file_ref(scan_id):
        raise UsageError("evidence needs the raw observations, which only the store "
                         "holds: give a scan id from --db, not a JSON file")
    store = Store(db)
    try:
        number = store.resolve_scan_id(scan_id)
        doc = check_document(store.document(number), f"scan {number} in {db}")
        made = build_bundle(doc, store.observations(number), private, out_file)
    finally:
        store.close()
    _said("evidence bundle", made.path)
    out.print(f"{made.files} files, {made.observations} observations, "
              f"signed by key {made.fingerprint[:16]}…")
    if made.unmatched_evidence:
        info(f"warning: {len(made.unmatched_evidence)} observation(s) cited as evidence are "
             "not in the store, so not in the bundle")


def verify(
    bundle: Annotated[Path, typer.Argument(dir_okay=False, help="The evidence bundle (.zip).")],
    pubkey: Annotated[Path | None, typer.Option("--pubkey", dir_okay=False,
                                                help="The signer's public key, obtained from "
                                                "the signer (proves who signed).")] = None,
) -> None:
    """Check every hash and the signature of an evidence bundle; name what was altered.

    Exit code 0 when the bundle is intact, 1 when a check fails.

    Example: camaudit verify scan.zip --pubkey auditor.key.pub
    """
    from camaudit.report.bundle import verify_bundle
    from camaudit.report.signing import load_public_key

    result = verify_bundle(bundle, load_public_key(pubkey) if pubkey else None)
    for note in result.notes:
        out.print(f"note: {terminal_safe(note)}")
    for problem in result.problems:
        out.print(f"[red]FAILED[/red] {terminal_safe(problem.path)}: "
                  f"{terminal_safe(problem.message)}")
    if not result.ok:
        out.print(f"{terminal_safe(bundle)}: {len(result.problems)} check(s) failed; "
                  "do not rely on this bundle")
        raise typer.Exit(1)
    manifest = result.manifest or {}
    knowledge = ", ".join(f"{k} {v}" for k, v in (manifest.get("knowledge") or {}).items())
    out.print(f"[green]OK[/green] {terminal_safe(bundle)}: {len(result.checked)} files match "
              f"the manifest; signature valid (key {terminal_safe(result.signer or '')[:16]}…)")
    out.print(f"made by camaudit {terminal_safe(manifest.get('tool_version'))}; knowledge: "
              f"{terminal_safe(knowledge or '-')}")


def keygen(
    out_file: Annotated[Path, typer.Option("--out", dir_okay=False,
                                           help="Where to write the private key; the public "
                                           "key goes beside it as OUT.pub.")],
    force: Annotated[bool, typer.Option("--force", help="Replace existing key files.")] = False,
) -> None:
    """Make an Ed25519 signing key for evidence bundles (private key mode 0600).

    Example: camaudit keygen --out ~/.camaudit/auditor.key
    """
    from camaudit.report.signing import fingerprint, generate_key, load_public_key

    private, public = generate_key(out_file, force=force)
    _said("private key (keep it secret)", private)
    _said("public key (give it to whoever verifies)", public)
    out.print(f"fingerprint: {fingerprint(load_public_key(public))}")


def diff(
    old: Annotated[str, typer.Argument(help="The earlier scan: id, 'last' or a .json file.")],
    new: Annotated[str, typer.Argument(help="The later scan: id, 'last' or a .json file.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Show devices added, removed and changed, and findings opened and closed.

    OLD and NEW are scan ids, 'last', or camaudit/1 .json files.

    Example: camaudit diff 41 last
    """
    from camaudit.report.diff import diff_documents, render_diff

    render_diff(diff_documents(load_scan(db, old), load_scan(db, new)), out)


def register(app: typer.Typer) -> None:
    """Add this area's commands to `app`."""
    app.command("report")(report)
    app.command("evidence")(evidence)
    app.command("verify")(verify)
    app.command("keygen")(keygen)
    app.command("diff")(diff)
