"""Do ``scan --json`` exports of the same zoo, before and after a change, find the same devices?

    python benchmarks/same_audit.py before.json after.json
    python benchmarks/same_audit.py --before b1.json b2.json --after a1.json a2.json

Compared per device (by its key: address, or recorder#channel): every field of the
export — ports, class, maker, brand, model, firmware, serial, MAC, confidence,
conflicts, evidence (rule, what it says, weight, source) and findings. Left out: the
scan's own record (times, stats) and the SHA-256 of evidence, which differs from run to
run because replies carry the time (HTTP ``Date``) and the zoo makes a new TLS key at
each start.

On a loaded machine a reply can miss its read timeout, and a run then lacks what it
said: the same code gives different exports. With several runs a side, a device is
*changed* only when no run after matches any run before; a device whose runs differ
on one side but match across is *unsteady* (timing), listed apart. Exit status 1 when
a device is changed or found on one side only.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

_SHA = re.compile(r"sha256:[0-9a-f]{64}")


def _unhashed(value: Any) -> Any:
    if isinstance(value, str):
        return _SHA.sub("sha256:…", value)
    if isinstance(value, list):
        return [_unhashed(v) for v in value]
    if isinstance(value, dict):
        return {k: _unhashed(v) for k, v in value.items()}
    return value


def devices(path: Path) -> dict[str, dict[str, Any]]:
    """The export's devices by key, without run-dependent hashes."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for device in doc["devices"]:
        key = (f"{device['parent']}#{device['channel']}" if device.get("parent")
               else device["address"])
        out[key] = _unhashed(device)
    return out


def _items(value: Any) -> list[str]:
    """A list field as comparable lines (one JSON object each)."""
    return [json.dumps(v, sort_keys=True, ensure_ascii=False) for v in value or []]


def _change(name: str, old: Any, new: Any) -> str:
    if isinstance(old, list) and isinstance(new, list) and name in ("evidence", "findings"):
        gone = [i for i in _items(old) if i not in _items(new)]
        came = [i for i in _items(new) if i not in _items(old)]
        return f"{name}: lost {gone} gained {came}" if gone or came else f"{name}: order"
    return f"{name}: {json.dumps(old, ensure_ascii=False)} -> {json.dumps(new, ensure_ascii=False)}"


def differences(before: dict[str, dict[str, Any]],
                after: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"only in before: {key}" for key in sorted(before.keys() - after.keys())]
    lines += [f"only in after: {key}" for key in sorted(after.keys() - before.keys())]
    for key in sorted(before.keys() & after.keys()):
        old, new = before[key], after[key]
        for name in sorted(old.keys() | new.keys()):
            if old.get(name) != new.get(name):
                lines.append(f"{key} {_change(name, old.get(name), new.get(name))}")
    return lines


def _canonical(device: dict[str, Any]) -> str:
    return json.dumps(device, sort_keys=True, ensure_ascii=False)


def compare_runs(before: list[dict[str, dict[str, Any]]],
                 after: list[dict[str, dict[str, Any]]]) -> tuple[list[str], list[str], int]:
    """(differences of changed devices, keys of unsteady devices, devices compared)."""
    keys_before = set().union(*(run.keys() for run in before))
    keys_after = set().union(*(run.keys() for run in after))
    lines = [f"only in before: {key}" for key in sorted(keys_before - keys_after)]
    lines += [f"only in after: {key}" for key in sorted(keys_after - keys_before)]
    unsteady = []
    for key in sorted(keys_before & keys_after):
        olds = [run[key] for run in before if key in run]
        news = [run[key] for run in after if key in run]
        old_forms = {_canonical(d) for d in olds}
        new_forms = {_canonical(d) for d in news}
        if old_forms == new_forms and len(old_forms) == 1:
            continue
        if old_forms & new_forms:
            unsteady.append(key)
            continue
        lines += differences({key: olds[0]}, {key: news[0]})
    return lines, unsteady, len(keys_before | keys_after)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", help="before.json after.json")
    parser.add_argument("--before", nargs="+", default=[])
    parser.add_argument("--after", nargs="+", default=[])
    args = parser.parse_args()
    if args.files:
        if len(args.files) != 2 or args.before or args.after:
            parser.error("give before.json after.json, or --before ... --after ...")
        args.before, args.after = [args.files[0]], [args.files[1]]
    if not args.before or not args.after:
        parser.error("nothing to compare")
    lines, unsteady, total = compare_runs([devices(Path(p)) for p in args.before],
                                          [devices(Path(p)) for p in args.after])
    for line in lines:
        print(line)
    if unsteady:
        print(f"unsteady (runs of one side differ, and match across): {', '.join(unsteady)}")
    print(f"{total} devices; {len(lines)} differences; {len(unsteady)} unsteady")
    return 1 if lines else 0


if __name__ == "__main__":
    raise SystemExit(main())
