"""YAML that remembers where each value came from, so errors can say ``file:line: what``.

Knowledge files and policy files are written by people; when one is wrong the
operator must be told the file, the line and what is wrong, not shown a
traceback. This module is the one boundary where PyYAML's exceptions become
:class:`camaudit.errors.ConfigError` (chained with ``from exc``).

Mappings load as :class:`LDict` and sequences as :class:`LList`: ordinary dicts
and lists that also carry the 1-based line of the node and of each key/item.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from camaudit.errors import ConfigError


class LDict(dict[str, Any]):
    """A mapping with the line of the mapping (``line``) and of each key (``lines``)."""

    line: int = 0
    lines: dict[str, int]


class LList(list[Any]):
    """A sequence with the line of the sequence (``line``) and of each item (``lines``)."""

    line: int = 0
    lines: list[int]


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds LDict/LList with line numbers."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LDict:
    out = LDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool | date):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value", key_node.start_mark)
        key = str(key)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LList:
    out = LList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def loads(text: str, origin: str) -> Any:
    """Parse YAML text; a syntax error becomes ``ConfigError('origin:line: ...')``."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        what = exc.problem or exc.context or "not valid YAML"
        raise ConfigError(f"{origin}:{line}: {what}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML ({exc})") from exc


def load(path: str | Path) -> Any:
    """Read and parse a YAML file; unreadable files become ConfigError too."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read ({exc})") from exc
    return loads(text, str(p))


class Where:
    """Builds ``origin:line: what`` messages for one file."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def error(self, node: Any, key: str | int | None, what: str) -> ConfigError:
        """An error at `key` of `node` (or at the node itself when key is None)."""
        line = getattr(node, "line", 0)
        if isinstance(node, LDict) and isinstance(key, str):
            line = node.lines.get(key, line)
        elif isinstance(node, LList) and isinstance(key, int) and 0 <= key < len(node.lines):
            line = node.lines[key]
        return ConfigError(f"{self.origin}:{line}: {what}")

    def mapping(self, node: Any, key: str | int | None, what: str) -> LDict:
        if not isinstance(node, LDict):
            raise self.error(node, key, f"{what} must be a mapping")
        return node

    def item(self, parent: Any, index: int, what: str) -> LDict:
        """Item `index` of a sequence, which must be a mapping."""
        node = parent[index]
        if not isinstance(node, LDict):
            raise self.error(parent, index, f"{what} must be a mapping")
        return node

    def check_keys(self, node: LDict, allowed: set[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.error(node, key, f"unknown key {key!r} in {what} (known: {known})")

    def string(self, node: LDict, key: str, *, required: bool = True) -> str | None:
        value = node.get(key)
        if value is None:
            if required:
                raise self.error(node, None, f"missing required key {key!r}")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.error(node, key, f"{key!r} must be text")
        text = str(value).strip()
        if required and not text:
            raise self.error(node, key, f"{key!r} must not be empty")
        return text

    def strings(self, node: LDict, key: str) -> list[str]:
        value = node.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(node, key, f"{key!r} must be a list of text")
        return [v.strip() for v in value]

    def day(self, node: LDict, key: str, *, required: bool = True) -> date | None:
        value = node.get(key)
        if value is None:
            if required:
                raise self.error(node, None, f"missing required key {key!r} (a date YYYY-MM-DD)")
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.error(node, key, f"{key!r} must be a date YYYY-MM-DD, "
                             f"not {value!r}") from None
