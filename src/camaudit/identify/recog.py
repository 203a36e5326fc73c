"""rapid7/recog fingerprint databases: recog's XML format, read and matched as recog means it.

recog (https://github.com/rapid7/recog, BSD-2-Clause) is a curated set of
regular expressions over single protocol strings (an HTTP Server header, an
HTML title, a certificate subject, an FTP greeting ...), each with the facts
it establishes (``hw.vendor``, ``hw.device``, ``os.version`` ...) and real
examples. camaudit ships a pinned copy, unchanged, in ``camaudit/vendor/recog``
(its ``SOURCE`` names the commit). This module knows only recog's format and
semantics; :mod:`recog_rules` maps recog's answers onto camaudit's device fields.

What recog means, as documented in its README ("Fingerprints") and
``xml/fingerprints.xsd``, and as its reference matcher rapid7/recog-ruby (whose
CI verifies every example) implements it:

- ``pattern`` is a *Ruby* regular expression, searched (not anchored). Ruby
  differs from Python where it matters here: ``^``/``$`` always match at line
  breaks (Python: ``re.MULTILINE``); Ruby's ``m`` option - and recog's flags
  ``REG_DOT_NEWLINE``/``REG_MULTILINE`` that map to it - lets ``.`` match a
  newline (Python: ``re.DOTALL``; an inline ``(?m)`` becomes ``(?s)``); an inline
  option group may stand anywhere and holds to the end of its group (Python 3.11
  wants global flags first: they become a scoped group); ``\\h`` is a hex digit,
  ``\\z`` the very end, ``(?<name>...)`` a named group.
- ``param pos="0"`` gives a fixed value, which may interpolate another param as
  ``{name}``; ``pos="N"`` takes capture group N. Params named ``_tmp.*`` serve
  interpolation only. A ``*.cpe23`` value whose ``{*.version}`` was not captured
  gets ``-`` (the CPE "not applicable"), as recog-ruby does.
- every ``example`` must match; its attributes name params whose extracted value
  must be equal. ``_encoding="base64"`` examples are decoded; ``_filename`` names a
  file in the folder ``xml/<database>/``.

A database that cannot be read or a pattern that cannot be translated is a
:class:`camaudit.errors.ConfigError` naming the file and line.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

from lxml import etree

from camaudit.errors import ConfigError
from camaudit.knowledge.paths import user_dir

#: The pinned copy shipped with camaudit (unchanged upstream files; SOURCE names the commit).
VENDORED = Path(__file__).resolve().parent.parent / "vendor" / "recog"

#: recog flag names -> Python flags (recog-ruby's FLAG_MAP: the first two are Ruby's `m`).
FLAGS: dict[str, int] = {
    "REG_DOT_NEWLINE": re.DOTALL, "REG_MULTILINE": re.DOTALL,
    "REG_LINE_ANY_CRLF": re.DOTALL, "REG_ICASE": re.IGNORECASE,
}
#: Largest database file read (the biggest upstream file is ~0.5 MB).
MAX_FILE = 8 * 1024 * 1024
_INTERPOLATION = re.compile(r"\{([^\s{}]+)\}")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_comments=True)


@dataclass(frozen=True)
class Param:
    name: str
    pos: int
    value: str  # fixed value (pos 0), possibly with {interpolations}; "" for captures


@dataclass(frozen=True)
class Example:
    text: str
    expect: dict[str, str]  # param name -> the value recog says it extracts


@dataclass(frozen=True)
class Fingerprint:
    database: str  # file stem, e.g. "http_servers"
    index: int  # 1-based position in its file
    line: int
    description: str
    pattern: str  # as written in recog (Ruby syntax)
    flags: str
    regex: re.Pattern[str]  # translated to Python
    params: tuple[Param, ...]
    examples: tuple[Example, ...]

    @property
    def id(self) -> str:
        return f"recog:{self.database}:{self.index}"

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def match(self, text: str) -> dict[str, str] | None:
        """recog's answer for `text`: param name -> value (None when the pattern misses)."""
        found = self.regex.search(text)
        if found is None:
            return None
        return extract(self.params, found)


@dataclass(frozen=True)
class Database:
    name: str  # file stem
    matches: str  # recog's `matches` key, e.g. "http_header.server"
    protocol: str
    fingerprints: tuple[Fingerprint, ...]


