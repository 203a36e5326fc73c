"""Assess: policies turn identified devices into findings, each citing its public source.

    policy.py      PolicySet and load_policies(): built-in sets (policies/*.yaml) and the
                   operator's YAML (bans, sensitive sites, severities, allow-list)
    engine.py      assess(device, policies) -> [Finding]; exceeds(findings, fail_on)
    policies/      us-federal, uk-public-sector, au-gov, eu-ai-act, security
    commands.py    `camaudit policy` (list the built-ins, check a policy file)

Knowledge (makers, regimes, KEV, CVE ranges, analytics reports) comes from
camaudit.knowledge; finding ids and policy names follow docs/CONTRACTS.md.
"""

from __future__ import annotations

from camaudit.assess.engine import assess, exceeds
from camaudit.assess.policy import BUILTINS, PolicySet, load_policies

__all__ = ["BUILTINS", "PolicySet", "assess", "exceeds", "load_policies"]
