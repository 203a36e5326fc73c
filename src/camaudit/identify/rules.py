"""Fingerprint rules: YAML data files, one per signal kind, loaded and checked once.

A rule says "when field F of an observation from probe P matches this regex,
the device is ... (class/brand/maker/model/firmware/serial/mac), with this
weight", and names the public source it rests on. Rules are data so that an
auditor can read, cite and correct them without reading code; the format is
described in ``rules/README.md``.

A wrong rules file is an operator-visible configuration error: every problem
is raised as :class:`camaudit.errors.ConfigError` with ``file:line: what``
(the line comes from the YAML marks), never as a yaml or re exception.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from camaudit.errors import ConfigError
from camaudit.identify.normalise import MAKERS, VIDEO
from camaudit.model import DEVICE_TYPES

if TYPE_CHECKING:
    from camaudit.identify.match import Candidates, SeveralFound

#: Device fields a rule may set.
SAYABLE: tuple[str, ...] = (
    "device_type", "brand", "manufacturer", "model", "firmware", "serial", "mac",
)

#: Pseudo-field: the observation's raw bytes as text (first RAW_TEXT_CAP bytes).
RAW_FIELD = "raw"
RAW_TEXT_CAP = 16 * 1024

_TEMPLATE = re.compile(r"\{(\w+|f:\w+)(?:\|uri)?\}")
_ALLOWED_KEYS = {
    "id", "probe", "field", "pattern", "ignore_case", "also", "absent", "says", "weight",
    "weights", "surveillance", "source", "checked", "examples", "note",
}


@dataclass(frozen=True)
class Example:
    """A real string (or observation fields) the rule must (or must not) match."""

    value: str | dict[str, Any]
    expect: dict[str, str] | None  # None: the rule must not match


@dataclass(frozen=True)
class Rule:
    id: str
    probes: tuple[str, ...]
    fields: tuple[str, ...]
    regex: re.Pattern[str]
    says: dict[str, str]
    weights: dict[str, float]  # per said field
    source: str
    checked: dt.date
    file: str
    line: int
    also: tuple[tuple[str, re.Pattern[str]], ...] = ()
    absent: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    note: str | None = None
    #: How strongly a hit shows video-surveillance equipment whatever its role
    #: (fusion's `surveillance` class); None: the weight of the class it says, if any.
    surveillance: float | None = None

    @property
    def weight(self) -> float:
        return max(self.weights.values())

    @cached_property
    def value_only(self) -> bool:
        """Whether what it says rests on its own fields' values alone (no also, no absent,
        no {f:} template), so that a matcher may remember it per value."""
        return not self.also and not self.absent and not any(
            "{f:" in template for template in self.says.values())


# The standard library's regex parser, for the literal prefilter (it has no public API).
sre_parser: Any = importlib.import_module("re._parser")
sre: Any = importlib.import_module("re._constants")

#: Shortest literal worth a prefilter (shorter ones would rarely rule a value out).
MIN_LITERAL = 3
#: Characters Python's case-insensitive matching equates with ASCII letters that casefold()
#: does not turn into them (re._casefix: dotless i), so that the prefilter never drops a match.
_FOLD_EXTRA = str.maketrans({"\u0131": "i"})


def fold(text: str) -> str:
    """The form values and literals are compared in by the prefilter.

    translate() is slow (a table lookup per character), and the one character it
    changes is rare: a value without it is only casefolded, which is the same result.
    """
    if "\u0131" in text:
        text = text.translate(_FOLD_EXTRA)
    return text.casefold()


#: Most alternatives a requirement may have (a literal from each branch of an alternation).
MAX_ALTERNATIVES = 8


def _requirements(items: Any) -> list[tuple[str, ...]]:
    """What every match of a parsed regex (sequence) must contain: each requirement is a
    tuple of literals of which at least one occurs (one literal, or one per branch)."""
    found: list[tuple[str, ...]] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            found.append(("".join(current),))
            current.clear()

    for op, arg in items:
        if op is sre.LITERAL:
            current.append(chr(arg))
        elif op is sre.AT:
            continue  # an anchor consumes nothing
        elif op is sre.SUBPATTERN:
            flush()
            found.extend(_requirements(arg[-1]))
        elif op is sre.ATOMIC_GROUP:
            flush()
            found.extend(_requirements(arg))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and arg[0] >= 1:
            flush()
            found.extend(_requirements(arg[2]))
        elif op is sre.BRANCH:
            flush()
            branches = [_best(_requirements(branch)) for branch in arg[1]]
            if all(branches):
                merged = tuple(dict.fromkeys(lit for b in branches if b for lit in b))
                if len(merged) <= MAX_ALTERNATIVES:
                    found.append(merged)
        else:
            flush()
    flush()
    return found


def _best(requirements: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The most selective requirement: long literals, few alternatives."""
    usable = [r for r in requirements if min(map(len, r)) >= MIN_LITERAL]
    if not usable:
        return None
    return max(usable, key=lambda r: (min(map(len, r)) // len(r), -len(r)))


def required_literals(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    """Literals (folded) of which any match must contain at least one, for a cheap `in`
    prefilter: the longest literal of the pattern, or one per branch of an alternation.

    None when there is none of at least MIN_LITERAL characters (or the pattern cannot be
    analysed): such a rule is always tried.
    """
    try:
        parsed = sre_parser.parse(regex.pattern, regex.flags)
    except (re.error, RecursionError):  # pragma: no cover - it compiled already
        return None
    best = _best(_requirements(parsed.data if hasattr(parsed, "data") else parsed))
    return tuple(fold(lit) for lit in best) if best else None


@dataclass
class Bucket:
    """The rules indexed under one (probe, field), sorted for the matcher's fast path."""

    literal: list[tuple[str, Rule]] = field(default_factory=list)  # one field, one literal
    any_of: list[tuple[tuple[str, ...], Rule]] = field(default_factory=list)  # one field, OR
    plain: list[Rule] = field(default_factory=list)  # one field, no literal: always tried
    several: list[tuple[Rule, tuple[str, ...] | None]] = field(default_factory=list)


@dataclass
class RuleSet:
    """All rules, indexed by (probe, field) so matching touches only candidates.

    Each indexed rule carries its required literals (:func:`required_literals`): a value
    that contains none of them cannot match, and is not run through the regex. Fields
    whose name starts with ``~`` are derived from an observation (``match.DERIVED``).
    """

    rules: list[Rule] = field(default_factory=list)
    index: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    derived: dict[str, list[str]] = field(default_factory=dict)  # probe -> derived fields
    #: the index by probe, then field: (its index key, its bucket)
    by_probe: dict[str, dict[str, tuple[tuple[str, str], Bucket]]] = field(
        default_factory=dict, repr=False)
    #: (probe, field) and values -> the rules worth trying on them (match.py)
    memo: dict[tuple[tuple[str, str], tuple[str, ...]], Candidates] = field(
        default_factory=dict, repr=False)
    #: (probe, field) and the values of the fields its several-field rules read -> what
    #: they find (match.py)
    several_memo: dict[tuple[tuple[str, str], tuple[tuple[str, ...], ...]], SeveralFound] = \
        field(default_factory=dict, repr=False)

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)
        self.memo.clear()
        self.several_memo.clear()
        literals = required_literals(rule.regex)
        for probe in rule.probes:
            for name in rule.fields:
                bucket = self.index.setdefault((probe, name), Bucket())
                self.by_probe.setdefault(probe, {})[name] = ((probe, name), bucket)
                if len(rule.fields) > 1:
                    bucket.several.append((rule, literals))
                elif literals is None:
                    bucket.plain.append(rule)
                elif len(literals) == 1:
                    bucket.literal.append((literals[0], rule))
                else:
                    bucket.any_of.append((literals, rule))
                if name.startswith("~") and name not in self.derived.setdefault(probe, []):
                    self.derived[probe].append(name)

    def by_id(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader (libyaml's when installed: 4x faster) that remembers the line of every
    mapping as ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def _as_tuple(value: Any, what: str, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"{where}: '{what}' must be a string or a list of strings")
    return tuple(items)


def _compile(pattern: Any, ignore_case: bool, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise ConfigError(f"{where}: 'pattern' must be a non-empty string")
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise ConfigError(f"{where}: bad regex {pattern!r}: {exc}") from exc


def _check_says(says: Any, regex: re.Pattern[str], where: str) -> dict[str, str]:
    if not isinstance(says, dict) or not says:
        raise ConfigError(f"{where}: 'says' must map device fields to values")
    out: dict[str, str] = {}
    for key, value in _strip_lines(says).items():
        if key not in SAYABLE:
            raise ConfigError(f"{where}: 'says' has unknown field {key!r} (one of {SAYABLE})")
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: says.{key} must be a non-empty string")
        templated = "{" in value
        if key == "device_type" and not templated and value not in (*DEVICE_TYPES, VIDEO):
            raise ConfigError(f"{where}: says.device_type {value!r} is not one of "
                              f"{(*DEVICE_TYPES, VIDEO)}")
        if key == "manufacturer" and not templated and value not in MAKERS:
            raise ConfigError(f"{where}: says.manufacturer {value!r} is not a maker "
                              "named in docs/CONTRACTS.md")
        for ref in _TEMPLATE.findall(value):
            if ref.startswith("f:"):
                continue
            if ref.isdigit():
                if int(ref) > regex.groups:
                    raise ConfigError(f"{where}: says.{key} uses group {{{ref}}} but the "
                                      f"pattern has {regex.groups} group(s)")
            elif ref not in regex.groupindex:
                raise ConfigError(f"{where}: says.{key} uses unknown group {{{ref}}}")
        out[key] = value
    return out


def _check_weight(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ConfigError(f"{where}: weight must be a number in (0, 1], not {value!r}")
    return float(value)


def _check_examples(raw: Any, where: str) -> tuple[Example, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: every rule needs 'examples' (real strings it matches)")
    out = []
    for item in raw:
        line = item.get("__line__", "?") if isinstance(item, dict) else "?"
        if not isinstance(item, dict) or "value" not in item or "expect" not in item:
            raise ConfigError(f"{where} (example at line {line}): needs 'value' and 'expect'")
        value = _strip_lines(item["value"])
        expect = _strip_lines(item["expect"])
        if not isinstance(value, str | dict):
            raise ConfigError(f"{where} (example at line {line}): value must be text or fields")
        if expect is not None and not isinstance(expect, dict):
            raise ConfigError(f"{where} (example at line {line}): expect must be a mapping "
                              "of device fields, or null for 'must not match'")
        out.append(Example(value=value, expect=expect))
    if all(e.expect is None for e in out):
        raise ConfigError(f"{where}: at least one example must match")
    return tuple(out)


def _build_rule(raw: dict[str, Any], file: str) -> Rule:
    line = int(raw.get("__line__", 0))
    rid = raw.get("id")
    where = f"{file}:{line}: rule {rid!r}"
    unknown = set(raw) - _ALLOWED_KEYS - {"__line__"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}")
    if not isinstance(rid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", rid):
        raise ConfigError(f"{where}: 'id' must be lower-case letters, digits, '-' or '.'")
    for key in ("probe", "field", "pattern", "says", "weight", "source", "checked", "examples"):
        if key not in raw:
            raise ConfigError(f"{where}: missing '{key}'")
    ignore_case = bool(raw.get("ignore_case", False))
    regex = _compile(raw["pattern"], ignore_case, where)
    says = _check_says(raw["says"], regex, where)
    weight = _check_weight(raw["weight"], where)
    weights = dict.fromkeys(says, weight)
    for key, value in _strip_lines(raw.get("weights") or {}).items():
        if key not in says:
            raise ConfigError(f"{where}: weights.{key} names a field the rule does not say")
        weights[key] = _check_weight(value, where)
    surveillance = raw.get("surveillance")
    if surveillance is not None:
        surveillance = _check_weight(surveillance, where)
        if says.get("device_type") not in ("camera", "recorder", "encoder", "vms", VIDEO):
            raise ConfigError(f"{where}: 'surveillance' is for a rule that says a video "
                              "class (camera, recorder, encoder, vms or video)")
    source = raw["source"]
    if not isinstance(source, str) or len(source.strip()) < 10:
        raise ConfigError(f"{where}: 'source' must name the public source (repo+path+commit "
                          "or document+URL)")
    checked = raw["checked"]
    if not isinstance(checked, dt.date):
        raise ConfigError(f"{where}: 'checked' must be a date (YYYY-MM-DD)")
    also = _strip_lines(raw.get("also") or {})
    if not isinstance(also, dict):
        raise ConfigError(f"{where}: 'also' must map field names to regexes")
    also_c = tuple((str(k), _compile(v, ignore_case, where)) for k, v in also.items())
    absent = _as_tuple(raw["absent"], "absent", where) if raw.get("absent") else ()
    note = raw.get("note")
    return Rule(
        id=rid, probes=_as_tuple(raw["probe"], "probe", where),
        fields=_as_tuple(raw["field"], "field", where), regex=regex, says=says,
        weights=weights, source=source.strip(), checked=checked, file=file, line=line,
        also=also_c, absent=absent, examples=_check_examples(raw["examples"], where),
        note=note if isinstance(note, str) else None, surveillance=surveillance,
    )


def parse_rules_text(text: str, file: str) -> list[Rule]:
    """Parse one rules file; `file` names it in error messages."""
    try:
        doc = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        raise ConfigError(f"{file}:{line}: not valid YAML: "
                          f"{getattr(exc, 'problem', None) or exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise ConfigError(f"{file}:1: a rules file is a mapping with a 'rules' list")
    out = []
    for raw in doc["rules"]:
        if not isinstance(raw, dict):
            raise ConfigError(f"{file}: every item of 'rules' must be a mapping")
        out.append(_build_rule(raw, file))
    return out


def build_ruleset(files: Mapping[str, str]) -> RuleSet:
    """Rules from {file name: YAML text}; ids must be unique across files."""
    ruleset = RuleSet()
    seen: dict[str, str] = {}
    for name in sorted(files):
        for rule in parse_rules_text(files[name], name):
            if rule.id in seen:
                raise ConfigError(f"{name}:{rule.line}: rule id {rule.id!r} already used in "
                                  f"{seen[rule.id]}")
            seen[rule.id] = f"{name}:{rule.line}"
            ruleset.add(rule)
    return ruleset


def _rule_files(directory: Path | None) -> dict[str, str]:
    try:
        if directory is not None:
            return {p.name: p.read_text(encoding="utf-8")
                    for p in sorted(directory.glob("*.yaml"))}
        base = resources.files("camaudit.identify") / "rules"
        return {p.name: p.read_text(encoding="utf-8")
                for p in base.iterdir() if p.name.endswith(".yaml")}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read rules: {exc}") from exc


@lru_cache(maxsize=4)
def load_rules(directory: Path | None = None, *, recog: bool = True) -> RuleSet:
    """The built-in rules (or those of `directory`) and recog's, parsed and compiled once."""
    ruleset = build_ruleset(_rule_files(directory))
    if recog:
        from camaudit.identify.recog_rules import recog_rules

        for rule in recog_rules():
            ruleset.add(rule)
    return ruleset
