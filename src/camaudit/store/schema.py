"""Database tables: scans, shards, hosts, ports, observations, devices, findings, refusals.

Plain SQLAlchemy Core tables (the scanner writes thousands of rows per
minute; Core inserts keep that cheap). Alembic migrations in
``store/migrations`` create and evolve them; this module is the reference
they are written against. Types are portable so that PostgreSQL needs only a
different URL.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

scans = Table(
    "scans", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False, default="scan"),  # scan | ingest
    Column("status", String(16), nullable=False),  # running | done | cancelled
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True)),
    Column("targets", JSON, nullable=False),
    Column("excludes", JSON, nullable=False),
    Column("resolved", JSON, nullable=False),  # host name -> addresses, fixed at start
    Column("ports", JSON, nullable=False),
    Column("options", JSON, nullable=False),
    Column("policies", JSON, nullable=False),
    Column("knowledge", JSON, nullable=False),
    Column("tool_version", String(32), nullable=False),
    Column("site", String(200)),
    Column("cursor", String(64)),  # every address <= cursor is finished
    Column("stats", JSON),
)

# -- shards (scan --workers, site workers; migration 0006) --------------------------------
#: A scan's scope in inclusive address ranges; each is claimed by one worker at a time,
#: keeps its own cursor and is finished once (dist/shards.py, dist/run.py).
shards = Table(
    "shards", metadata,
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
    Column("index", Integer, primary_key=True),
    Column("first", String(64), nullable=False),
    Column("last", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # pending | running | done | cancelled
    Column("cursor", String(64)),  # every shard address <= cursor is finished
    Column("attempts", Integer, nullable=False, default=0),
    Column("worker", String(200)),  # who runs (or last ran) it
    Column("stats", JSON),  # pipeline.Stats of the run that finished it
    Column("updated", DateTime(timezone=True), nullable=False),
    # migration 0007: the Celery queue an audit's shard is sent to (null: scan --workers)
    # and when its message was last sent (null: never, its audit's start was interrupted)
    Column("queue", String(200)),
    Column("queued", DateTime(timezone=True)),
    Index("ix_shards_state", "scan_id", "state"),
)

hosts = Table(
    "hosts", metadata,
    Column("id", Integer, primary_key=True),
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
    Column("address", String(64), nullable=False),
    Column("mac", String(32)),
    Column("done_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("scan_id", "address", name="uq_hosts_scan_address"),
)

ports = Table(
    "ports", metadata,
    Column("id", Integer, primary_key=True),
    Column("host_id", Integer, ForeignKey("hosts.id", ondelete="CASCADE"), nullable=False),
    Column("port", Integer, nullable=False),
    Column("proto", String(8), nullable=False, default="tcp"),
    Column("state", String(16), nullable=False, default="open"),
    Index("ix_ports_host", "host_id"),
)

observations = Table(
    "observations", metadata,
    Column("id", Integer, primary_key=True),
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
    Column("host_id", Integer, ForeignKey("hosts.id", ondelete="CASCADE"), nullable=False),
    Column("address", String(64), nullable=False),
    Column("port", Integer),
    Column("probe", String(32), nullable=False),
    Column("source", String(16), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("raw_size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Index("ix_observations_host", "host_id"),
    Index("ix_observations_scan", "scan_id"),
)

devices = Table(
    "devices", metadata,
    Column("id", Integer, primary_key=True),
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
    Column("host_id", Integer, ForeignKey("hosts.id", ondelete="CASCADE"), nullable=False),
    Column("address", String(64), nullable=False),
    Column("device_type", String(16)),
    Column("brand", Text),
    Column("manufacturer", Text),
    Column("model", Text),
    Column("firmware", Text),
    Column("serial", Text),
    Column("mac", String(32)),
    Column("confidence", Float, nullable=False),
    Column("site", String(200)),
    Column("hostname", Text),
    Column("ports", JSON, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("conflicts", JSON, nullable=False),
    Column("parent", String(64)),  # migration 0005: a camera a recorder reports
    Column("channel", Integer),
    Index("ix_devices_scan", "scan_id"),
    UniqueConstraint("host_id", name="uq_devices_host"),
)

findings = Table(
    "findings", metadata,
    Column("id", Integer, primary_key=True),
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
    Column("device_id", Integer, ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
    Column("finding_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("regime", String(64)),
    Column("detail", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("accepted_reason", Text),
    Column("basis", Text),  # added in migration 0002
    Index("ix_findings_device", "device_id"),
)

refusals = Table(
    "refusals", metadata,
    Column("id", Integer, primary_key=True),
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
    Column("address", String(255), nullable=False),
    Column("reason", Text, nullable=False),
)

# -- documents (camaudit docs scan; migration 0003) ---------------------------------------
documents = Table(
    "documents", metadata,
    Column("id", Integer, primary_key=True),
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
    Column("path", Text, nullable=False),
    Column("sha256", String(64)),  # None when the file could not be read at all
    Column("size", Integer),
    Column("format", String(16), nullable=False),
    Column("pages", Integer, nullable=False),
    Column("pages_ocr", Integer, nullable=False),
    Column("pages_not_read", JSON, nullable=False),  # [{"page", "why"}]
    Column("language", String(8)),
    Column("status", String(16), nullable=False),  # read | partly read | not read
    Column("error", Text),
    Column("notes", JSON, nullable=False),
    Column("models", JSON, nullable=False),
    Column("set_aside", JSON, nullable=False),
    Column("seconds", Float, nullable=False),
    Index("ix_documents_scan", "scan_id"),
)

document_findings = Table(
    "document_findings", metadata,
    Column("id", Integer, primary_key=True),
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"),
           nullable=False),
    Column("finding_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("page", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("model", Text),
    Column("manufacturer", Text),
    Column("brand", Text),
    Column("term", Text),
    Column("source", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("score", Float),
    Column("regimes", JSON, nullable=False),
    Index("ix_document_findings_document", "document_id"),
)