def extract(params: tuple[Param, ...], found: re.Match[str]) -> dict[str, str]:
    """Param values from one regex match, with interpolation (recog-ruby Fingerprint#match)."""
    values: dict[str, str] = {}
    for p in params:
        if p.pos == 0:
            values[p.name] = p.value
        elif p.pos <= (found.re.groups or 0) and found.group(p.pos) is not None:
            values[p.name] = found.group(p.pos)
    for p in params:
        if p.pos == 0 and "{" in p.value:
            values[p.name] = _INTERPOLATION.sub(partial(_interpolate, p.name, values=values),
                                                p.value).strip()
    return {k: v for k, v in values.items() if not k.startswith("_tmp.")}


def _interpolate(name: str, ref: re.Match[str], *, values: dict[str, str]) -> str:
    key = ref.group(1)
    if key in values:
        return values[key]
    if name.endswith(".cpe23") and key.endswith(".version"):
        return "-"
    return ref.group(0)


# --- Ruby regex -> Python regex ------------------------------------------------------

_POSIX = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z",
          "lower": "a-z", "space": r"\s", "xdigit": "0-9a-fA-F", "print": r"\x20-\x7e",
          "punct": r"!-/:-@\[-`{-~", "word": r"\w", "cntrl": r"\x00-\x1f\x7f"}
_OPTION_GROUP = re.compile(r"\(\?([imx]*)(?:-([imx]*))?([:)])")


def translate(pattern: str) -> str:
    """A Ruby regex in Python syntax (see the module docstring for what differs)."""
    out: list[str] = []
    closers: list[int] = []  # per open group: scoped option groups to close with it
    tail = 0  # scoped option groups opened outside any group: closed at the end
    i, n, in_class = 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            out.append(_escape(pattern[i + 1], in_class, pattern[i:i + 2]))
            i += 2
            continue
        if in_class:
            posix = re.match(r"\[:(\w+):\]", pattern[i:])
            if posix and posix.group(1) in _POSIX:
                out.append(_POSIX[posix.group(1)])
                i += posix.end()
                continue
            in_class = ch != "]"
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            opening = "[^" if pattern.startswith("[^", i) else "["
            out.append(opening)
            i += len(opening)
            if i < n and pattern[i] == "]":  # a leading ']' is a literal
                out.append("\\]")
                i += 1
            in_class = True
            continue
        if ch == "(":
            option = _OPTION_GROUP.match(pattern, i)
            named = re.match(r"\(\?<([A-Za-z_]\w*)>", pattern[i:])
            if option and (option.group(1) or option.group(2) is not None):
                on = option.group(1).replace("m", "s")
                off = (option.group(2) or "").replace("m", "s")
                flags = on + (f"-{off}" if off else "")
                i = option.end()
                if option.group(3) == ":":
                    out.append(f"(?{flags}:")
                    closers.append(0)
                elif not out and not off:
                    out.append(f"(?{flags})")  # leading global flags: Python takes them
                else:  # holds to the end of the enclosing group
                    out.append(f"(?{flags}:")
                    if closers:
                        closers[-1] += 1
                    else:
                        tail += 1
                continue
            if named:
                out.append(f"(?P<{named.group(1)}>")
                i += named.end()
            else:
                out.append("(")
                i += 1
            closers.append(0)
            continue
        if ch == ")":
            out.append(")" * (closers.pop() if closers else 0) + ")")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out) + ")" * tail


def _escape(char: str, in_class: bool, written: str) -> str:
    """Ruby escapes that Python spells differently."""
    if char == "h":
        return "0-9a-fA-F" if in_class else "[0-9a-fA-F]"
    if in_class:
        return written
    return {"H": "[^0-9a-fA-F]", "z": r"\Z", "Z": r"(?=\n?\Z)"}.get(char, written)


def compile_pattern(pattern: str, flags: str = "") -> re.Pattern[str]:
    """recog's pattern and flags attribute as a compiled Python regex; re.error if invalid."""
    value = re.MULTILINE
    for name in filter(None, re.split(r"[|,\s]+", flags)):
        value |= FLAGS.get(name, 0)
    return re.compile(translate(pattern.replace("\\u0000", "\\x00")), value)


def recog_dir() -> Path:
    """The recog copy in use: the operator's `camaudit update --recog`, else the vendored one."""
    updated = user_dir() / "recog"
    return updated if (updated / "SOURCE").is_file() else VENDORED


