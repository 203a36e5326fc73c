"""The sites file: which networks each site's worker may scan, when, and how.

An organisation with many sites keeps one YAML file, read by every site worker, by the
scheduler and by ``camaudit audit``::

    sites:
      depot:
        scopes: [192.0.2.0/24, 198.51.100.10-40]   # addresses, networks or ranges
        exclude: [192.0.2.1]                       # never touched
        ports: 80,443,554,8000                     # default: the camera ports
        options: {rate: 200, connect_timeout: 1.0, probe_timeout: 3.0, thorough: false}
        schedule: "0 2 * * *"                      # cron (min hour day month weekday) or "every 6h"
        policies: [us-federal]                     # default: all
        credentials: depot-login                   # an entry of the worker's --credentials file
        shard_size: 4096                           # addresses per shard (a unit of work)

No secret lives here: ``credentials`` only *names* an entry under ``sites:`` of the
``--credentials`` file (see :mod:`camaudit.credentials`) kept, mode 0600, on the site's own
worker. Scopes are written out (no host names, no ``@file``), so every reader of the file
sees the same addresses. A site's name is also its queue, ``site.<name>``: a worker consumes
only its own, and the site's scope is its gate (:meth:`Site.outside`).

Every mistake is a :class:`ConfigError` of one line, ``file:line: site: what``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from camaudit.assess import load_policies
from camaudit.credentials import CredentialBook
from camaudit.errors import CamauditError, ConfigError, UsageError
from camaudit.knowledge import yamlio
from camaudit.pipeline import ScanOptions
from camaudit.scope import IPAddress, Scope
from camaudit.sweep import DEFAULT_PORTS, parse_ports

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
EVERY = re.compile(r"every\s+(\d+)\s*([smhd])", re.IGNORECASE)
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
#: The shortest interval a schedule may name: an audit more often than this is a typo.
MIN_INTERVAL = dt.timedelta(seconds=1)


class SiteOptions(BaseModel):
    """The scan options a site may set (the same meaning as ``camaudit scan``'s)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: Annotated[float, Field(ge=0)] = 0.0
    max_sockets: Annotated[int, Field(ge=1)] = 1024
    connect_timeout: Annotated[float, Field(ge=0.05)] = 1.0
    probe_timeout: Annotated[float, Field(ge=0.1)] = 3.0
    thorough: bool = False
    probes: bool = True


class Site(BaseModel):
    """One site: its networks, when and how to audit them, whose login to use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    scopes: Annotated[list[str], Field(min_length=1)]
    exclude: list[str] = []
    ports: list[int] = list(DEFAULT_PORTS)
    options: SiteOptions = SiteOptions()
    schedule: str | None = None
    policies: Annotated[list[str], Field(min_length=1)] = ["all"]
    credentials: str | None = None
    shard_size: Annotated[int, Field(ge=1, le=1 << 20)] = 4096

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.fullmatch(value):
            raise ValueError("a site name is letters, digits, '_', '.', '-' (at most 63), "
                             "starting with a letter or digit")
        return value

    @field_validator("scopes", "exclude")
    @classmethod
    def _targets(cls, value: list[str]) -> list[str]:
        for spec in value:
            if spec.strip().startswith("@"):
                raise ValueError(f"{spec!r}: write the networks out (no @file in a sites file)")
        return value

    @field_validator("ports", mode="before")
    @classmethod
    def _ports(cls, value: Any) -> Any:
        if isinstance(value, str | int) and not isinstance(value, bool):
            try:
                return parse_ports(str(value))
            except CamauditError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("ports")
    @classmethod
    def _port_numbers(cls, value: list[int]) -> list[int]:
        bad = [port for port in value if not 1 <= port <= 65535]
        if bad or not value:
            raise ValueError(f"ports are 1-65535, at least one ({bad[0] if bad else 'none'})")
        return sorted(set(value))

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None:
            parse_schedule(value)
        return value

    @property
    def queue(self) -> str:
        """The broker queue of this site's shards; only its own workers consume it."""
        return f"site.{self.name}"

    def scope(self) -> Scope:
        """The site's scope: what its workers may touch (no name is ever resolved)."""
        return Scope(self.scopes, self.exclude, resolver=_no_names)

    def scan_options(self) -> ScanOptions:
        return ScanOptions(ports=list(self.ports), policies=list(self.policies), site=self.name,
                           **self.options.model_dump())

    def logins(self, book: CredentialBook | None) -> CredentialBook | None:
        """The worker's logins with this site's named entry as the default.

        A device or network entry of the file still wins (most specific first); the
        site's entry is what every other host of the site gets.
        """
        if self.credentials is None:
            return book
        if book is None or self.credentials not in book.sites:
            raise UsageError(f"site {self.name} uses the login {self.credentials!r}: give a "
                             "--credentials file with that entry under 'sites:'")
        return CredentialBook(default=book.sites[self.credentials], sites={},
                              networks=book.networks)

    def outside(self, scope: Scope) -> list[str]:
        """The networks of `scope` (an audit's) that this site's workers may not touch."""
        return scope.outside(self.scope())


def parse_schedule(text: str) -> dt.timedelta | dict[str, str]:
    """``every 6h`` -> a timedelta; a 5-field cron line -> crontab fields (checked by Celery)."""
    match = EVERY.fullmatch(text.strip())
    if match:
        every = dt.timedelta(**{UNITS[match[2].lower()]: int(match[1])})
        if every < MIN_INTERVAL:
            raise ValueError(f"{text!r}: an interval must be at least {MIN_INTERVAL}")
        return every
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"{text!r}: give a cron line 'min hour day month weekday' "
                         "or an interval such as 'every 6h' (s, m, h, d)")
    cron = dict(zip(("minute", "hour", "day_of_month", "month_of_year", "day_of_week"),
                    fields, strict=True))
    from celery.schedules import crontab

    try:
        crontab(**cron)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    return cron


