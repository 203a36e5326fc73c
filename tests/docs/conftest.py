"""Fixtures of the documents tests: a folder of generated bids, and what was planted in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from camaudit.docs import ocr

from . import makedocs


@dataclass
class Bids:
    folder: Path
    #: (file name, page, line) -> the finding ids planted there
    planted: dict[tuple[str, int, int], set[str]] = field(default_factory=dict)
    #: (file name, page, line) of negated or regulatory sentences: never a finding
    quiet: set[tuple[str, int, int]] = field(default_factory=set)
    scanned: set[str] = field(default_factory=set)  # files that need OCR


def can_ocr() -> bool:
    return ocr.available() is not None and makedocs.cjk_font() is not None


def write_bids(folder: Path, *, scanned: bool) -> Bids:
    bids = Bids(folder)
    plant, quiet = bids.planted, bids.quiet

    makedocs.text_pdf(folder / "bid-en.pdf", [
        ["Invitation to tender 2026/17: video surveillance for the civic centre",
         "Schedule of equipment:",
         "• 20 x Hikvision DS-2CD2043G2-I 4MP bullet camera",
         "• 2 x LTS CMIP3C42W-28M turret camera",
         "• 1 x Axis M3024-LVE dome camera"],
        ["Video analytics requirements.",
         "The platform shall detect race and skin colour of persons in view.",
         "The system must not detect ethnicity or any minority status.",
         "Under Article 5(1)(g) of the EU AI Act, categorising people by race is prohibited.",
         "Alerts on key persons shall be raised against the face library.",
         "Key personnel: the bidder shall name a project manager."]])
    plant[("bid-en.pdf", 1, 3)] = {"ndaa-889"}
    plant[("bid-en.pdf", 1, 4)] = {"ndaa-889"}
    plant[("bid-en.pdf", 2, 2)] = {"claim:race", "claim:skin-colour"}
    plant[("bid-en.pdf", 2, 5)] = {"platform:key-persons", "platform:face-library"}
    quiet |= {("bid-en.pdf", 2, 3), ("bid-en.pdf", 2, 4), ("bid-en.pdf", 2, 6)}

    makedocs.text_pdf(folder / "bid-zh.pdf", [
        ["招标文件 第二章 技术要求",
         "一、前端设备：海康威视 DS-2CD2T47G2-L 摄像机 30 台。",
         "二、人脸属性分析：支持性别、年龄、种族属性(如维族、汉族)识别。",
         "三、系统不得进行少数民族识别。",
         "四、依据法律法规，禁止基于肤色的歧视。"],
        ["五、平台应符合GA/T 1400标准，支持视图库对接。",
         "六、支持重点人员布控预警。"]])
    plant[("bid-zh.pdf", 1, 2)] = {"ndaa-889"}
    plant[("bid-zh.pdf", 1, 3)] = {"claim:race", "claim:uyghur", "claim:han"}
    plant[("bid-zh.pdf", 2, 1)] = {"platform:gat-1400"}
    plant[("bid-zh.pdf", 2, 2)] = {"platform:key-persons"}
    quiet |= {("bid-zh.pdf", 1, 4), ("bid-zh.pdf", 1, 5)}

    makedocs.docx_file(folder / "bid.docx", [
        ["Bill of materials"],
        ["Recognised attributes: gender, age, race.",
         "The supplier shall not provide ethnicity analytics."]],
        table=[["Item", "Brand", "Model", "Qty"],
               ["1", "Amcrest", "IP8M-2496EB-40MM", "12"],
               ["2", "Dahua", "IPC-HDW5831R-ZE", "4"]])
    plant[("bid.docx", 1, 3)] = {"ndaa-889"}
    plant[("bid.docx", 1, 4)] = {"ndaa-889"}
    plant[("bid.docx", 2, 1)] = {"claim:race"}
    quiet.add(("bid.docx", 2, 2))

    makedocs.xlsx_file(folder / "compliance.xlsx", {
        "Specs": [["Feature", "Requirement"],
                  ["Face analytics", "Uyghur detection with real-time alarm"],
                  ["Privacy", "The system shall not classify people by skin colour"],
                  ["Standard", "GDPR Article 9 prohibits processing that reveals racial or "
                               "ethnic origin"]],
        "设备清单": [["序号", "品牌", "型号"], ["1", "大华", "DH-SD49425XB-HNR"]]})
    plant[("compliance.xlsx", 1, 2)] = {"claim:uyghur"}
    plant[("compliance.xlsx", 2, 2)] = {"ndaa-889"}
    quiet |= {("compliance.xlsx", 1, 3), ("compliance.xlsx", 1, 4)}

    (folder / "spec.html").write_text(
        "<!doctype html>\n<html><head><title>Spec</title></head>\n<body>\n<h1>Camera spec</h1>\n"
        "<ul>\n<li>Supports skin colour analytics</li>\n<li>Does not support race detection</li>"
        "\n</ul>\n</body></html>\n", encoding="utf-8")
    plant[("spec.html", 1, 6)] = {"claim:skin-colour"}
    quiet.add(("spec.html", 1, 7))

    listing = "设备清单\n录像机型号 DS-7608NXI-I2/8P/S 2 台\n"
    (folder / "清单.txt").write_bytes(listing.encode("gb18030"))
    plant[("清单.txt", 1, 2)] = {"ndaa-889"}

    if scanned:
        font = makedocs.cjk_font()
        assert font is not None
        makedocs.scanned_pdf(folder / "spec-scan-en.pdf", [[
            "PRODUCT DATASHEET",
            "Model: DH-IPC-HFW2431S-S-S2",
            "Face attributes: gender, age, skin colour",
            "Ethnicity detection is not supported."]], font)
        plant[("spec-scan-en.pdf", 1, 2)] = {"ndaa-889"}
        plant[("spec-scan-en.pdf", 1, 3)] = {"claim:skin-colour"}
        quiet.add(("spec-scan-en.pdf", 1, 4))
        makedocs.scanned_pdf(folder / "spec-scan-zh.pdf", [[
            "产品技术参数",
            "型号：DS-2CD2347G2-LU",
            "支持维族识别报警",
            "本产品不支持种族识别。"]], font)
        plant[("spec-scan-zh.pdf", 1, 2)] = {"ndaa-889"}
        plant[("spec-scan-zh.pdf", 1, 3)] = {"claim:uyghur"}
        quiet.add(("spec-scan-zh.pdf", 1, 4))
        bids.scanned = {"spec-scan-en.pdf", "spec-scan-zh.pdf"}
    return bids


@pytest.fixture(scope="session")
def bids(tmp_path_factory: pytest.TempPathFactory) -> Bids:
    folder = tmp_path_factory.mktemp("bids")
    return write_bids(folder, scanned=can_ocr())
