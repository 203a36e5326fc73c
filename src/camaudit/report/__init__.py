"""Reports: turn a camaudit/1 document into what an auditor files and acts on.

Every format starts from the JSON document of the output contract (a dict from
``Store.document`` or a ``scan --json`` file), never from the database:

    document.py   check a document; severity order, regime grouping, labels
    summary.py    counts and findings by regime for the executive summary
    charts.py     inline SVG bar charts (no JavaScript library, nothing fetched)
    html.py       the self-contained HTML report (Jinja2, autoescape, hash-based CSP)
    templates/    report.html, report.css, report.js (inlined into the page)
    pdf.py        the HTML report printed by headless Chromium
    csvout.py     a CSV row per device and per finding (formula cells neutralised)
    cyclonedx.py  CycloneDX 1.6 hardware BOM with vulnerabilities and KEV references
    removal.py    the removal plan and its cost table (costs.yaml: placeholder figures)
    diff.py       what changed between two scans, for the terminal and the report
    signing.py    Ed25519 keys (keygen)
    bundle.py     the signed evidence bundle and its verification
    text.py       device strings made safe for a terminal
    commands.py   report, evidence, verify, keygen, diff

Errors: OSError, yaml, jsonschema, cryptography and subprocess failures become
UsageError, ConfigError or ResourceError in the module that meets them, chained
with ``from exc``; a bundle that fails its checks is a result (exit 1), not an error.
"""
