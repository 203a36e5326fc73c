"""Matcher: run the rules over one observation and say what each hit claims.

Pure and cheap: regexes are compiled once by :mod:`rules`, an observation is
only tested against the rules indexed under its (probe, field) pairs, a rule
whose required literal is not in a value is not run on it, and every value is
capped before matching so that a hostile device cannot make identification
slow. List fields (ONVIF scopes, HTTP headers, TLS SANs) are matched item by
item. Derived fields (:data:`DERIVED`, names starting with ``~``) give rule
sets that match whole protocol strings (recog: the full WWW-Authenticate value,
an FTP greeting without its reply code) their input. What the rules find in a short
value rests on the value alone and is remembered (an estate repeats its titles, Server
headers and realms); only the normal forms are worked out again for each hit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import unquote

from camaudit.identify.normalise import normalise
from camaudit.identify.rules import RAW_FIELD, RAW_TEXT_CAP, Bucket, Rule, RuleSet, fold
from camaudit.model import Observation
from camaudit.probes.banner import strip_telnet

#: Longest field value a rule looks at (bodies are 4 KiB by contract; headroom).
VALUE_CAP = 8 * 1024
#: Values (of one field, together) up to this many characters are remembered with what
#: the rules find in them (:func:`_candidates`, :func:`_several_found`), in two memos of
#: at most MEMO_MAX entries each, emptied when full: a few MB at most.
MEMO_VALUE_CAP = 1024
MEMO_MAX = 4096
_TEMPLATE = re.compile(r"\{(\w+|f:\w+)(\|uri)?\}")


@dataclass(frozen=True)
class Hit:
    """One rule matching one value of one observation."""

    rule: Rule
    observation: Observation
    field: str  # the field whose value matched
    value: str  # the (capped) value that matched
    says: dict[str, str]  # device field -> normalised value

    def weight(self, device_field: str) -> float:
        return self.rule.weights.get(device_field, 0.0)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value[:VALUE_CAP].decode("utf-8", "replace")
    return str(value)[:VALUE_CAP]


def _header(name: str) -> Callable[[dict[str, Any], bytes], list[str]]:
    prefix = name.casefold() + ":"

    def values(fields: dict[str, Any], _raw: bytes) -> list[str]:
        headers = fields.get("headers")
        items = headers if isinstance(headers, list) else []
        return [str(h)[len(prefix):].strip() for h in items[:256]
                if str(h).casefold().startswith(prefix)]
    return values


_WWW_AUTHENTICATE = _header("WWW-Authenticate")


def _www_authenticate(fields: dict[str, Any], raw: bytes) -> list[str]:
    """The WWW-Authenticate values; rebuilt from scheme and realm when headers are not kept
    (nmap's http-auth output, a thread that quotes only the realm), RFC 7235 4.1 syntax."""
    found = _WWW_AUTHENTICATE(fields, raw)
    realm = fields.get("realm")
    if not found and "headers" not in fields and isinstance(realm, str):
        found = [f'{fields.get("auth_scheme") or "Basic"} realm="{realm}"']
    return found


def _favicon_md5(fields: dict[str, Any], _raw: bytes) -> list[str]:
    value = fields.get("favicon_md5")
    return [value.lower()] if isinstance(value, str) else []


def _greeting(service: str, strip: str = "",
              lines: int = 0) -> Callable[[dict[str, Any], bytes], list[str]]:
    """A server's greeting as it sent it (telnet negotiation removed; the tidied banner
    field when the raw bytes are not kept). With `strip`, CRLF line ends become LF, the
    first `lines` lines are kept (0: all) and what `strip` matches is cut from each."""
    cut = re.compile(strip, re.M) if strip else None

    def values(fields: dict[str, Any], raw: bytes) -> list[str]:
        banner = fields.get("banner")
        if fields.get("service") != service or not isinstance(banner, str):
            return []
        text = banner
        sent = strip_telnet(raw[:RAW_TEXT_CAP])[0].decode("utf-8", "replace") if raw else ""
        if sent.lstrip()[:8] == banner[:8]:  # the raw bytes are the greeting (not nmap's XML)
            text = sent
        if cut is not None:
            kept = text.replace("\r\n", "\n").rstrip("\r\n").split("\n")
            text = cut.sub("", "\n".join(kept[:lines] if lines else kept))
        return [text]
    return values


#: Derived fields: what a rule set that reads whole protocol strings matches on.
DERIVED: dict[str, Callable[[dict[str, Any], bytes], list[str]]] = {
    "~www_authenticate": _www_authenticate,
    "~set_cookie": _header("Set-Cookie"),
    "~x_powered_by": _header("X-Powered-By"),
    "~favicon_md5": _favicon_md5,
    "~ftp_banner": _greeting("ftp", r"^\d{3}[ -]"),  # RFC 959 4.2 reply code
    "~telnet_banner": _greeting("telnet"),
    "~ssh_banner": _greeting("ssh", r"^SSH-[\d.]+-", lines=1),  # RFC 4253 4.2 version line
}


def field_values(fields: dict[str, Any], name: str, raw: bytes = b"") -> list[str]:
    """The text values of field `name` (items of a list field; [] when absent)."""
    if name == RAW_FIELD:
        return [raw[:RAW_TEXT_CAP].decode("utf-8", "replace")] if raw else []
    if name in DERIVED:
        return [v[:VALUE_CAP] for v in DERIVED[name](fields, raw)]
    value = fields.get(name)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [_text(v) for v in value[:256] if v is not None]
    return [_text(value)]


def _fill(template: str, match: re.Match[str], fields: dict[str, Any]) -> str:
    def one(ref: re.Match[str]) -> str:
        key = ref.group(1)
        if key.startswith("f:"):
            values = field_values(fields, key[2:])
            text = values[0] if values else ""
        else:
            text = (match.group(int(key)) if key.isdigit() else match.group(key)) or ""
        # `{1|uri}`: a URI component (an ONVIF scope) is percent-decoded, RFC 3986 2.1
        return unquote(text, errors="replace") if ref.group(2) else text

    return _TEMPLATE.sub(one, template)


def _context(value: str, found: re.Match[str], room: int = 40) -> str:
    """The matched part of a long value with a little context, for evidence lines."""
    if len(value) <= 2 * room + 40:
        return value
    start, end = max(0, found.start() - room), min(len(value), found.end() + room)
    return ("…" if start else "") + value[start:end] + ("…" if end < len(value) else "")


class _View:
    """One observation's field values, each read (and folded) once for all rules."""

    def __init__(self, fields: dict[str, Any], raw: bytes) -> None:
        self.fields, self.raw = fields, raw
        self._values: dict[str, list[str]] = {}
        self._folded: dict[str, str] = {}

    def values(self, name: str) -> list[str]:
        found = self._values.get(name)
        if found is None:
            found = self._values[name] = field_values(self.fields, name, self.raw)
        return found

    def folded(self, name: str) -> str:
        """The field's values folded and joined: what a required literal is looked for in."""
        hay = self._folded.get(name)
        if hay is None:
            hay = self._folded[name] = "\0".join(fold(v) for v in self.values(name))
        return hay


def _conditions_hold(rule: Rule, view: _View) -> bool:
    for name in rule.absent:
        if any(v.strip() for v in view.values(name)):
            return False
    return all(any(regex.search(v) for v in view.values(name)) for name, regex in rule.also)


def _match(rule: Rule, view: _View, literals: tuple[str, ...] | None = None) -> tuple[
        str, str, dict[str, str]] | None:
    if not _conditions_hold(rule, view):
        return None
    for name in rule.fields:
        if literals is not None and not any(lit in view.folded(name) for lit in literals):
            continue
        for value in view.values(name):
            found = rule.regex.search(value)
            if found is None:
                continue
            says = {}
            for key, template in rule.says.items():
                filled = normalise(key, _fill(template, found, view.fields))
                if filled:
                    says[key] = filled
            if says:
                return name, _context(value, found), says
    return None


def match_fields(rule: Rule, fields: dict[str, Any], raw: bytes = b"") -> tuple[
        str, str, dict[str, str]] | None:
    """(field, value, says) of the first value `rule` matches in `fields`, or None.

    A hit whose every said value is empty after normalisation (an empty
    capture group) is no hit: it would say nothing.
    """
    return _match(rule, _View(fields, raw))


#: What a one-field rule found in a field's values, computed from the values alone: for
#: each value its regex finds something in, in order, the evidence context and the says
#: templates filled (not yet normalised: that reads the knowledge, which may be reloaded).
Found = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


class Candidates(NamedTuple):
    """What a bucket's rules make of one field's values (:func:`_candidates`); a named
    tuple, as one is made for every value the memo has not seen."""

    #: One-field rules whose regex finds something, in index order; with what it found
    #: when the rule reads nothing but this field (no also/absent, no {f:} template).
    one: tuple[tuple[Rule, Found | None], ...]
    #: Rules of several fields that pass the literal prefilter on this field.
    several: tuple[tuple[Rule, tuple[str, ...] | None], ...]
    #: The fields read by those of them whose outcome rests on these fields alone.
    reads: tuple[str, ...] = ()


_NONE = Candidates((), ())


def _found(rule: Rule, values: list[str]) -> Found:
    out = []
    for value in values:
        found = rule.regex.search(value)
        if found is not None:
            filled = tuple((key, _fill(template, found, {})) for key, template in rule.says.items())
            out.append((_context(value, found), filled))
    return tuple(out)


def _candidates(ruleset: RuleSet, key: tuple[str, str], bucket: Bucket, values: list[str],
                view: _View) -> Candidates:
    """The rules of `bucket` worth trying on `values`, in index order: one-field rules
    whose regex finds something (those without a literal, and those whose literal is
    in a value), and several-field rules without a literal or with one in a value.

    It depends on the values alone, and in an estate they repeat (every camera of a
    model sends the same title, Server header and realm): short values are remembered
    in the rule set's memo (:attr:`RuleSet.memo`), so a repeat costs one lookup.
    """
    if not values:
        return _NONE
    remember = sum(map(len, values)) <= MEMO_VALUE_CAP
    memo_key = (key, tuple(values))
    if remember and (known := ruleset.memo.get(memo_key)) is not None:
        return known
    candidates = list(bucket.plain)
    hay = view.folded(key[1]) if bucket.literal or bucket.any_of or bucket.several else ""
    if bucket.literal or bucket.any_of:
        candidates += [rule for literal, rule in bucket.literal if literal in hay]
        candidates += [rule for lits, rule in bucket.any_of if any(lit in hay for lit in lits)]
    one: list[tuple[Rule, Found | None]] = []
    for rule in candidates:
        if rule.value_only:
            found = _found(rule, values)
            if found:
                one.append((rule, found))
        elif any(rule.regex.search(v) for v in values):
            one.append((rule, None))
    several = tuple((rule, literals) for rule, literals in bucket.several
                    if literals is None or any(lit in hay for lit in literals))
    reads = dict.fromkeys(name for rule, _ in several if rule.value_only for name in rule.fields)
    result = Candidates(tuple(one), several, tuple(reads))
    if remember:
        if len(ruleset.memo) >= MEMO_MAX:
            ruleset.memo.clear()
        ruleset.memo[memo_key] = result
    return result


#: What each rule of several fields found, in :attr:`Candidates.several` order: for a
#: value-only rule, each of its fields that passes its prefilter (in the rule's order)
#: with what it found there; None for a rule that reads more (it is matched each time).
SeveralFound = tuple[tuple[tuple[str, Found], ...] | None, ...]


def _several_found(ruleset: RuleSet, key: tuple[str, str], candidates: Candidates,
                   view: _View) -> SeveralFound:
    """What the several-field rules worth trying on this field find in all their fields.

    It depends on the values of the fields they read alone (a model grammar reads the
    model and every scope of each WS-Discovery reply), and is remembered as
    :func:`_candidates` remembers one field.
    """
    if not candidates.reads:  # none reads only its fields (the memo key holds this field)
        return (None,) * len(candidates.several)
    values = tuple(tuple(view.values(name)) for name in candidates.reads)
    remember = sum(len(v) for own in values for v in own) <= MEMO_VALUE_CAP
    memo_key = (key, values)
    if remember and (known := ruleset.several_memo.get(memo_key)) is not None:
        return known
    found = tuple(
        tuple((name, seen) for name in rule.fields
              if literals is None or any(lit in view.folded(name) for lit in literals)
              if (seen := _found(rule, view.values(name))))
        if rule.value_only else None
        for rule, literals in candidates.several)
    if remember:
        if len(ruleset.several_memo) >= MEMO_MAX:
            ruleset.several_memo.clear()
        ruleset.several_memo[memo_key] = found
    return found


def _first_saying(name: str, found: Found) -> tuple[str, str, dict[str, str]] | None:
    """As :func:`_match` for a rule that reads only this field, from what it found."""
    for context, filled in found:
        says = {}
        for key, text in filled:
            value = normalise(key, text)
            if value:
                says[key] = value
        if says:
            return name, context, says
    return None


def _first_saying_of(fields_found: tuple[tuple[str, Found], ...]
                     ) -> tuple[str, str, dict[str, str]] | None:
    """As :func:`_match` for a rule of several fields that reads only them."""
    for name, found in fields_found:
        said = _first_saying(name, found)
        if said is not None:
            return said
    return None


def match_observation(ruleset: RuleSet, obs: Observation) -> list[Hit]:
    """Every rule hit on `obs` (one hit per rule at most).

    Each field's values are read and folded once; a one-field rule whose required
    literal is in none of them is passed over in one sweep (most of recog's
    thousands of rules, on most values), and a rule's regex runs only then.
    """
    buckets = ruleset.by_probe.get(obs.probe)
    if buckets is None:
        return []
    fields = obs.fields if isinstance(obs.fields, dict) else {}
    view = _View(fields, obs.raw)
    names = [*fields, *ruleset.derived.get(obs.probe, ())]
    if obs.raw:
        names.append(RAW_FIELD)
    hits: list[Hit] = []
    tried: set[str] = set()  # rules of several fields are indexed under each of them
    for name in [name for name in names if name in buckets]:
        key, bucket = buckets[name]
        candidates = _candidates(ruleset, key, bucket, view.values(name), view)
        for rule, seen in candidates.one:
            found = _match(rule, view) if seen is None else _first_saying(name, seen)
            if found is not None:
                hits.append(Hit(rule, obs, found[0], found[1], found[2]))
        # One that fails the prefilter here may still match under another of its fields,
        # indexed there too.
        if not candidates.several:
            continue
        several = _several_found(ruleset, key, candidates, view)
        for (rule, literals), fields_found in zip(candidates.several, several, strict=True):
            if rule.id in tried:
                continue
            tried.add(rule.id)
            found = (_match(rule, view, literals) if fields_found is None
                     else _first_saying_of(fields_found))
            if found is not None:
                hits.append(Hit(rule, obs, found[0], found[1], found[2]))
    return hits
