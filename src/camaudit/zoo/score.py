"""Score a camaudit/1 document against a zoo manifest (the ground truth).

Used by the accuracy tests, the demo summary and the benchmarks. Names
compare case-insensitively; ``null`` in the manifest means "must be null".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

FIELDS = ("device_type", "brand", "manufacturer", "model", "firmware")


def _norm(value: Any) -> str | None:
    return None if value in (None, "") else str(value).strip().casefold()


@dataclass
class Score:
    devices: int = 0
    correct: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    findings_exact: int = 0
    mismatches: list[str] = field(default_factory=list)
    per_persona: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    wrong_maker: int = 0  # a maker named that the manifest does not say: the worst error
    decoys_called_cameras: int = 0

    def accuracy(self, name: str) -> float:
        return self.correct[name] / self.devices if self.devices else 0.0

    def summary(self) -> str:
        parts = [f"{name}={self.accuracy(name):.3f}" for name in FIELDS]
        findings = self.findings_exact / self.devices if self.devices else 0.0
        return (f"{self.devices} devices: " + " ".join(parts) + f" findings={findings:.3f} "
                f"wrong_maker={self.wrong_maker} decoys_as_cameras={self.decoys_called_cameras}")


def key(device: dict[str, Any]) -> str:
    """How a device is matched: its address, or ``<recorder>#<channel>`` behind a recorder."""
    if device.get("parent"):
        return f"{device['parent']}#{device.get('channel')}"
    return str(device["address"])


def score(document: dict[str, Any], manifest: dict[str, Any], *,
          fields: tuple[str, ...] = FIELDS, include_hostile: bool = False,
          connected: bool = False) -> Score:
    """`connected`: also score the cameras behind recorders (seen only with a login)."""
    found = {key(d): d for d in document.get("devices", [])}
    result = Score()
    for truth in manifest.get("devices", []):
        if truth.get("hostile") and not include_hostile:
            continue
        if truth.get("parent") and not connected:
            continue
        result.devices += 1
        got = found.get(key(truth), {})
        all_right = True
        for name in fields:
            if _norm(got.get(name)) == _norm(truth.get(name)):
                result.correct[name] += 1
            else:
                all_right = False
                result.mismatches.append(
                    f"{key(truth)} {truth['persona']}: {name} = {got.get(name)!r}, "
                    f"expected {truth.get(name)!r}")
        maker = _norm(got.get("manufacturer"))
        if maker is not None and maker != _norm(truth.get("manufacturer")):
            result.wrong_maker += 1
        if truth.get("device_type") == "other" and got.get("device_type") not in ("other", None):
            result.decoys_called_cameras += 1
        got_ids = {f["id"] for f in got.get("findings", [])
                   if f.get("status") not in ("possible", "lead")}
        if got_ids == set(truth.get("findings", [])):
            result.findings_exact += 1
        else:
            all_right = False
            result.mismatches.append(
                f"{key(truth)} {truth['persona']}: findings {sorted(got_ids)}, "
                f"expected {sorted(truth.get('findings', []))}")
        tally = result.per_persona[truth["persona"]]
        tally[0] += 1
        tally[1] += int(all_right)
    return result
