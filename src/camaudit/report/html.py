"""The HTML report: one self-contained file a compliance officer can read offline and print.

Rendering is Jinja2 with autoescape on for every template, because titles,
brands, banners and evidence come from the devices and are untrusted. Our own
CSS and JavaScript are inlined verbatim and admitted by a Content-Security-Policy
that lists their SHA-256 hashes and forbids every other script, style and
fetch: if an escaping bug ever let a device's ``<script>`` through, the browser
would still refuse to run it. Links are made only for http(s) citations.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from camaudit.errors import UsageError
from camaudit.report import documents as doc_section
from camaudit.report.charts import bar_chart
from camaudit.report.diff import ScanDiff
from camaudit.report.document import (
    CONCLUDED_FIELDS,
    DeviceDoc,
    Doc,
    FindingDoc,
    active_findings,
    device_label,
    findings,
    is_oem,
    scan_info,
    scan_label,
    severity_rank,
    worst_severity,
)
from camaudit.report.removal import RemovalPlan, plan_removal
from camaudit.report.summary import KIND_ADVICE, Summary, summarise
from camaudit.report.text import strip_controls


@dataclass(frozen=True)
class FieldReason:
    """Why one device field holds its value: the evidence for and against it."""

    name: str
    value: object
    supporting: list[dict[str, Any]]
    contrary: list[dict[str, Any]]


@dataclass
class DeviceView:
    index: int
    device: DeviceDoc
    reasons: list[FieldReason] = field(default_factory=list)
    other_evidence: list[dict[str, Any]] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        # Built from the position, never from device text, so it is always a safe id.
        return f"dev-{self.index}"

    @property
    def label(self) -> str:
        return device_label(self.device)

    @property
    def findings(self) -> list[FindingDoc]:
        return sorted(findings(self.device), key=lambda f: -severity_rank(f.get("severity")))

    @property
    def worst(self) -> str | None:
        return worst_severity(active_findings(self.device))

    @property
    def oem(self) -> bool:
        return is_oem(self.device)


def explain_fields(device: DeviceDoc) -> DeviceView:
    """Sort a device's evidence under the field each piece speaks about (``says`` = field=value)."""
    view = DeviceView(0, device)
    by_field: dict[str, list[dict[str, Any]]] = {name: [] for name in CONCLUDED_FIELDS}
    for item in device.get("evidence") or []:
        name, sep, _ = str(item.get("says", "")).partition("=")
        if sep and name.strip() in by_field:
            by_field[name.strip()].append(item)
        else:
            view.other_evidence.append(item)
    for name, items in by_field.items():
        value = device.get(name)
        if value is None and not items:
            continue
        agrees = [i for i in items if str(i["says"]).partition("=")[2].strip() == str(value)]
        view.reasons.append(
            FieldReason(name, value, agrees, [i for i in items if i not in agrees])
        )
    return view


def safe_url(value: object) -> str | None:
    """The citation as a link target if it is an http(s) URL; None for anything else."""
    text = str(value or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    return text if parts.scheme in ("http", "https") and parts.netloc else None


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _asset(name: str) -> str:
    return resources.files("camaudit.report").joinpath("templates", name).read_text("utf-8")


def _show_controls(value: object) -> object:
    """Jinja finalize: control characters in any printed string become visible escapes."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return strip_controls(value, keep_lines=True)
    return value


def _environment() -> Environment:
    env = Environment(
        finalize=_show_controls,
        loader=PackageLoader("camaudit.report", "templates"),
        autoescape=True,  # every template, whatever its file name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["safe_url"] = safe_url
    env.filters["money"] = lambda v: f"{v:,.0f}"
    env.filters["dash"] = lambda v: "—" if v is None or v == "" else v
    return env


def render_html(
    doc: Doc,
    *,
    plan: RemovalPlan | None = None,
    diff: ScanDiff | None = None,
    generated: datetime | None = None,
) -> str:
    """The report as one HTML string; `diff` adds a "changes since" section."""
    summary: Summary = summarise(doc)
    css, js = _asset("report.css"), _asset("report.js")
    csp = (
        "default-src 'none'; "
        f"script-src '{_digest(js)}'; style-src '{_digest(css)}'; "
        "img-src data:; font-src 'none'; connect-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )
    views = []
    for index, device in enumerate(doc.get("devices") or []):
        view = explain_fields(device)
        view.index = index
        views.append(view)
    template = _environment().get_template("report.html")
    return template.render(
        csp=csp,
        css=Markup(css),  # our own file, admitted by its hash in the CSP
        js=Markup(js),
        scan=scan_info(doc),
        scan_label=scan_label(doc),
        generated=(generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        summary=summary,
        charts={
            "type": bar_chart("Devices by class", list(summary.by_type.items())),
            "maker": bar_chart("Devices by real maker", list(summary.by_maker.items())),
        },
        devices=views,
        plan=plan if plan is not None else plan_removal(doc),
        diff=diff,
        advice=KIND_ADVICE,
        severity_rank=severity_rank,
        docs=doc_section.documents(doc),
        docs_summary=doc_section.summary(doc),
        docs_findings=doc_section.sorted_findings,
        kind_titles=doc_section.KIND_TITLES,
    )


def write_html(path: Path, html: str) -> None:
    try:
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the report: {exc.strerror or exc}") from exc
