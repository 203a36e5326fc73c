"""How far identification reaches without a login: surveillance makers named by at least one
unauthenticated signal, each rule with a real example (issue 13: at least 60)."""

from __future__ import annotations

from camaudit.identify.recog_rules import load_databases, recog_rules
from camaudit.identify.rules import load_rules
from camaudit.model import SURVEILLANCE_TYPES

#: Probes that only answer with the operator's login (their rules do not count here).
LOGIN_ONLY = {"isapi", "dahua-cgi", "vapix", "lapi", "reolink"}


def _recog_examples() -> dict[str, int]:
    return {fp.id: len(fp.examples) for db in load_databases() for fp in db.fingerprints}


def surveillance_makers() -> dict[str, list[str]]:
    """maker -> ids of the rules that name it together with a surveillance class."""
    examples = _recog_examples()
    found: dict[str, list[str]] = {}
    for rule in load_rules().rules:
        maker, kind = rule.says.get("manufacturer"), rule.says.get("device_type")
        if not maker or "{" in maker or set(rule.probes) <= LOGIN_ONLY:
            continue
        if kind not in (*SURVEILLANCE_TYPES, "video"):
            continue
        if rule.examples or examples.get(rule.id, 0):
            found.setdefault(maker, []).append(rule.id)
    return found


def test_at_least_sixty_surveillance_makers_without_a_login() -> None:
    makers = surveillance_makers()
    assert len(makers) >= 60, sorted(makers)
    # both rule sets contribute: recog alone and our own rules alone are each short of it
    own = {m for m, ids in makers.items() if any(not i.startswith("recog:") for i in ids)}
    recog = {m for m, ids in makers.items() if any(i.startswith("recog:") for i in ids)}
    assert own - recog and recog - own


def test_every_recog_correction_names_a_fingerprint() -> None:
    from camaudit.identify.recog_rules import load_map

    described = {(db.name, fp.description) for db in load_databases() for fp in db.fingerprints}
    stale = set(load_map().corrections) - described
    assert not stale, f"corrections for fingerprints recog no longer has: {sorted(stale)}"
    notes = [r.note or "" for r in recog_rules()]
    assert sum("camaudit corrects it" in n for n in notes) == len(load_map().corrections)
