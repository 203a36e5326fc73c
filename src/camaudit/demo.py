"""`camaudit demo`: the whole audit, end to end, on an emulated estate on loopback.

Starts a zoo (a few hundred devices: OEM labels, vulnerable and patched
firmware, decoys, hostile devices) in a child process, scans it as an
operator would, and writes every report: HTML, PDF (when Chromium is
present), JSON, CSV, CycloneDX and a signed evidence bundle. It ends by
printing where they are and how the result compares with the zoo's ground
truth.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from camaudit.cliutil import info, out, run_async
from camaudit.errors import UsageError
from camaudit.pipeline import ScanOptions, execute, new_scan
from camaudit.probes.base import Credentials
from camaudit.store import Store


def covering_network(addresses: list[str]) -> str:
    """The smallest CIDR block holding every address (the 'site network' of the demo)."""
    ips = sorted(int(ipaddress.IPv4Address(a)) for a in addresses)
    first, last = ips[0], ips[-1]
    prefix = 32 - (first ^ last).bit_length()
    return str(ipaddress.IPv4Network((first, prefix), strict=False))


def _write_reports(store: Store, scan_id: int, out_dir: Path) -> dict[str, Path]:
    from camaudit.output import write_json
    from camaudit.report.build import build_reports
    from camaudit.report.bundle import build_bundle
    from camaudit.report.cyclonedx import write_cyclonedx
    from camaudit.report.signing import generate_key, load_private_key
    from camaudit.report.source import StoreSource

    paths: dict[str, Path] = {}
    pdf: Path | None = None
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        info("writing the reports; the PDF is printed with headless Chromium ...")
        pdf = out_dir / "report.pdf"
    else:
        info("no Chromium found: skipping the PDF (apt-get install chromium)")
    built = build_reports(StoreSource(store, scan_id), html=out_dir / "report.html", pdf=pdf,
                          csv=out_dir / "devices.csv")
    paths["HTML report"] = out_dir / "report.html"
    if pdf is not None:
        paths["PDF report"] = pdf
    assert built.csv is not None
    paths["CSV (devices)"], paths["CSV (findings)"] = built.csv
    if built.documents_csv is not None:
        paths["CSV (documents)"] = built.documents_csv
    doc = store.document(scan_id)
    write_json(doc, str(out_dir / "audit.json"))
    paths["camaudit/1 JSON"] = out_dir / "audit.json"
    write_cyclonedx(doc, out_dir / "cyclonedx.json")
    paths["CycloneDX 1.6"] = out_dir / "cyclonedx.json"
    key = out_dir / "demo-signing.key"
    if not key.exists():
        generate_key(key, force=True)
    bundle = build_bundle(doc, store.observations(scan_id), load_private_key(key),
                          out_dir / "evidence.zip")
    paths["signed evidence bundle"] = bundle.path
    return paths


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the database and "
                                          "every report.")] = Path("out/demo"),
    count: Annotated[int, typer.Option(help="Emulated devices in the estate.", min=10,
                                       max=5000)] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the estate's deterministic mix.")] = 2026,
    base: Annotated[str, typer.Option(help="Loopback block for the zoo.")] = "127.42.0.0/16",
) -> None:
    """Run a full audit of an emulated surveillance estate on loopback and write the reports.

    Example: camaudit demo --out out/demo --count 300
    """
    from camaudit.zoo.process import run_in_subprocess
    from camaudit.zoo.score import score

    try:
        block = ipaddress.ip_network(base, strict=False)
    except ValueError as exc:
        raise UsageError(f"--base is not a network: {base!r}") from exc
    if not (isinstance(block, ipaddress.IPv4Network)
            and block.subnet_of(ipaddress.IPv4Network("127.0.0.0/8"))):
        raise UsageError("the demo estate must live on loopback (127.0.0.0/8)")
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "camaudit.db"
    for stale in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    manifest_path = out_dir / "zoo-manifest.json"
    info(f"starting an emulated estate of {count} devices on {base} ...")
    with run_in_subprocess(count=count, seed=seed, base=base,
                           manifest_path=manifest_path) as zoo:
        network = covering_network([d["address"] for d in zoo.devices])
        creds = zoo.manifest.get("credentials") or {}
        credentials = (Credentials(creds["username"], creds["password"])
                       if creds.get("username") and creds.get("password") else None)
        info(f"auditing {network} as its operator would (with the site's device login) ...")
        store = Store(str(db))
        options = ScanOptions(site="demo site")
        scan_id, scope = new_scan(store, [network], [], options)
        stats = run_async(execute(store, scan_id, scope, options, credentials=credentials))
    info(f"scan {scan_id}: {stats.hosts_up} hosts up, {stats.devices} surveillance devices, "
         f"{stats.findings} findings in {stats.elapsed:.1f}s")
    paths = _write_reports(store, scan_id, out_dir)
    result = score(store.document(scan_id), _load(manifest_path), connected=credentials is not None)
    store.close()
    out.print(f"\n[bold]camaudit demo[/bold] — scan {scan_id} of {network} "
              f"({count} emulated devices)")
    for label, path in paths.items():
        out.print(f"  {label:24} {path}")
    out.print(f"  {'database':24} {db}  (try: camaudit show last --db {db})")
    out.print(f"\nagainst the zoo's ground truth: {result.summary()}")
    out.print(f"\nopen the report: [bold]{paths['HTML report'].resolve()}[/bold]")
    out.print(f"open the audit in the web console: [bold]camaudit serve --db {db}[/bold] "
              "(then http://127.0.0.1:8080/; its first start makes the account 'admin' and "
              "prints its password once)")


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def register(app: typer.Typer) -> None:
    app.command(epilog="Example:\n\n  camaudit demo --out out/demo")(demo)
