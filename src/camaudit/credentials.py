"""Device logins the operator keeps in a file: per device or network, per site, or one default.

``scan --credentials FILE`` reads a YAML file the operator controls::

    default: {user: admin, password_env: CAMAUDIT_PASSWORD}   # a password, or where to find it
    sites:
      HQ: {user: audit, password: "..."}                       # the scan's --site
    devices:
      192.0.2.7: {user: admin, password_env: CAM7_PASSWORD}    # an address
      10.1.2.0/24: {user: viewer, password: "..."}             # or a network (most specific wins)

The file must not be readable or writable by anyone but its owner (mode 0600 or stricter,
checked before it is read): a password file others can read is refused. A host gets the
login of the most specific network holding its address, else its site's, else the default,
else the ``--user`` login. Logins live in memory only: never stored, logged or reported
(:class:`camaudit.probes.base.Credentials` keeps the password out of its repr), and an
error names the file and the entry, never a value.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from camaudit.errors import UsageError
from camaudit.probes.base import Credentials

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class CredentialBook:
    """Which login goes to which host (see the module doc)."""

    default: Credentials | None = field(default=None, repr=False)
    sites: Mapping[str, Credentials] = field(default_factory=dict, repr=False)
    networks: tuple[tuple[Network, Credentials], ...] = field(default=(), repr=False)

    def for_host(self, address: str, site: str | None = None) -> Credentials | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        if ip is not None:
            best = max((net for net, _ in self.networks
                        if net.version == ip.version and ip in net),
                       key=lambda net: net.prefixlen, default=None)
            if best is not None:
                return next(c for n, c in self.networks if n == best)
        if site is not None and site in self.sites:
            return self.sites[site]
        return self.default


def check_mode(path: Path) -> None:
    """Refuse a credentials file that others may read or write (POSIX permissions)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise UsageError(f"credentials file {path}: {exc.strerror or exc}") from exc
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(f"credentials file {path} is open to others (mode "
                         f"{stat.S_IMODE(mode):04o}); run: chmod 600 {path}")


def _login(where: str, node: Any, env: Mapping[str, str]) -> Credentials:
    if not isinstance(node, dict) or not isinstance(node.get("user"), str) or not node["user"]:
        raise UsageError(f"{where}: needs 'user' and 'password' or 'password_env'")
    if isinstance(node.get("password"), str):
        return Credentials(node["user"], node["password"])
    name = node.get("password_env")
    if isinstance(name, str) and name:
        if name not in env:
            raise UsageError(f"{where}: the environment variable {name} is not set")
        return Credentials(node["user"], env[name])
    raise UsageError(f"{where}: needs 'password' or 'password_env'")


def load(path: str | Path, env: Mapping[str, str] | None = None) -> CredentialBook:
    """The logins of `path`, after checking who may read it."""
    path = Path(path)
    env = os.environ if env is None else env
    check_mode(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeError, yaml.YAMLError) as exc:
        # the message of a YAML error may quote the file: say where only
        raise UsageError(f"credentials file {path}: not readable YAML "
                         f"({type(exc).__name__})") from None
    if not isinstance(doc, dict) or set(doc) - {"default", "sites", "devices"}:
        raise UsageError(f"credentials file {path}: expected the keys default, sites, devices")
    default = _login(f"{path}: default", doc["default"], env) if doc.get("default") else None
    sites = {str(name): _login(f"{path}: sites.{name}", node, env)
             for name, node in (doc.get("sites") or {}).items()}
    networks = []
    for name, node in (doc.get("devices") or {}).items():
        try:
            net = ipaddress.ip_network(str(name), strict=False)
        except ValueError:
            raise UsageError(f"{path}: devices.{name}: not an address or network") from None
        networks.append((net, _login(f"{path}: devices.{name}", node, env)))
    return CredentialBook(default, sites, tuple(networks))
