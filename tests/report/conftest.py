"""Documents for report tests, built from the pipeline's own Device/Finding objects.

Several devices carry hostile strings where a real device could put them
(title, brand, model, firmware, evidence): HTML/script injection, terminal
escape sequences, rich markup, quotes and bidi overrides.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from camaudit.model import Device, Evidence, Finding, Observation

SCRIPT = "<script>window.__pwned = 1; alert(1)</script>"
IMG = '<img src=x onerror="window.__pwned = 2">'
ESC = "\x1b[31mRED\x1b[0m\x1b]52;c;cHduZWQ=\x07"
MARKUP = "[bold red]markup[/bold red]"
QUOTES = "O'Brien \"quoted\" & <b>bold</b>"
BIDI = "fw\u202eevil"

NDAA_SRC = "https://www.acquisition.gov/far/52.204-25"
FCC_SRC = "https://www.fcc.gov/supplychain/coveredlist"
KEV_SRC = "https://www.cisa.gov/known-exploited-vulnerabilities-catalog"
AI_ACT_SRC = "https://eur-lex.europa.eu/eli/reg/2024/1689/oj"


def observations() -> list[Observation]:
    """Raw evidence as probes keep it; two share bytes (same banner on two hosts)."""
    t = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    return [
        Observation("127.42.0.7", 8000, "hik-sdk", {"maker": "Hikvision"},
                    raw=bytes(range(256)) * 4, time=t),
        Observation("127.42.0.7", 80, "isapi", {"model": "DS-2CD2042WD-I"},
                    raw=b"<DeviceInfo><model>DS-2CD2042WD-I</model></DeviceInfo>", time=t),
        Observation("127.42.0.8", 80, "http", {"title": SCRIPT},
                    raw=f"HTTP/1.1 200 OK\r\n\r\n<title>{SCRIPT}</title>".encode(), time=t),
        Observation("127.42.0.9", 554, "rtsp", {"server": "Dahua Rtsp Server"},
                    raw=b"RTSP/1.0 200 OK\r\nServer: Dahua Rtsp Server\r\n\r\n", time=t),
        Observation("127.42.0.10", 554, "rtsp", {"server": "Dahua Rtsp Server"},
                    raw=b"RTSP/1.0 200 OK\r\nServer: Dahua Rtsp Server\r\n\r\n", time=t),
        Observation("127.42.0.11", None, "inventory", {"brand": "Axis"}, source="claim", time=t),
    ]


def _ev(rule: str, obs: Observation, says: str, weight: float = 0.9) -> Evidence:
    return Evidence(rule, f"sha256:{obs.sha256}", says, weight, source=NDAA_SRC)


def ndaa(severity: str = "high") -> Finding:
    return Finding("ndaa-889", "restriction", severity,  # type: ignore[arg-type]
                   "Maker named by NDAA s.889", NDAA_SRC, regime="ndaa-889",
                   detail="Covered video surveillance equipment")


def fcc() -> Finding:
    return Finding("fcc-covered-list", "restriction", "high", "Maker on the FCC Covered List",
                   FCC_SRC, regime="fcc-covered-list")


def kev(cve: str = "CVE-2021-36260") -> Finding:
    return Finding(f"kev:{cve}", "vulnerability", "critical", f"{cve} command injection",
                   KEV_SRC, evidence=[f"isapi -> sha256:{'ab' * 32}"])


def devices() -> list[Device]:
    obs = observations()
    return [
        Device("127.42.0.7", [80, 554, 8000], "00:11:22:33:44:55", "camera", "Annke",
               "Hikvision", "DS-2CD2042WD-I", "V5.4.5 build 170124", "SN-HIK-1", 0.97,
               evidence=[_ev("hik-sdk-8000", obs[0], "manufacturer=Hikvision"),
                         _ev("isapi-model", obs[1], "model=DS-2CD2042WD-I"),
                         _ev("brand-banner", obs[1], "brand=Hikvision", 0.2)],
               findings=[ndaa("critical"), fcc(), kev()], site="HQ"),
        Device("127.42.0.8", [80], None, "camera", SCRIPT, None, IMG, ESC, None, 0.3,
               evidence=[_ev("http-title", obs[2], f"brand={SCRIPT}")],
               conflicts=[f"title says {SCRIPT}"],
               findings=[Finding("unknown-maker", "unknown-maker", "medium",
                                 f"Unknown maker for {SCRIPT}", "https://camaudit.invalid/docs",
                                 detail=QUOTES)],
               site=MARKUP),
        Device("127.42.0.9", [554], None, "recorder", "Lorex", "Dahua", "NVR4108HS",
               "2.800.0000000.0.R", None, 0.9,
               evidence=[_ev("rtsp-server", obs[3], "manufacturer=Dahua")],
               findings=[ndaa("high"), Finding("analytics:dahua-skin-colour", "analytics",
                                               "critical", "Reported skin-colour analytics",
                                               AI_ACT_SRC, regime="eu-ai-act-art5-1g")],
               site="Depot"),
        Device("127.42.0.10", [554], None, "camera", "Dahua", "Dahua", "IPC-HDW5831R-ZE",
               BIDI, None, 0.9,
               evidence=[_ev("rtsp-server", obs[4], "manufacturer=Dahua")],
               findings=[ndaa("high"),
                         Finding("cve:CVE-2021-33044", "vulnerability", "high", "Auth bypass",
                                 "javascript:alert(1)", status="possible")],
               site="Depot"),
        Device("127.42.0.11", [80], None, "camera", "Axis", "Axis", "M3024-L", "5.51",
               None, 0.8, evidence=[_ev("inventory", obs[5], "brand=Axis")], site=QUOTES),
    ]


def document(devs: list[Device] | None = None, scan_id: int = 7) -> dict[str, Any]:
    return {
        "schema": "camaudit/1",
        "scan": {"id": scan_id, "started": "2026-11-20T09:00:00+00:00",
                 "finished": "2026-11-20T09:05:00+00:00", "targets": ["127.42.0.0/24"],
                 "tool_version": "0.1.0",
                 "knowledge": {"kev": "2026-11-23", "restrictions": "2026-11-23"},
                 "policies": ["all"]},
        "devices": [d.to_json() for d in (devs if devs is not None else devices())],
    }


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Samples:
    """What tests import through the `samples` fixture (tests/ is not a package)."""

    SCRIPT, IMG, ESC, MARKUP, QUOTES, BIDI = SCRIPT, IMG, ESC, MARKUP, QUOTES, BIDI
    NDAA_SRC, KEV_SRC = NDAA_SRC, KEV_SRC
    observations = staticmethod(observations)
    devices = staticmethod(devices)
    document = staticmethod(document)
    ndaa, fcc, kev = staticmethod(ndaa), staticmethod(fcc), staticmethod(kev)
    sha = staticmethod(sha)


@pytest.fixture(scope="session")
def samples() -> type[Samples]:
    return Samples


@pytest.fixture
def doc() -> dict[str, Any]:
    return document()
