"""The camaudit/1 document: the stable output contract (DESIGN.md) and its JSON Schema.

Every producer of results (scan --json, ingest --json, report, evidence) goes
through :func:`build_document`, and tests validate it against
``camaudit-1.schema.json`` shipped in the package.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from camaudit.errors import UsageError
from camaudit.model import Device

SCHEMA_ID = "camaudit/1"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def build_document(scan: dict[str, Any], devices: list[Device],
                   refused: Sequence[tuple[str, str]] = (),
                   documents: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The camaudit/1 document; ``documents`` (from ``docs scan``) only when there are some."""
    out: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "scan": {
            "id": scan.get("id"),
            "kind": scan.get("kind", "scan"),
            "status": scan.get("status"),
            "started": _iso(scan.get("started")),
            "finished": _iso(scan.get("finished")),
            "targets": list(scan.get("targets") or []),
            "excludes": list(scan.get("excludes") or []),
            "resolved": dict(scan.get("resolved") or {}),
            "ports": list(scan.get("ports") or []),
            "policies": list(scan.get("policies") or []),
            "knowledge": dict(scan.get("knowledge") or {}),
            "tool_version": scan.get("tool_version"),
            "site": scan.get("site"),
            "stats": scan.get("stats") or {},
            "out_of_scope": [{"address": a, "reason": r} for a, r in refused],
        },
    }
    if documents:
        out["documents"] = list(documents)
    out["devices"] = [d.to_json() for d in devices]
    return out


@cache
def schema() -> dict[str, Any]:
    text = resources.files("camaudit").joinpath("camaudit-1.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate(document: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError if `document` breaks the contract."""
    import jsonschema  # only validation needs it; every CLI start would pay for it

    jsonschema.validate(document, schema())


def device_text(device: Device) -> str:
    """``json.dumps(device.to_json(), indent=2, ensure_ascii=False)``, ten times cheaper
    (with an indent, the json module encodes in pure Python).

    orjson writes the same text for what a device holds: strings, ints, None, lists and
    floats rounded to 3 places. It writes floats below 1e-4 differently (the rounding
    leaves none), and NaN and infinities, which are not JSON (RFC 8259 section 6) and no
    confidence or rule weight is, as null.
    """
    return orjson.dumps(device.to_json(), option=orjson.OPT_INDENT_2).decode()


def write_json_stream(scan: dict[str, Any], devices: Iterable[Device],
                      refused: Sequence[tuple[str, str]], path: str,
                      documents: Sequence[dict[str, Any]] = ()) -> None:
    """The same document as write_json(build_document(...)), written device by device."""
    head = build_document(scan, [], refused, documents)
    head_text = json.dumps(head, indent=2, ensure_ascii=False)
    assert head_text.endswith('"devices": []\n}')
    try:
        with Path(path).open("w", encoding="utf-8") as out:
            out.write(head_text[: -len("[]\n}")] + "[")
            for n, device in enumerate(devices):
                text = device_text(device)
                out.write(("," if n else "") + "\n    " + text.replace("\n", "\n    "))
            out.write("\n  ]\n}\n")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_json(document: dict[str, Any], path: str) -> None:
    try:
        Path(path).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                              encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