def _no_names(name: str) -> list[IPAddress]:
    raise UsageError(f"{name!r}: a sites file names addresses, networks or ranges, "
                     "not host names")


class Sites:
    """Every site of one sites file, by name."""

    def __init__(self, path: str | Path, sites: dict[str, Site]) -> None:
        self.path = str(path)
        self.by_name = sites

    def __iter__(self) -> Any:
        return iter(self.by_name.values())

    def __getitem__(self, name: str) -> Site:
        try:
            return self.by_name[name]
        except KeyError:
            known = ", ".join(sorted(self.by_name)) or "none"
            raise UsageError(f"no site {name!r} in {self.path} (sites: {known})") from None


def load(path: str | Path) -> Sites:
    """Read and check a sites file; the first mistake is a one-line ConfigError."""
    origin = str(path)
    doc = yamlio.load(path)
    where = yamlio.Where(origin)
    if not isinstance(doc, yamlio.LDict) or set(doc) != {"sites"}:
        raise where.error(doc, None, "expected one key, 'sites', mapping each site's name "
                          "to its scopes, schedule, policies, ...")
    nodes = where.mapping(doc["sites"], "sites", "'sites'")
    sites: dict[str, Site] = {}
    for name, node in nodes.items():
        node = where.mapping(node, None, f"site {name}") if node is not None else node
        if node is None:
            raise where.error(nodes, name, f"site {name}: needs at least 'scopes'")
        if "name" in node:
            raise where.error(node, "name", f"site {name}: the key above is the site's name")
        try:
            site = Site.model_validate({"name": name, **node})
        except ValidationError as exc:
            raise _one_error(where, name, node, exc) from None
        try:
            if not site.scope().size:
                raise UsageError("its scopes hold no address once the exclusions are taken out")
        except CamauditError as exc:
            raise where.error(node, "scopes", f"site {name}: {exc}") from exc
        try:
            load_policies(site.policies)
        except CamauditError as exc:
            raise where.error(node, "policies", f"site {name}: {exc}") from exc
        sites[name] = site
    if not sites:
        raise where.error(doc, "sites", "no site in the file")
    return Sites(origin, sites)


def _one_error(where: yamlio.Where, name: str, node: yamlio.LDict,
               exc: ValidationError) -> ConfigError:
    """Pydantic's first complaint as ``file:line: site NAME: key: what``."""
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif first["type"] == "missing":
        return where.error(node, None, f"site {name}: missing required key {loc[-1]!r}")
    parent: Any = node  # walk to the innermost node holding the bad value, for its line
    for part in loc[:-1]:
        if isinstance(parent, dict) and part in parent:
            parent = parent[part]
        elif isinstance(parent, list) and part.isdigit() and int(part) < len(parent):
            parent = parent[int(part)]
    key: str | int = int(loc[-1]) if loc[-1].isdigit() else loc[-1]
    return where.error(parent, key, f"site {name}: {'.'.join(loc)}: {message}")
