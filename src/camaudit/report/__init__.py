"""Reports: turn a camaudit/1 document into what an auditor files and acts on.

Every format starts from the JSON document of the output contract (a dict from
``Store.document`` or a ``scan --json`` file), never from the database tables;
a report of a real estate reads that document device by device (source.py),
so that 5,000 or 50,000 devices are written in bounded memory:

    document.py   check a document; severity order, regime grouping, labels
    source.py     a document in memory, or the store's devices a batch at a time
    build.py      one pass over the devices writes HTML, PDF parts and CSV together
    summary.py    counts, regime tables of alike devices, the restricted x regime matrix
    charts.py     inline SVG bar charts (no JavaScript library, nothing fetched)
    html.py       the self-contained HTML report (Jinja2, autoescape, hash-based CSP):
                  summary first, then a compact searchable appendix of every device
    templates/    report.html, device.html (appendix entry/row), appendix_part.html (PDF),
                  documents.html (the documents section), report.css, report.js (inlined)
    pdf.py        the report printed by headless Chromium, in parts
    pdfmerge.py   the parts joined into one PDF, part by part (pypdf's parser)
    csvout.py     a CSV row per device and per finding (formula cells neutralised)
    documents.py  the documents of a ``docs scan``: their report section and their CSV
    cyclonedx.py  CycloneDX 1.6 hardware BOM with vulnerabilities and KEV references
    removal.py    the removal plan and its cost table (costs.yaml: placeholder figures)
    diff.py       what changed between two scans, for the terminal and the report
    signing.py    Ed25519 keys (keygen)
    bundle.py     the signed evidence bundle and its verification
    text.py       device strings made safe for a terminal
    commands.py   report, evidence, verify, keygen, diff

Errors: OSError, yaml, jsonschema, cryptography, pypdf and subprocess failures become
UsageError, ConfigError or ResourceError in the module that meets them, chained
with ``from exc``; a bundle that fails its checks is a result (exit 1), not an error.
"""
