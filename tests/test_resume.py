"""kill -9 in the middle of a scan, resume it, and get the same inventory as a clean run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from camaudit.store import Store
from listeners import Listeners

PORTS = "18082,18556"
HOSTS = [f"127.66.{16 + i // 8}.{1 + (i % 8) * 31}" for i in range(32)]
ENDPOINTS = [(a, p) for a in HOSTS for p in (18082, 18556)]
TARGET = "127.66.16.0/22"
ENV = {**os.environ, "CI": "1"}


def _camaudit(*args: str) -> list[str]:
    return [sys.executable, "-m", "camaudit", "-q", *args]


def _saved_hosts(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("select count(*) from hosts").fetchone()[0])
    except sqlite3.Error:
        return 0


def _inventory(db: Path) -> list[tuple[str, tuple[int, ...], str | None]]:
    store = Store(str(db))
    sid = store.resolve_scan_id("last")
    devices = store.devices(sid)
    store.close()
    return [(d.address, tuple(d.ports), d.device_type) for d in devices]


def test_kill_9_then_resume_matches_a_clean_scan(tmp_path: Path) -> None:
    clean_db, killed_db = tmp_path / "clean.db", tmp_path / "killed.db"
    with Listeners(ENDPOINTS) as listeners:
        subprocess.run(_camaudit("scan", TARGET, "--ports", PORTS, "--db", str(clean_db)),
                       check=True, timeout=120, env=ENV)
        listeners.reset()
        # 4 sockets: hosts finish (and are saved) one after another. (Under --rate 250 a
        # probe's connection waits behind the sweep attempts already queued, here the
        # whole of this small scope, so every host was saved within the last second.)
        proc = subprocess.Popen(_camaudit("scan", TARGET, "--ports", PORTS, "--max-sockets",
                                          "4", "--db", str(killed_db)), env=ENV)
        deadline = time.monotonic() + 60
        while _saved_hosts(killed_db) < 8 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        saved_before = {a for (a, _, _) in _inventory(killed_db)}
        assert 8 <= len(saved_before) < len(HOSTS), "kill landed too late to prove resume"
        listeners.reset()
        subprocess.run(_camaudit("scan", "--resume", "last", "--db", str(killed_db)),
                       check=True, timeout=120, env=ENV)
        probed_again = {a for a in saved_before if listeners.accepted[a]}
    assert probed_again == set()
    assert _inventory(killed_db) == _inventory(clean_db)
    assert {a for (a, _, _) in _inventory(clean_db)} == set(HOSTS)
    store = Store(str(killed_db))
    assert store.scan(store.resolve_scan_id("last"))["status"] == "done"
