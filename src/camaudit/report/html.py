"""The HTML report: one self-contained file a compliance officer can read offline and print.

The page leads with the summary (what to do, findings grouped by regime with
their sources and details, the restricted equipment by regime, the removal
plan), then an appendix with each device once: a compact, collapsible and
searchable entry with its findings by reference (a link to the regime row)
and its evidence as the SHA-256 of each observation, i.e. a pointer into the
evidence bundle (``observations/<sha256>.bin``), not the evidence text.

The appendix is written device by device while the summary is counted
(:class:`HtmlAppendix`), and the page around it afterwards
(:func:`write_page`), so a report of 50,000 devices never holds them in
memory. For the PDF the same entries are rendered as rows of a dense table
(:func:`print_row`), printed in parts (pdf.py).

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
import io
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any
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
    group_key,
    is_lead,
    is_oem,
    severity_rank,
    worst_severity,
)
from camaudit.report.removal import CostTable, RemovalPlan, load_cost_table
from camaudit.report.summary import KIND_ADVICE, Summary, anchor_of
from camaudit.report.text import strip_controls

#: Where the appendix goes in the rendered page: markup that escaped device text cannot form.
_APPENDIX = "<!--camaudit:appendix-->"
_SHA = re.compile(r"sha256:([0-9a-fA-F]{64})")


@dataclass(frozen=True)
class FieldReason:
    """Why one device field holds its value: the evidence for and against it."""

    name: str
    value: object
    supporting: list[dict[str, Any]]
    contrary: list[dict[str, Any]]


@dataclass
class RuleHit:
    """What one rule read in one observation: fields whose concluded value it supports, and
    anything else it said in full (a value the device disagrees with, a hint)."""

    rule: str
    fields: list[str] = field(default_factory=list)
    against: list[str] = field(default_factory=list)  # a value other than the one concluded
    other: list[str] = field(default_factory=list)


@dataclass
class ObservationRef:
    """One observation cited for a device: its SHA-256 and what rules read in it."""

    sha: str
    hits: dict[str, RuleHit] = field(default_factory=dict)

    def add(self, rule: str, says: str, device: DeviceDoc) -> None:
        hit = self.hits.setdefault(rule, RuleHit(rule))
        name, sep, value = says.partition("=")
        name = name.strip()
        if not (sep and name in CONCLUDED_FIELDS):
            hit.other.append(says)
        elif str(device.get(name)) == value.strip():
            hit.fields.append(name)
        else:
            hit.against.append(says)

    @property
    def bundle_path(self) -> str | None:
        """Its file in the evidence bundle (raw bytes), when the reference is a SHA-256."""
        return f"observations/{self.sha}.bin" if re.fullmatch(r"[0-9a-f]{64}", self.sha) else None


@dataclass
class DeviceView:
    """One device as the appendix shows it: fields, findings by reference, evidence hashes."""

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
    def counted(self) -> int:
        """Its findings that count (leads are listed, not counted), for the appendix filter."""
        return sum(not is_lead(f) for f in findings(self.device))

    @property
    def worst(self) -> str | None:
        return worst_severity(active_findings(self.device))

    @property
    def oem(self) -> bool:
        return is_oem(self.device)

    @property
    def observations(self) -> list[ObservationRef]:
        """Every observation cited by the device's evidence or findings, first cited first."""
        refs: dict[str, ObservationRef] = {}
        for item in self.device.get("evidence") or []:
            sha = str(item.get("observation", "")).removeprefix("sha256:")
            refs.setdefault(sha, ObservationRef(sha)).add(
                str(item.get("rule", "")), str(item.get("says", "")), self.device)
        for finding in findings(self.device):
            for line in finding.get("evidence") or []:
                for sha in _SHA.findall(str(line)):
                    refs.setdefault(sha.lower(), ObservationRef(sha.lower()))
        return list(refs.values())


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


def finding_anchor(finding: FindingDoc) -> str:
    """Where an appendix entry links a finding: its regime's table, or the leads section."""
    return anchor_of(group_key(finding), lead=is_lead(finding))


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


@cache
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
    env.globals["anchor_of"] = anchor_of
    env.globals["group_key"] = group_key
    env.globals["finding_anchor"] = finding_anchor
    return env


def _macro(name: str) -> Any:
    return getattr(_environment().get_template("device.html").module, name)


