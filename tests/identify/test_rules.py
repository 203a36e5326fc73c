"""Every rule is checked against its own examples (as rapid7/recog does), and a bad
rules file is reported as ConfigError with file:line."""

from __future__ import annotations

import datetime as dt

import pytest

from camaudit.errors import ConfigError
from camaudit.identify.match import match_fields
from camaudit.identify.rules import RAW_FIELD, Example, Rule, load_rules, parse_rules_text

RULES = load_rules().rules


def _example_input(rule: Rule, example: Example) -> tuple[dict[str, object], bytes]:
    if isinstance(example.value, dict):
        fields = dict(example.value)
        raw = str(fields.pop(RAW_FIELD, "")).encode()
        return fields, raw
    name = rule.fields[0]
    if name == RAW_FIELD:
        return {}, example.value.encode()
    return {name: example.value}, b""


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_examples(rule: Rule) -> None:
    for example in rule.examples:
        fields, raw = _example_input(rule, example)
        found = match_fields(rule, fields, raw)
        if example.expect is None:
            assert found is None, f"{rule.id} must not match {example.value!r}"
            continue
        assert found is not None, f"{rule.id} must match {example.value!r}"
        says = found[2]
        for key, want in example.expect.items():
            assert says.get(key) == want, f"{rule.id} on {example.value!r}: {key}"


def test_every_rule_is_sourced_and_dated() -> None:
    assert len(RULES) > 60
    for rule in RULES:
        assert rule.checked <= dt.date(2026, 12, 1)
        assert len(rule.source) >= 10
        assert 0 < rule.weight <= 1


def test_rule_ids_unique_and_cached() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    assert load_rules() is load_rules()


GOOD = """\
rules:
  - id: x-server
    probe: http
    field: server
    pattern: '^X-Webs$'
    says: {manufacturer: Hikvision}
    weight: 0.5
    source: nowhere-in-particular test source
    checked: 2026-11-25
    examples:
      - {value: X-Webs, expect: {manufacturer: Hikvision}}
"""


@pytest.mark.parametrize(("text", "line", "words"), [
    (GOOD.replace("'^X-Webs$'", "'^(X'"), 2, "bad regex"),
    (GOOD.replace("    source: nowhere-in-particular test source\n", ""), 2, "missing 'source'"),
    (GOOD.replace("weight: 0.5", "weight: 1.5"), 2, "weight"),
    (GOOD.replace("Hikvision}\n    weight", "Hikvizion}\n    weight"), 2, "not a maker"),
    (GOOD.replace("{manufacturer: Hikvision}}", "null}"), 2, "at least one example"),
    (GOOD.replace("probe: http", "probe: http\n    colour: red"), 2, "unknown key"),
    (GOOD.replace("    examples:", "  examples: [\n"), None, "not valid YAML"),
    (GOOD.replace("{manufacturer: Hikvision}\n    weight", "{model: '{2}'}\n    weight"),
     2, "group {2}"),
])
def test_bad_rules_file_names_file_and_line(text: str, line: int | None, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rules_text(text, "bad.yaml")
    message = str(info.value)
    assert message.startswith("bad.yaml:")
    if line is not None:
        assert message.startswith(f"bad.yaml:{line}:")
    assert words in message


def test_good_rules_text_parses() -> None:
    (rule,) = parse_rules_text(GOOD, "good.yaml")
    assert rule.id == "x-server" and rule.line == 2 and rule.file == "good.yaml"
