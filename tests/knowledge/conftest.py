"""Each test sees the shipped knowledge only (fixture ``isolated_knowledge``, tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _shipped_knowledge_only(isolated_knowledge: Path) -> Path:
    return isolated_knowledge

