"""Alembic migrations: a database made by an older camaudit opens and keeps its data."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from camaudit.store import Store
from camaudit.store.db import MIGRATIONS


def test_a_0001_database_is_upgraded_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(sa.text(
            "insert into scans (id, kind, status, started, targets, excludes, resolved, ports,"
            " options, policies, knowledge, tool_version) values (1, 'scan', 'done',"
            " '2026-01-01 00:00:00', '[\"192.0.2.0/24\"]', '[]', '{}', '[80]', '{}',"
            " '[\"all\"]', '{}', '0.0.1')"))
        conn.execute(sa.text("insert into hosts (id, scan_id, address, done_at) values"
                             " (1, 1, '192.0.2.7', '2026-01-01 00:00:00')"))
        conn.execute(sa.text(
            "insert into devices (id, scan_id, host_id, address, confidence, ports, evidence,"
            " conflicts, manufacturer) values (1, 1, 1, '192.0.2.7', 0.9, '[80]', '[]', '[]',"
            " 'Hikvision')"))
        conn.execute(sa.text(
            "insert into findings (scan_id, device_id, finding_id, kind, severity, status,"
            " title, source, detail, evidence) values (1, 1, 'ndaa-889', 'restriction',"
            " 'high', 'open', 'old finding', 'https://www.acquisition.gov/far/52.204-25',"
            " 'manufacturer Hikvision', '[]')"))
    engine.dispose()

    store = Store(str(tmp_path / "old.db"))
    (device,) = store.devices(1)
    assert device.manufacturer == "Hikvision"
    assert device.findings[0].title == "old finding" and device.findings[0].basis == ""
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("select version_num from alembic_version")).scalar() \
            == "0005"