def device_entry(index: int, device: DeviceDoc) -> str:
    """The appendix entry of one device in the HTML report (collapsible)."""
    return str(_macro("entry")(DeviceView(index, device)))


def print_row(index: int, device: DeviceDoc) -> str:
    """The appendix row of one device in the PDF (a dense table row)."""
    return str(_macro("row")(DeviceView(index, device)))


def csp(*, script: bool = True) -> str:
    """The page's Content-Security-Policy: our own style and script by hash, nothing else."""
    scripts = f"'{_digest(_asset('report.js'))}'" if script else "'none'"
    return (
        "default-src 'none'; "
        f"script-src {scripts}; style-src '{_digest(_asset('report.css'))}'; "
        "img-src data:; font-src 'none'; connect-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


class HtmlAppendix:
    """The appendix entries, written device by device to a temporary file."""

    def __init__(self) -> None:
        # Closed by close(), once the page around the entries is written.
        self.file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.count = 0

    def add(self, index: int, device: DeviceDoc) -> None:
        self.file.write(device_entry(index, device))
        self.count += 1

    def copy_to(self, out: IO[str]) -> None:
        self.file.flush()
        self.file.seek(0)
        shutil.copyfileobj(self.file, out, 1024 * 1024)

    def close(self) -> None:
        self.file.close()


def page_context(scan: dict[str, Any], summary: Summary, plan: RemovalPlan, *,
                 documents: list[dict[str, Any]] | None = None, diff: ScanDiff | None = None,
                 generated: datetime | None = None, printing: bool = False) -> dict[str, Any]:
    """What report.html needs, from the counts (never from the devices themselves) and the
    documents a ``docs scan`` read (few, so held whole: their section is in the summary)."""
    docs = list(documents or [])
    scan_label = (f"scan {scan['id']}" if scan.get("id") is not None
                  else f"scan of {scan.get('started') or 'unknown date'}")
    return {
        "csp": csp(script=not printing),
        "css": Markup(_asset("report.css")),  # our own file, admitted by its hash in the CSP
        "js": Markup(_asset("report.js")),
        "printing": printing,
        "scan": scan,
        "scan_label": scan_label,
        "generated": (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        "summary": summary,
        "charts": {
            "type": bar_chart("Devices by class", list(summary.by_type.items())),
            "maker": bar_chart("Devices by real maker", list(summary.by_maker.items())),
        },
        "plan": plan,
        "diff": diff,
        "advice": KIND_ADVICE,
        "appendix": Markup(_APPENDIX),
        "docs": docs,
        "docs_summary": doc_section.summary(docs),
        "docs_findings": doc_section.sorted_findings,
        "kind_titles": doc_section.KIND_TITLES,
    }


def write_page(out: IO[str], context: dict[str, Any], appendix: HtmlAppendix | None) -> None:
    """Stream report.html to `out`, with the appendix entries copied in where they belong."""
    template = _environment().get_template("report.html")
    for piece in template.generate(**context):
        if _APPENDIX in piece:
            before, after = piece.split(_APPENDIX, 1)
            out.write(before)
            if appendix is not None:
                appendix.copy_to(out)
            out.write(after)
        else:
            out.write(piece)


def render_part(rows: Markup, *, title: str, first: int, last: int) -> str:
    """A page of the PDF appendix: the dense table of devices `first`..`last` (1-based)."""
    template = _environment().get_template("appendix_part.html")
    return template.render(csp=csp(script=False), css=Markup(_asset("report.css")),
                           rows=rows, title=title, first=first, last=last)


def part_shell(title: str, first: int, last: int) -> tuple[str, str]:
    """The text before and after the rows of an appendix part, so rows can be streamed."""
    head, _, tail = render_part(Markup(_APPENDIX), title=title, first=first,
                                last=last).partition(_APPENDIX)
    return head, tail


def render_html(
    doc: Doc,
    *,
    table: CostTable | None = None,
    diff: ScanDiff | None = None,
    generated: datetime | None = None,
) -> str:
    """The report of an in-memory document as one string (tests, small scans)."""
    from camaudit.report.build import build_reports
    from camaudit.report.source import DocSource

    out = io.StringIO()
    build_reports(DocSource(doc), html=out, table=table or load_cost_table(), diff=diff,
                  generated=generated)
    return out.getvalue()


def write_html(path: Path, html: str) -> None:
    try:
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the report: {exc.strerror or exc}") from exc
