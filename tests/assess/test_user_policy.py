"""Operator policies: bans, sensitive sites, severities, allow-list expiry, and their errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from camaudit.assess import assess, exceeds, load_policies
from camaudit.errors import ConfigError
from camaudit.model import Device, Evidence

TODAY = date(2026, 11, 25)

POLICY = """\
policy: acme-estates
extends: [us-federal]
regimes: [uk-sensitive-sites-2022]
ban:
  - maker: Tiandy
    reason: "board decision 2026-03"
    source: "Acme security board minutes, 2026-03-02, item 4"
sensitive_sites: [hq]
severity:
  fcc-22-84: high
  kev: high
allow:
  - address: 127.42.0.7
    finding: ndaa-889
    reason: "replacement ordered, PO 4711"
    expires: 2027-03-31
    approved_by: "CISO"
  - address: 127.42.0.7
    finding: "kev:*"
    reason: "isolated VLAN until firmware update"
    expires: 2026-10-31
"""


def _policy(tmp_path: Path, text: str = POLICY) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(text)
    return path


def _hik(**kw: object) -> Device:
    base: dict[str, object] = dict(
        address="127.42.0.7", device_type="camera", brand="Hikvision", manufacturer="Hikvision",
        model="DS-2CD2042WD-I", firmware="V5.4.5 build 170124",
        evidence=[Evidence("isapi-ns", "sha256:" + "c" * 64, "manufacturer=Hikvision")])
    base.update(kw)
    return Device(**base)  # type: ignore[arg-type]


def test_allow_list_active_is_accepted_expired_stays_open(tmp_path: Path) -> None:
    findings = {f.id: f for f in assess(_hik(), load_policies([str(_policy(tmp_path))]),
                                        today=TODAY)}
    ndaa = findings["ndaa-889"]
    assert ndaa.status == "accepted"
    assert ndaa.accepted_reason is not None
    assert "replacement ordered, PO 4711 (allowed until 2027-03-31, approved by CISO" in \
        ndaa.accepted_reason
    assert ndaa.to_json()["accepted_reason"] == ndaa.accepted_reason
    kev = findings["kev:CVE-2021-36260"]
    assert kev.status == "open"
    assert "Allow-list entry expired on 2026-10-31" in kev.detail
    # after its expiry the first entry stops applying too
    later = {f.id: f for f in assess(_hik(), load_policies([str(_policy(tmp_path))]),
                                     today=date(2027, 4, 1))}
    assert later["ndaa-889"].status == "open"


def test_accepted_findings_do_not_fail_the_build(tmp_path: Path) -> None:
    policies = load_policies([str(_policy(tmp_path))])
    findings = [f for f in assess(_hik(), policies, today=TODAY) if f.id == "ndaa-889"]
    assert findings and not exceeds(findings, "low")


def test_severity_overrides(tmp_path: Path) -> None:
    findings = {f.id: f for f in assess(_hik(address="127.42.0.8"),
                                        load_policies([str(_policy(tmp_path))]), today=TODAY)}
    assert findings["fcc-22-84"].severity == "high"  # by id
    assert findings["kev:CVE-2021-36260"].severity == "high"  # by prefix
    assert findings["ndaa-889"].severity == "high"  # untouched


def test_sensitive_site_and_ban(tmp_path: Path) -> None:
    policies = load_policies([str(_policy(tmp_path))])
    uk = next(f for f in assess(_hik(address="127.42.0.8", site="hq"), policies)
              if f.id == "uk-sensitive-sites-2022")
    assert uk.severity == "high" and "marked sensitive" in uk.detail
    tiandy = Device(address="127.42.0.30", device_type="camera", manufacturer="TIANDY",
                    model="TC-C32JN")
    (ban,) = assess(tiandy, policies)
    assert (ban.id, ban.kind, ban.regime, ban.severity) == (
        "ban:tiandy", "restriction", "acme-estates", "high")
    assert ban.source == "Acme security board minutes, 2026-03-02, item 4"
    # a Tiandy-less estate under the same policy: an unbranded camera is unknown-maker
    (unknown,) = assess(Device(address="127.42.0.31", device_type="camera"), policies)
    assert unknown.id == "unknown-maker"


def test_policies_combine(tmp_path: Path) -> None:
    policies = load_policies(["eu-ai-act", str(_policy(tmp_path))])
    assert policies.names == ["eu-ai-act", "acme-estates", "us-federal"]
    assert policies.analytics and policies.kev and "ndaa-889" in policies.regimes
    assert not policies.cve


@pytest.mark.parametrize(("old", "new", "line", "what"), [
    ("extends: [us-federal]", "extends: [us-fed]", 2, "unknown built-in policy 'us-fed'"),
    ("regimes: [uk-sensitive-sites-2022]", "regimes: [uk-2022]", 3, "unknown regime 'uk-2022'"),
    ('    source: "Acme security board minutes, 2026-03-02, item 4"\n', "", 5,
     "missing required key 'source'"),
    ("  kev: high", "  kev: severe", 11, "severity 'severe' is not one of"),
    ("  fcc-22-84: high", "  fcc-22-48: high", 10, "'fcc-22-48' is not a finding id"),
    ("    expires: 2027-03-31", "    expires: next spring", 16,
     "'expires' must be a date YYYY-MM-DD"),
    ("    expires: 2026-10-31\n", "", 18, "missing required key 'expires'"),
    ('    reason: "replacement ordered, PO 4711"\n', "", 13, "needs a reason"),
    ("  - address: 127.42.0.7\n    finding: ndaa-889", "  - finding: ndaa-889", 13,
     "needs address, mac or serial"),
    ("sensitive_sites: [hq]", "sensitve_sites: [hq]", 8, "unknown key 'sensitve_sites'"),
    ("ban:\n  - maker: Tiandy\n    reason: \"board decision 2026-03\"\n"
     "    source: \"Acme security board minutes, 2026-03-02, item 4\"\n", "ban: Tiandy\n", 4,
     "'ban' must be a list"),
    ("severity:\n  fcc-22-84: high\n  kev: high\n", "severity: [high]\n", 9,
     "'severity' must map"),
    ("policy: acme-estates\n", "policy: acme-estates\n  bad indent: [\n", 2,
     "mapping values are not allowed"),  # YAML syntax: where the parser stopped
])
def test_bad_policy_names_file_line_and_what(tmp_path: Path, old: str, new: str, line: int,
                                             what: str) -> None:
    assert old in POLICY
    path = _policy(tmp_path, POLICY.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_policies([str(path)])
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert what in message


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a built-in policy"):
        load_policies([str(tmp_path / "nope.yaml")])


def test_policy_that_is_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r":1: a policy file must be a mapping"):
        load_policies([str(_policy(tmp_path, "- just\n- a list\n"))])


def test_policy_command_shows_selection(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from camaudit.assess import commands

    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test harness."""

    commands.register(app)
    result = CliRunner().invoke(app, ["policy", str(_policy(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "ban: Tiandy -> ban:tiandy (high; board decision 2026-03)" in result.output
    assert "allow: 127.42.0.7 ndaa-889 until 2027-03-31" in result.output
    help_text = CliRunner().invoke(app, ["policy", "--help"]).output
    assert "camaudit policy us-federal my-estate.yaml" in help_text
