"""Shared fixtures: one zoo per test session, served by a real child process on loopback.

The zoo runs ``python -m camaudit.zoo`` on 127.42.0.0/16 with every persona at least once
(plus a few extra devices), so tests talk to real sockets (STYLE.md rule 5).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from camaudit.zoo import ZooProcess, run_in_subprocess
from camaudit.zoo.personas import load_all

ZOO_BASE = "127.42.0.0/16"
ZOO_SEED = 4242


@pytest.fixture(scope="session")
def zoo() -> Iterator[ZooProcess]:
    """A running zoo: `.manifest` (parsed), `.base`, `.devices`, `.stats()`."""
    count = len(load_all()) + 6
    with run_in_subprocess(count=count, seed=ZOO_SEED, base=ZOO_BASE, lifetime=20.0,
                           timeout=60.0) as running:
        yield running
