"""What the web console keeps beside the scans: accounts, sessions, API tokens, the audit
log, notes, removal status, unit costs and encrypted device credentials.

Tables share the scan tables' metadata (migration 0004 creates them). Secrets never
reach these tables in the clear: passwords as argon2 hashes, session ids and API tokens
as SHA-256 (they are long random strings, so a fast hash suffices), device credentials
as Fernet tokens whose key lives outside the database (``web/security.py``).
Every write that changes what an auditor relies on (a removal status, a cost, a user)
also appends to the audit log, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Connection

from camaudit.errors import UsageError
from camaudit.model import utcnow
from camaudit.store.db import Store, _utc
from camaudit.store.schema import metadata

ROLES: tuple[str, ...] = ("viewer", "auditor", "admin")
REMOVAL_STATUSES: tuple[str, ...] = ("planned", "replaced", "accepted")

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("sites", JSON),  # null: every site; else the site names this user may read
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # shown in lists; not enough to use
    Column("created", DateTime(timezone=True), nullable=False),
    Column("last_used", DateTime(timezone=True)),
    Column("revoked", DateTime(timezone=True)),
)

sessions = Table(
    "sessions", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("csrf", String(64), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
    Column("revoked", DateTime(timezone=True)),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("user_name", String(64)),
    Column("action", String(64), nullable=False),
    Column("target", Text),
    Column("detail", JSON, nullable=False),
    Column("client", String(64)),
)

notes = Table(
    "notes", metadata,
    Column("id", Integer, primary_key=True),
    Column("device_key", Text, nullable=False),
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="SET NULL")),
    Column("address", String(64), nullable=False),
    Column("author", String(64), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_notes_device_key", "device_key"),
)

removal_status = Table(
    "removal_status", metadata,
    Column("id", Integer, primary_key=True),
    Column("device_key", Text, nullable=False),
    Column("scan_id", Integer, ForeignKey("scans.id", ondelete="SET NULL")),
    Column("address", String(64), nullable=False),
    Column("site", String(200)),
    Column("status", String(16), nullable=False),  # planned | replaced | accepted
    Column("reason", Text),
    Column("expires", Date),  # accepted only: the allow-list entry lapses then
    Column("who", String(64), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Index("ix_removal_status_device_key", "device_key"),
)

unit_costs = Table(
    "unit_costs", metadata,
    Column("id", Integer, primary_key=True),
    Column("device_class", String(16), nullable=False),
    Column("replace_with", Text, nullable=False),
    Column("hardware", Float, nullable=False),
    Column("labour", Float, nullable=False),
    Column("who", String(64), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
)

device_credentials = Table(
    "device_credentials", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("secret", LargeBinary, nullable=False),  # Fernet token of {"username", "password"}
    Column("who", String(64), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    sites: tuple[str, ...] | None  # None: every site
    password_hash: str
    disabled: bool

    @classmethod
    def from_row(cls, row: Any) -> User:
        sites = row["sites"]
        return cls(row["id"], row["name"], row["role"],
                   tuple(sites) if sites is not None else None,
                   row["password_hash"], bool(row["disabled"]))


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires: dt.datetime


@dataclass(frozen=True)
class RemovalMark:
    device_key: str
    status: str
    reason: str | None
    expires: dt.date | None
    who: str
    time: dt.datetime

    @property
    def lapsed(self) -> bool:
        """An acceptance past its expiry no longer holds: the device is to be planned again."""
        return (self.status == "accepted" and self.expires is not None
                and self.expires < utcnow().date())


class Console:
    """The console's records in one store; every method is one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _log(self, conn: Connection, user: str | None, action: str, target: str | None,
             detail: dict[str, Any] | None = None, client: str | None = None) -> None:
        conn.execute(audit_log.insert().values(
            time=utcnow(), user_name=user, action=action, target=target,
            detail=detail or {}, client=client))

    def log(self, user: str | None, action: str, target: str | None = None,
            detail: dict[str, Any] | None = None, client: str | None = None) -> None:
        with self.store._tx("writing the audit log") as conn:
            self._log(conn, user, action, target, detail, client)

    def audit_log(self, limit: int = 200) -> list[dict[str, Any]]:
        with self.store._tx("reading the audit log") as conn:
            rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.id.desc())
                                .limit(limit)).mappings().all()
        return [{**r, "time": _utc(r["time"])} for r in rows]

    # -- users ---------------------------------------------------------------
    def user_count(self) -> int:
        with self.store._tx("counting users") as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar() or 0)

    def add_user(self, name: str, role: str, password_hash: str,
                 sites: list[str] | None = None, by: str | None = None) -> User:
        if role not in ROLES:
            raise UsageError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        with self.store._tx(f"adding user {name}") as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first():
                raise UsageError(f"there is already a user {name!r}")
            conn.execute(users.insert().values(
                name=name, role=role, sites=sites, password_hash=password_hash,
                disabled=False, created=utcnow()))
            self._log(conn, by, "user.add", name, {"role": role, "sites": sites})
        return self.user(name)

    def user(self, name: str) -> User:
        found = self.find_user(name)
        if found is None:
            raise UsageError(f"no user {name!r}")
        return found

    def find_user(self, name: str) -> User | None:
        with self.store._tx("reading a user") as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).mappings().first()
        return User.from_row(row) if row else None

    def users(self) -> list[User]:
        with self.store._tx("listing users") as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.name)).mappings().all()
        return [User.from_row(r) for r in rows]

    def set_password(self, name: str, password_hash: str) -> None:
        with self.store._tx("changing a password") as conn:
            conn.execute(users.update().where(users.c.name == name)
                         .values(password_hash=password_hash))

    def revoke(self, name: str, *, disable: bool = False, by: str | None = None) -> int:
        """Revoke every API token and session of `name` (and block its login if `disable`)."""
        user = self.user(name)
        now = utcnow()
        with self.store._tx(f"revoking {name}") as conn:
            count = conn.execute(api_tokens.update().where(
                api_tokens.c.user_id == user.id, api_tokens.c.revoked.is_(None))
                .values(revoked=now)).rowcount
            conn.execute(sessions.update().where(
                sessions.c.user_id == user.id, sessions.c.revoked.is_(None)).values(revoked=now))
            if disable:
                conn.execute(users.update().where(users.c.id == user.id).values(disabled=True))
            self._log(conn, by, "user.revoke", name, {"tokens": count, "disabled": disable})
        return int(count)

    # -- API tokens and sessions ----------------------------------------------
    def add_token(self, name: str, token_hash: str, prefix: str, by: str | None = None) -> None:
        user = self.user(name)
        with self.store._tx("adding an API token") as conn:
            conn.execute(api_tokens.insert().values(
                user_id=user.id, token_hash=token_hash, prefix=prefix, created=utcnow()))
            self._log(conn, by, "token.add", name, {"prefix": prefix})

    def tokens(self, name: str) -> list[dict[str, Any]]:
        user = self.user(name)
        with self.store._tx("listing tokens") as conn:
            rows = conn.execute(sa.select(api_tokens.c.prefix, api_tokens.c.created,
                                          api_tokens.c.last_used, api_tokens.c.revoked)
                                .where(api_tokens.c.user_id == user.id)
                                .order_by(api_tokens.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def user_by_token(self, token_hash: str) -> User | None:
        """The live user holding an unrevoked token with this hash."""
        with self.store._tx("checking a token") as conn:
            row = conn.execute(
                sa.select(users, api_tokens.c.id.label("token_id"))
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked.is_(None),
                       users.c.disabled.is_(False))).mappings().first()
            if row is None:
                return None
            conn.execute(api_tokens.update().where(api_tokens.c.id == row["token_id"])
                         .values(last_used=utcnow()))
        return User.from_row(row)

    def open_session(self, user: User, token_hash: str, csrf: str, lifetime: dt.timedelta,
                     client: str | None = None) -> None:
        now = utcnow()
        with self.store._tx("opening a session") as conn:
            conn.execute(sessions.insert().values(
                user_id=user.id, token_hash=token_hash, csrf=csrf, created=now,
                expires=now + lifetime))
            self._log(conn, user.name, "login", None, {}, client)

    def session(self, token_hash: str) -> Session | None:
        with self.store._tx("checking a session") as conn:
            row = conn.execute(
                sa.select(users, sessions.c.csrf, sessions.c.expires)
                .join(sessions, sessions.c.user_id == users.c.id)
                .where(sessions.c.token_hash == token_hash, sessions.c.revoked.is_(None),
                       users.c.disabled.is_(False))).mappings().first()
        if row is None:
            return None
        expires = _utc(row["expires"])
        if expires is None or expires <= utcnow():
            return None
        return Session(User.from_row(row), row["csrf"], expires)

    def close_session(self, token_hash: str, user: str | None = None) -> None:
        with self.store._tx("closing a session") as conn:
            conn.execute(sessions.update().where(sessions.c.token_hash == token_hash)
                         .values(revoked=utcnow()))
            self._log(conn, user, "logout", None)

    # -- notes -------------------------------------------------------------------
    def add_note(self, device_key: str, scan_id: int, address: str, author: str,
                 text: str) -> None:
        with self.store._tx("adding a note") as conn:
            conn.execute(notes.insert().values(device_key=device_key, scan_id=scan_id,
                                               address=address, author=author,
                                               time=utcnow(), text=text))
            self._log(conn, author, "note.add", f"scan {scan_id} {address}",
                      {"chars": len(text)})

    def notes(self, device_key: str) -> list[dict[str, Any]]:
        with self.store._tx("reading notes") as conn:
            rows = conn.execute(sa.select(notes).where(notes.c.device_key == device_key)
                                .order_by(notes.c.id)).mappings().all()
        return [{**r, "time": _utc(r["time"])} for r in rows]

    # -- removal status (the allow-list with who and when) ------------------------
    def mark_removal(self, *, device_key: str, scan_id: int, address: str, site: str | None,
                     status: str, reason: str | None, expires: dt.date | None,
                     who: str) -> None:
        if status not in REMOVAL_STATUSES:
            raise UsageError(f"status must be one of {', '.join(REMOVAL_STATUSES)}")
        if status == "accepted" and (not reason or expires is None):
            raise UsageError("an accepted device needs a reason and an expiry date")
        with self.store._tx("saving a removal status") as conn:
            conn.execute(removal_status.insert().values(
                device_key=device_key, scan_id=scan_id, address=address, site=site,
                status=status, reason=reason or None,
                expires=expires if status == "accepted" else None, who=who, time=utcnow()))
            self._log(conn, who, "removal.mark", f"scan {scan_id} {address}",
                      {"status": status, "reason": reason,
                       "expires": expires.isoformat() if expires else None})

    def removal_marks(self, device_keys: list[str] | None = None) -> dict[str, RemovalMark]:
        """The latest mark of each device (of `device_keys`, or of every device)."""
        query = sa.select(removal_status).order_by(removal_status.c.id)
        if device_keys is not None:
            query = query.where(removal_status.c.device_key.in_(device_keys))
        with self.store._tx("reading removal status") as conn:
            rows = conn.execute(query).mappings().all()
        latest: dict[str, RemovalMark] = {}
        for r in rows:
            latest[r["device_key"]] = RemovalMark(r["device_key"], r["status"], r["reason"],
                                                  r["expires"], r["who"], _utc(r["time"])
                                                  or utcnow())
        return latest

    def removal_history(self, device_key: str) -> list[RemovalMark]:
        with self.store._tx("reading removal history") as conn:
            rows = conn.execute(sa.select(removal_status).where(
                removal_status.c.device_key == device_key).order_by(removal_status.c.id)
            ).mappings().all()
        return [RemovalMark(r["device_key"], r["status"], r["reason"], r["expires"], r["who"],
                            _utc(r["time"]) or utcnow()) for r in rows]

    # -- unit costs ----------------------------------------------------------------
    def set_unit_cost(self, device_class: str, replace_with: str, hardware: float,
                      labour: float, who: str) -> None:
        if hardware < 0 or labour < 0:
            raise UsageError("costs must be numbers >= 0")
        with self.store._tx("saving a unit cost") as conn:
            conn.execute(unit_costs.insert().values(
                device_class=device_class, replace_with=replace_with, hardware=hardware,
                labour=labour, who=who, time=utcnow()))
            self._log(conn, who, "cost.set", device_class,
                      {"hardware": hardware, "labour": labour, "replace_with": replace_with})

    def unit_costs(self) -> dict[str, dict[str, Any]]:
        """The latest figures per device class, with who set them and when."""
        with self.store._tx("reading unit costs") as conn:
            rows = conn.execute(sa.select(unit_costs).order_by(unit_costs.c.id)).mappings().all()
        return {r["device_class"]: {**r, "time": _utc(r["time"])} for r in rows}

    # -- device credentials (encrypted; never read back to a page) --------------------
    def set_credential(self, name: str, secret: bytes, who: str) -> None:
        with self.store._tx("saving a device credential") as conn:
            conn.execute(device_credentials.delete().where(device_credentials.c.name == name))
            conn.execute(device_credentials.insert().values(name=name, secret=secret, who=who,
                                                            time=utcnow()))
            self._log(conn, who, "credential.set", name)

    def credential_names(self) -> list[dict[str, Any]]:
        with self.store._tx("listing credentials") as conn:
            rows = conn.execute(sa.select(device_credentials.c.name, device_credentials.c.who,
                                          device_credentials.c.time)
                                .order_by(device_credentials.c.name)).mappings().all()
        return [{**r, "time": _utc(r["time"])} for r in rows]

    def credential_secret(self, name: str) -> bytes:
        with self.store._tx("reading a credential") as conn:
            secret = conn.execute(sa.select(device_credentials.c.secret).where(
                device_credentials.c.name == name)).scalar()
        if secret is None:
            raise UsageError(f"no stored credential named {name!r}")
        return bytes(secret)
