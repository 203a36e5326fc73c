"""Storage of scans, hosts, observations, devices and findings (SQLAlchemy + Alembic)."""

from camaudit.store.db import Store, database_url

__all__ = ["Store", "database_url"]
