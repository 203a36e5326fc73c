"""explain(): why a device was identified as it was, field by field, in plain lines.

For every field: the value and its score, each rule hit for it (weight, the
observation's probe, port and SHA-256, the text that matched), the hits for
other values (against), and, for a null field, why it stayed null. The lines
are recomputed from the observations with the same rules, so what is shown
is exactly what decided.
"""

from __future__ import annotations

from camaudit.identify.engine import fused
from camaudit.identify.fusion import (
    MAKER_BRAND_RULE,
    OEM_HINT_RULE,
    THRESHOLD,
    Candidate,
    Support,
)
from camaudit.identify.rules import SAYABLE
from camaudit.model import Device, Observation

_SNIP = 70


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIP else flat[: _SNIP - 1] + "…"


def _support_line(sign: str, cand: Candidate, support: Support) -> str:
    hit = support.hit
    if support.rule in (OEM_HINT_RULE, MAKER_BRAND_RULE):
        return f"    {sign} {support.rule:<34} w={support.weight:.2f}  {support.note}"
    if hit is None:  # pragma: no cover - only the OEM hint has no hit
        return f"    {sign} {support.rule}"
    obs = hit.observation
    where = f"{obs.probe}:{obs.port}" if obs.port else obs.probe
    line = (f"    {sign} {support.rule:<34} w={support.weight:.2f}  {where} "
            f"{hit.field}={_snippet(hit.value)!r}  sha256:{obs.sha256[:16]}…"
            + ("" if sign == "+" else f"  (says {cand.value})"))
    if hit.rule.id.startswith("recog:"):  # a vendored fingerprint: say which and whose
        line += f"\n        {hit.rule.source}"
    return line


def explain(device: Device, observations: list[Observation]) -> list[str]:
    """Lines telling why each field of `device` has its value or stayed null."""
    results = fused(observations)
    lines = [
        f"{device.address}: {device.device_type or 'unknown type'}, brand "
        f"{device.brand or 'unknown'}, manufacturer {device.manufacturer or 'unknown'}, "
        f"confidence {device.confidence:.2f}",
        f"  from {len(observations)} observation(s) on port(s) "
        f"{', '.join(map(str, device.ports)) or '-'}; a field needs a score of "
        f"{THRESHOLD:.2f} (noisy-OR of its rule weights)",
    ]
    for key in SAYABLE:
        res = results[key]
        shown = getattr(device, key)
        if res.value is not None:
            lines.append(f"  {key} = {shown!s}  (score {res.score:.2f})")
        elif res.best is None:
            lines.append(f"  {key} = null: no rule matched any observation")
        else:
            lines.append(f"  {key} = null: best candidate {res.best.value!r} scored "
                         f"{res.best.score:.2f} < {THRESHOLD:.2f}")
        for index, cand in enumerate(res.candidates):
            sign = "+" if index == 0 and res.value is not None else "-"
            if sign == "-" and res.value is None:
                sign = "?"
            for support in sorted(cand.support.values(), key=lambda s: -s.weight):
                lines.append(_support_line(sign, cand, support))
    if device.conflicts:
        lines.append("  conflicts and notes:")
        lines.extend(f"    ! {c}" for c in device.conflicts)
    lines.append("  legend: + for the value, - for another value, ? toward a value left null")
    return lines
