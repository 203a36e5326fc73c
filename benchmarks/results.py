"""benchmarks/RESULTS.md: where every benchmark script appends its section."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def append(text: str, path: str | Path = RESULTS) -> None:
    """Add `text` to the results file as a section of its own (after a blank line)."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n" + text.rstrip("\n") + "\n")
