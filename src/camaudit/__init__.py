"""camaudit — audit a video-surveillance estate, with evidence.

Data flows one way; each stage has one home:

    scope.py     targets and exclusions; `Scope.allows` is the gate every connection asks
    special_purpose.py  IANA special-purpose blocks (RFC 6890) a wider target leaves out
    netio.py     the only place sockets are opened: gate + shared budget + time/byte bounds
    sweep.py     fast TCP connect discovery of open ports
    probes/      one module per protocol: sans-IO parser + small transport -> Observation
    ingest/      passive sources (nmap XML, pcap, ARP/DHCP, inventories) -> Observation
    identify/    fingerprint rules (our YAML, sourced; rapid7/recog's XML) + fusion -> Device
    vendor/      third-party data kept unchanged with its licence (rapid7/recog; see NOTICE)
    knowledge/   makers, OEM links, restriction regimes, KEV/CVE ranges, analytics reports
    assess/      policies -> Finding (each with its public source)
    store/       scans, hosts, observations, devices, findings (SQLite or any SQLAlchemy URL)
    credentials.py  device logins per network/site/default from a 0600 file (memory only)
    pipeline.py  runs scope -> sweep -> probes -> identify -> assess -> store, resumably
    output.py    the camaudit/1 JSON document and its schema
    report/      HTML, PDF, CSV, CycloneDX, signed evidence bundle, removal plan, diff
    zoo/         emulated devices on loopback for the demo, tests and benchmarks
    docs/        documents (spec sheets, tenders, BoMs; EN/ZH, OCR) -> findings, before purchase
    web/         the console and REST API (camaudit serve): accounts, roles, the same reads
    cli.py       the command line (each area adds its commands from <area>/commands.py)

The records passed between stages live in model.py; errors in errors.py.
"""

__version__ = "0.1.0"
