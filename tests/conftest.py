"""Shared fixtures: one zoo per test session, served by a real child process on loopback.

The zoo runs ``python -m camaudit.zoo`` on 127.42.0.0/16 with every persona at least once
(plus a few extra devices), so tests talk to real sockets (STYLE.md rule 5). A real
PostgreSQL and a real redis-server (``services.py``) start, once per session, when a test
first asks for one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from camaudit.cliutil import run_async
from camaudit.demo import covering_network
from camaudit.knowledge import reload as reload_knowledge
from camaudit.pipeline import ScanOptions, execute, new_scan
from camaudit.store import Store
from camaudit.zoo import ZooProcess, run_in_subprocess
from camaudit.zoo.personas import load_all
from services import new_database, postgres_server, redis_server

# CAMAUDIT_TEST_ZOO_BASE lets two suites run side by side on one machine; the zoo's
# out-of-scope trap moves with it (127.X -> 127.X+100).
ZOO_BASE = os.environ.get("CAMAUDIT_TEST_ZOO_BASE", "127.42.0.0/16")
if "CAMAUDIT_TEST_ZOO_BASE" in os.environ:
    os.environ.setdefault("CAMAUDIT_ZOO_TRAP",
                          f"127.{(int(ZOO_BASE.split('.')[1]) + 100) % 256}.0.1")
ZOO_SEED = 4242


@pytest.fixture(scope="session")
def zoo() -> Iterator[ZooProcess]:
    """A running zoo: `.manifest` (parsed), `.base`, `.devices`, `.stats()`."""
    count = len(load_all()) + 6
    with run_in_subprocess(count=count, seed=ZOO_SEED, base=ZOO_BASE, lifetime=20.0,
                           timeout=60.0) as running:
        yield running


@pytest.fixture(scope="session")
def postgres_service() -> Iterator[str]:
    """A PostgreSQL server for the session (URL of its maintenance database)."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="module")
def postgres_url(postgres_service: str) -> str:
    """A fresh database of the session's PostgreSQL, one per test module."""
    return new_database(postgres_service)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A redis-server for the session (the Celery broker of site-worker tests)."""
    with redis_server() as url:
        yield url


@dataclass
class ZooScan:
    """One audit of the session zoo through the real pipeline, stored in real SQLite."""

    store: Store
    scan_id: int
    document: dict[str, Any]
    network: str


@pytest.fixture(scope="session")
def zoo_scan(zoo: ZooProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZooScan]:
    """The zoo scanned once, as an operator without device logins would (no credentials)."""
    network = covering_network([d["address"] for d in zoo.devices])
    store = Store(str(tmp_path_factory.mktemp("zoo-scan") / "zoo.db"))
    options = ScanOptions(connect_timeout=1.0, probe_timeout=2.0, site="test site")
    scan_id, scope = new_scan(store, [network], [], options)
    run_async(execute(store, scan_id, scope, options))
    yield ZooScan(store, scan_id, store.document(scan_id), network)
    store.close()


@pytest.fixture
def isolated_knowledge(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Only the shipped knowledge: the user data directory (CAMAUDIT_DATA) is a temp dir."""
    data = tmp_path_factory.mktemp("camaudit-data")
    monkeypatch.setenv("CAMAUDIT_DATA", str(data))
    reload_knowledge()
    yield data
    monkeypatch.undo()
    reload_knowledge()
