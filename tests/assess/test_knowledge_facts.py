"""Issue 20 point 5: every date and company named in a finding's text comes from the
knowledge files (or from the device itself), never from templates or code.

Two halves: (1) every date in the title, detail and basis of the findings camaudit makes
for the zoo's personas and for devices built to reach every rule (ownership periods,
components, leads, analytics, KEV) is written in a knowledge file or said by the device;
(2) the code and templates that write finding and report text (assess/, report/) hold no
date and no company name in their string literals.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from camaudit.assess import assess, load_policies
from camaudit.knowledge import knowledge, makers
from camaudit.knowledge.versions import build_date
from camaudit.model import Device, Finding
from camaudit.zoo.personas import load_all

SRC = Path(__file__).resolve().parents[2] / "src/camaudit"
DATA = SRC / "knowledge/data"
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
#: ISO dates, "24 Nov 2022", "Feb 2023", "2 February 2025", and bare years.
DATE = re.compile(rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}} (?:{_MONTHS})[a-z]* \d{{4}}|"
                  rf"(?:{_MONTHS})[a-z]* \d{{4}}|(?:19|20)\d{{2}})\b")
#: Things that look like dates but are identifiers: finding/regime ids, CVE ids, URLs.
IDENT = re.compile(r"https?://\S+|\bCVE-\d{4}-\d+|\b[a-z]+(?:-[a-z0-9]+)*-\d{4}(?:-\d{2})?\b|"
                   r"\bFY\d{4}|\bkev:\S+")


def _knowledge_text() -> str:
    files = [*DATA.glob("*.yaml"), *(DATA / "kev").glob("*.json")]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def _devices() -> list[Device]:
    out = []
    for persona in load_all().values():
        ident = persona.identity
        out.append(Device(address="127.42.2.1", device_type=ident.get("device_type"),  # type: ignore[arg-type]
                          brand=ident.get("brand"), manufacturer=ident.get("manufacturer"),
                          model=ident.get("model"), firmware=ident.get("firmware"),
                          site="hq"))
    for day in ("2017-03-01", "2020-06-05", "2023-06-01", "2024-06-05"):
        out.append(Device(address="127.42.2.2", device_type="camera", brand="Lorex",
                          manufacturer="Dahua", model="IPC-HDW5831R-ZE",
                          firmware=f"2.800.0000016.0.R,build:{day}"))
    out += [
        Device(address="127.42.2.3", device_type="camera", brand="EZVIZ",
               manufacturer="Hikvision", model="DS-2CD7A26G0-JM/RX"),
        Device(address="127.42.2.4", device_type="camera", manufacturer="Dahua",
               model="IPC-HF8249F-FD"),
        Device(address="127.42.2.5", device_type="camera", brand="HikMicro"),
        Device(address="127.42.2.6", device_type="camera", manufacturer="Uniview"),
        Device(address="127.42.2.7", device_type="camera", manufacturer="Huawei"),
        Device(address="127.42.2.8", device_type="camera", manufacturer="Xiongmai",
               model="HI3516EV300_85H50AI"),
    ]
    return out


def _device_text(device: Device) -> str:
    built = build_date(device.firmware)
    return " ".join(str(v) for v in (device.brand, device.manufacturer, device.model,
                                     device.firmware, built.isoformat() if built else None,
                                     device.site) if v)


@pytest.mark.parametrize("spec", ["all", "us-federal", "uk-public-sector", "au-gov", "eu-ai-act",
                                  "security"])
def test_every_date_in_a_finding_comes_from_the_knowledge_or_the_device(spec: str) -> None:
    known = _knowledge_text()
    policies = load_policies([spec])
    seen: list[Finding] = []
    stray: list[str] = []
    for device in _devices():
        said = _device_text(device)
        for finding in assess(device, policies):
            seen.append(finding)
            text = IDENT.sub(" ", f"{finding.title} {finding.detail} {finding.basis}")
            for day in DATE.findall(text):
                if day not in known and day not in said:
                    stray.append(f"{finding.id} on {device.brand}/{device.manufacturer}: {day}")
    assert seen
    assert not stray, "\n".join(stray)


def test_the_demo_dates_of_the_issue_are_cited() -> None:
    """The corrected facts of issue 20 reach the findings; the unsupported ones do not."""
    text = " ".join(f"{f.title} {f.detail} {f.basis}" for device in _devices()
                    for f in assess(device, load_policies(["all"])))
    for fact in ("adopted 2022-11-11", "released 2022-11-25", "effective 2023-02-06",
                 "2021-06-03", "2018-02-06 until 2022-11-24 or 2023", "Not a government-wide ban",
                 "UK central-government departments only."):
        assert fact in text, fact
    assert "2023-06-30" not in text


def _company_names() -> set[str]:
    kb = knowledge()
    names = {m.name for m in makers.all_makers()}
    for company in kb.companies.values():
        names.update(company.names)
        names.update(link.name for link in company.brands)
    return {n for n in names if len(n) >= 3}  # "HP", "2N": too short to tell from words


def _literals(path: Path) -> list[tuple[int, str]]:
    """String literals of a module, without docstrings (they explain; they print nothing)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docstrings]


def test_finding_and_report_code_names_no_date_and_no_company() -> None:
    companies = _company_names()
    found = []
    files = [*(SRC / "assess").glob("*.py"), *(SRC / "report").glob("*.py")]
    for path in files:
        for line, text in _literals(path):
            cleaned = IDENT.sub(" ", text)
            for day in DATE.findall(cleaned):
                found.append(f"{path.name}:{line}: date {day!r}")
            for name in companies:
                if re.search(rf"\b{re.escape(name)}\b", cleaned):
                    found.append(f"{path.name}:{line}: company {name!r}")
    template = (SRC / "report/templates/report.html").read_text(encoding="utf-8")
    for day in DATE.findall(IDENT.sub(" ", template)):
        found.append(f"report.html: date {day!r}")
    for name in companies:
        if re.search(rf"\b{re.escape(name)}\b", template):
            found.append(f"report.html: company {name!r}")
    assert not found, "\n".join(found)