@lru_cache(maxsize=1)
def _vendors() -> dict[str, str]:
    try:
        text = (recog_dir() / "identifiers" / "vendor.txt").read_text("utf-8")
    except OSError:
        return {}
    out: dict[str, str] = {}
    for name in text.splitlines():
        if name.strip():
            out.setdefault(_squash(name), name.strip())
    return out


def _squash(name: str) -> str:
    return re.sub(r"[\s.,\-_/()]+", "", name.casefold())


def vendor_name(name: str) -> str | None:
    """recog's spelling of a vendor in its vocabulary (identifiers/vendor.txt), or None."""
    return _vendors().get(_squash(name))


# --- reading databases ----------------------------------------------------------------

def _example(element: etree._Element, example_dir: Path, where: str) -> Example:
    attrs = {str(k): str(v) for k, v in element.attrib.items()}
    text = element.text or ""
    filename = attrs.pop("_filename", None)
    if filename is not None:
        path = (example_dir / filename).resolve()
        if example_dir.resolve() not in path.parents:
            raise ConfigError(f"{where}: example file {filename!r} is outside {example_dir}")
        try:
            text = path.read_bytes()[:MAX_FILE].decode("utf-8", "replace")
        except OSError as exc:
            raise ConfigError(f"{where}: example file {filename!r}: {exc.strerror}") from exc
    if attrs.pop("_encoding", None) == "base64":
        try:
            text = base64.b64decode("".join(text.split()), validate=True).decode(
                "utf-8", "replace")
        except (binascii.Error, ValueError) as exc:
            raise ConfigError(f"{where}: example is not valid base64") from exc
    return Example(text=text, expect=attrs)


def parse_database(data: bytes, name: str, example_dir: Path | None = None) -> Database:
    """One recog XML file (its stem is `name`); ConfigError with file:line on anything wrong."""
    file = f"{name}.xml"
    if len(data) > MAX_FILE:
        raise ConfigError(f"{file}: {len(data)} bytes is more than a recog database holds")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"{file}:{exc.lineno}: not valid XML: {exc.msg}") from exc
    if root.getroottree().docinfo.doctype or root.tag != "fingerprints":
        raise ConfigError(f"{file}:1: not a recog database (<fingerprints> without a DTD)")
    examples_at = example_dir if example_dir is not None else Path(name)
    out: list[Fingerprint] = []
    for index, node in enumerate(root.iter("fingerprint"), start=1):
        where = f"{file}:{node.sourceline}"
        pattern, flags = node.get("pattern"), node.get("flags") or ""
        if not pattern:
            raise ConfigError(f"{where}: fingerprint without a pattern")
        try:
            regex = compile_pattern(pattern, flags)
        except re.error as exc:
            raise ConfigError(f"{where}: pattern cannot be read as a regex: {exc}") from exc
        params = []
        for p in node.iter("param"):
            try:
                pos = int(p.get("pos") or "")
            except ValueError as exc:
                raise ConfigError(f"{file}:{p.sourceline}: param pos is not a number") from exc
            if pos > regex.groups or pos < 0:
                raise ConfigError(f"{file}:{p.sourceline}: param {p.get('name')!r} uses group "
                                  f"{pos}; the pattern has {regex.groups}")
            params.append(Param(str(p.get("name") or ""), pos, str(p.get("value") or "")))
        examples = tuple(_example(e, examples_at, f"{file}:{e.sourceline}")
                         for e in node.iter("example"))
        out.append(Fingerprint(
            database=name, index=index, line=int(node.sourceline or 0),
            description=" ".join((node.findtext("description") or "").split()),
            pattern=pattern, flags=flags, regex=regex, params=tuple(params),
            examples=examples))
    return Database(name=name, matches=root.get("matches") or name,
                    protocol=root.get("protocol") or "", fingerprints=tuple(out))


def load_database(path: Path) -> Database:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_database(data, path.stem, path.parent / path.stem)


def verify(fingerprint: Fingerprint) -> list[str]:
    """What is wrong with a fingerprint's examples, as recog's own verifier would say it."""
    problems = []
    for example in fingerprint.examples:
        shown = example.text[:80].encode("unicode_escape").decode("ascii")
        got = fingerprint.match(example.text)
        if got is None:
            problems.append(f"{fingerprint.id} ({fingerprint.description}): does not match "
                            f"its example {shown!r}")
            continue
        for key, want in example.expect.items():
            if got.get(key) != want:
                problems.append(f"{fingerprint.id} ({fingerprint.description}): example "
                                f"{shown!r} gives {key}={got.get(key)!r}, expected {want!r}")
    return problems
