"""camaudit's own exceptions; the CLI turns each into one clear line and exit code 2.

    CamauditError
     ├── UsageError          bad option value, bad target list, missing file
     │    └── ScopeError     a target or exclusion that cannot be parsed or resolved
     ├── ConfigError         a policy, cost table or rules file that is wrong (file:line: what)
     ├── StoreError          the database cannot be opened, migrated or written
     ├── ResourceError       the machine cannot run the scan (file-descriptor limit, ...)
     ├── IngestError         a passive source that cannot be read (file and offset)
     ├── BrokerError         the message broker of site workers cannot be reached
     └── ParseError          a device reply that a sans-IO parser cannot read (offset, field)

Library exceptions (OSError, sqlalchemy, lxml, yaml) are translated into these
at one boundary per layer, chained with ``from exc``.
"""

from __future__ import annotations


class CamauditError(Exception):
    """Base of every error camaudit reports to the operator."""


class UsageError(CamauditError):
    pass


class ScopeError(UsageError):
    pass


class ConfigError(CamauditError):
    pass


class StoreError(CamauditError):
    pass


class ResourceError(CamauditError):
    pass


class IngestError(CamauditError):
    pass


class BrokerError(CamauditError):
    pass


class ParseError(CamauditError):
    """A parser stopped; the message says where (offset or field) and why."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message if offset is None else f"{message} (at offset {offset})")
        self.offset = offset
