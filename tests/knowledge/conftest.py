"""Each test sees the shipped knowledge only: the user data directory is a temp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from camaudit.knowledge import reload


@pytest.fixture(autouse=True)
def isolated_knowledge(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("camaudit-data")
    monkeypatch.setenv("CAMAUDIT_DATA", str(data))
    reload()
    yield data
    monkeypatch.undo()
    reload()
