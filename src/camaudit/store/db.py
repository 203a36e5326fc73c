"""The inventory and its history, on SQLite by default or any SQLAlchemy URL.

A scan is written in small batches of finished hosts, each batch in one
transaction, so a ``kill -9`` loses at most the hosts in flight; ``--resume``
then skips every address below the saved cursor and every host already saved.
Saving a host again replaces it (same scan, same address), so a shard run twice
by two workers duplicates nothing.

Several processes may write one store (``scan --workers``, site workers): on
SQLite the database is in WAL mode and a writer waits up to
:data:`SQLITE_BUSY_SECONDS` for the lock; shard claims and the end of a scan
are conditional updates, so two workers racing for them cannot both win.
SQLAlchemy errors become :class:`StoreError` here and nowhere else.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
from collections import Counter
from collections.abc import Container, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from camaudit.errors import StoreError, UsageError
from camaudit.model import SURVEILLANCE_TYPES, Device, Evidence, Finding, Observation, utcnow
from camaudit.store import schema as t

MIGRATIONS = Path(__file__).with_name("migrations")
#: How long a SQLite writer waits for another process's write lock before failing.
SQLITE_BUSY_SECONDS = 60.0
#: Shard states (a shard goes pending -> running -> done, or to cancelled).
SHARD_OPEN = ("pending", "running")

#: Inserts of many rows a statement (SQLAlchemy's "insertmanyvalues") that return each new
#: row's id with its unique key: RETURNING keeps no order on SQLite.
_INSERT_HOSTS = t.hosts.insert().returning(t.hosts.c.address, t.hosts.c.id)
_INSERT_DEVICES = t.devices.insert().returning(t.devices.c.host_id, t.devices.c.id)

#: One finished host: its device, its observations, and the cameras it reports.
HostRecord = tuple[Device, list[Observation], Sequence[tuple[Device, list[Observation]]]]


class ShardRange(Protocol):
    """What the store keeps of a shard (dist.shards.Shard has it)."""

    @property
    def index(self) -> int: ...
    @property
    def first(self) -> str: ...
    @property
    def last(self) -> str: ...


def database_url(db: str) -> str:
    """A bare path means a SQLite file; anything with '://' is an SQLAlchemy URL."""
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser()}"


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)  # SQLite drops the zone
    return value


class Store:
    """One database: open (and migrate) once, then read and write scans."""

    def __init__(self, db: str) -> None:
        self.url = database_url(db)
        try:
            sqlite = self.url.startswith("sqlite")
            self.engine: Engine = sa.create_engine(
                self.url, connect_args={"timeout": SQLITE_BUSY_SECONDS} if sqlite else {})
            if self.engine.dialect.name == "sqlite":
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            with self.engine.begin() as conn:
                cfg = Config()
                cfg.set_main_option("script_location", str(MIGRATIONS))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"cannot open the database {db!r}: {_reason(exc)}") from exc

    @contextlib.contextmanager
    def _tx(self, what: str) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"database error while {what}: {_reason(exc)}") from exc

    def close(self) -> None:
        self.engine.dispose()

    # -- scans -------------------------------------------------------------
    def create_scan(self, *, targets: list[str], excludes: list[str],
                    resolved: dict[str, list[str]], ports: list[int],
                    options: dict[str, Any], policies: list[str],
                    knowledge: dict[str, str], tool_version: str,
                    kind: str = "scan", site: str | None = None) -> int:
        with self._tx("creating the scan") as conn:
            res = conn.execute(t.scans.insert().values(
                kind=kind, status="running", started=utcnow(), targets=targets,
                excludes=excludes, resolved=resolved, ports=ports, options=options,
                policies=policies, knowledge=knowledge, tool_version=tool_version,
                site=site))
            return int(res.inserted_primary_key[0])  # type: ignore[index]

    def scan(self, scan_id: int) -> dict[str, Any]:
        with self._tx("reading the scan") as conn:
            row = conn.execute(sa.select(t.scans).where(t.scans.c.id == scan_id)).mappings().first()
        if row is None:
            raise UsageError(f"no scan {scan_id} in {self.url}")
        out = dict(row)
        out["started"] = _utc(out["started"])
        out["finished"] = _utc(out["finished"])
        return out

    def scans(self) -> list[dict[str, Any]]:
        with self._tx("listing scans") as conn:
            rows = conn.execute(sa.select(t.scans).order_by(t.scans.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def resolve_scan_id(self, spec: str | int) -> int:
        """'last' means the latest scan; otherwise a numeric id that must exist."""
        if isinstance(spec, str) and spec.strip().lower() in ("last", "latest"):
            with self._tx("finding the last scan") as conn:
                last = conn.execute(sa.select(sa.func.max(t.scans.c.id))).scalar()
            if last is None:
                raise UsageError(f"there are no scans in {self.url} yet")
            return int(last)
        try:
            scan_id = int(spec)
        except ValueError as exc:
            raise UsageError(f"scan id must be a number or 'last', not {spec!r}") from exc
        self.scan(scan_id)
        return scan_id

    def set_cursor(self, scan_id: int, cursor: str | None) -> None:
        with self._tx("saving progress") as conn:
            conn.execute(t.scans.update().where(t.scans.c.id == scan_id).values(cursor=cursor))

    def finish_scan(self, scan_id: int, stats: dict[str, Any], *,
                    only_running: bool = False) -> bool:
        """Mark the scan done; totals are counted from what is stored, so a resumed scan's
        figures cover all its runs, not only the last.

        `only_running`: finish it only if it is still running (so that of two workers
        finishing a sharded scan at once, exactly one does); returns whether it did.
        """
        with self._tx("finishing the scan") as conn:
            previous = conn.execute(sa.select(t.scans.c.stats).where(
                t.scans.c.id == scan_id)).scalar() or {}
            hosts = conn.execute(sa.select(sa.func.count()).select_from(t.hosts).where(
                t.hosts.c.scan_id == scan_id)).scalar()
            devices = conn.execute(sa.select(sa.func.count()).select_from(t.devices).where(
                t.devices.c.scan_id == scan_id,
                t.devices.c.device_type.in_(sorted(SURVEILLANCE_TYPES)))).scalar()
            findings = conn.execute(sa.select(sa.func.count()).select_from(t.findings).where(
                t.findings.c.scan_id == scan_id)).scalar()
            elapsed = float(previous.get("elapsed", 0.0)) + float(stats.get("elapsed", 0.0))
            merged = {**stats, "hosts_up": hosts, "devices": devices, "findings": findings,
                      "elapsed": elapsed}
            query = t.scans.update().where(t.scans.c.id == scan_id)
            if only_running:
                query = query.where(t.scans.c.status == "running")
            done = conn.execute(query.values(status="done", finished=utcnow(), stats=merged))
            return bool(done.rowcount)

    def reopen_scan(self, scan_id: int) -> None:
        with self._tx("resuming the scan") as conn:
            conn.execute(t.scans.update().where(t.scans.c.id == scan_id).values(
                status="running", finished=None))

    def add_refusals(self, scan_id: int, refused: Iterable[tuple[str, str]]) -> None:
        rows = [{"scan_id": scan_id, "address": a[:255], "reason": r} for a, r in refused]
        if rows:
            with self._tx("recording out-of-scope addresses") as conn:
                conn.execute(t.refusals.insert(), rows)

    def refusals(self, scan_id: int) -> list[tuple[str, str]]:
        """Out-of-scope addresses, each (address, reason) once (a re-run shard records
        its refusals again)."""
        with self._tx("reading refusals") as conn:
            rows = conn.execute(sa.select(t.refusals.c.address, t.refusals.c.reason)
                                .where(t.refusals.c.scan_id == scan_id)
                                .order_by(t.refusals.c.id)).all()
        return list(dict.fromkeys((r[0], r[1]) for r in rows))

    # -- shards (dist/) ----------------------------------------------------
    def add_shards(self, scan_id: int, shards: Iterable[ShardRange],
                   queue: str | None = None) -> None:
        """Record the scan's shards as pending; shards already recorded are kept as they are.

        `queue`: the Celery queue an audit's shards are to be sent to (None: they are run
        by local workers), recorded with them so that an interrupted start is seen.
        """
        with self._tx("recording shards") as conn:
            known = set(conn.execute(sa.select(t.shards.c.index).where(
                t.shards.c.scan_id == scan_id)).scalars())
            now = utcnow()
            rows = [{"scan_id": scan_id, "index": s.index, "first": s.first, "last": s.last,
                     "state": "pending", "attempts": 0, "updated": now, "queue": queue}
                    for s in shards if s.index not in known]
            if rows:
                conn.execute(t.shards.insert(), rows)

    def shards(self, scan_id: int) -> list[dict[str, Any]]:
        """The scan's shards in index order (empty for a scan run in one piece)."""
        with self._tx("reading shards") as conn:
            rows = conn.execute(sa.select(t.shards).where(t.shards.c.scan_id == scan_id)
                                .order_by(t.shards.c.index)).mappings().all()
        return [{**r, "updated": _utc(r["updated"])} for r in rows]

    def shard(self, scan_id: int, index: int) -> dict[str, Any]:
        with self._tx("reading a shard") as conn:
            row = conn.execute(sa.select(t.shards).where(
                t.shards.c.scan_id == scan_id, t.shards.c.index == index)).mappings().first()
        if row is None:
            raise UsageError(f"no shard {index} in scan {scan_id}")
        return {**row, "updated": _utc(row["updated"])}

    def mark_queued(self, scan_id: int, indices: Sequence[int]) -> None:
        """Record that the messages of these shards were sent."""
        c = t.shards.c
        with self._tx("recording queued shards") as conn:
            conn.execute(t.shards.update().where(
                c.scan_id == scan_id, c.index.in_(list(indices))).values(queued=utcnow()))

    def unqueued_shards(self, queues: Sequence[str], recorded_before: dt.datetime
                        ) -> list[tuple[int, str, list[int]]]:
        """Pending shards bound for one of `queues` whose message was never sent, recorded
        before `recorded_before`, of audits still running: (audit, queue, shard indices)."""
        c = t.shards.c
        with self._tx("finding shards never queued") as conn:
            rows = conn.execute(sa.select(c.scan_id, c.queue, c.index).join(
                t.scans, t.scans.c.id == c.scan_id).where(
                t.scans.c.status == "running", c.state == "pending", c.queued.is_(None),
                c.queue.in_(list(queues)), c.updated < recorded_before)
                .order_by(c.scan_id, c.index)).all()
        found: dict[tuple[int, str], list[int]] = {}
        for scan_id, queue, index in rows:
            found.setdefault((int(scan_id), str(queue)), []).append(int(index))
        return [(scan_id, queue, indices) for (scan_id, queue), indices in found.items()]

    def claim_shard(self, scan_id: int, index: int, worker: str) -> bool:
        """Take the shard for `worker`: False when it is done or cancelled.

        A running shard can be claimed (its worker may have died: a re-delivered task
        takes it over); its attempts count each new worker, not a repeated claim.
        """
        c = t.shards.c
        same = sa.and_(c.state == "running", c.worker == worker)
        with self._tx(f"claiming shard {index}") as conn:
            res = conn.execute(t.shards.update().where(
                c.scan_id == scan_id, c.index == index, c.state.in_(SHARD_OPEN)).values(
                state="running", worker=worker, updated=utcnow(),
                attempts=sa.case((same, c.attempts), else_=c.attempts + 1)))
        return bool(res.rowcount)

    def claim_next_shard(self, scan_id: int, worker: str) -> int | None:
        """Take the lowest pending shard for `worker` (local workers pull their work so)."""
        c = t.shards.c
        while True:
            with self._tx("claiming a shard") as conn:
                index = conn.execute(sa.select(sa.func.min(c.index)).where(
                    c.scan_id == scan_id, c.state == "pending")).scalar()
                if index is None:
                    return None
                res = conn.execute(t.shards.update().where(
                    c.scan_id == scan_id, c.index == index, c.state == "pending").values(
                    state="running", worker=worker, attempts=c.attempts + 1,
                    updated=utcnow()))
            if res.rowcount:
                return int(index)

    def set_shard_cursor(self, scan_id: int, index: int, cursor: str | None,
                         stats: dict[str, Any] | None = None) -> bool:
        """Save the shard's cursor (and, for progress, its run's stats so far); False if
        the shard is no longer running (cancelled, or finished by another worker): its
        runner should stop."""
        c = t.shards.c
        values: dict[str, Any] = {"updated": utcnow()}
        if cursor is not None:
            values["cursor"] = cursor
        if stats is not None:
            values["stats"] = stats
        with self._tx(f"saving progress of shard {index}") as conn:
            res = conn.execute(t.shards.update().where(
                c.scan_id == scan_id, c.index == index, c.state == "running").values(**values))
        return bool(res.rowcount)

    def finish_shard(self, scan_id: int, index: int, stats: dict[str, Any]) -> bool:
        """Mark the shard done with its stats; False if it was done or cancelled already."""
        c = t.shards.c
        with self._tx(f"finishing shard {index}") as conn:
            res = conn.execute(t.shards.update().where(
                c.scan_id == scan_id, c.index == index, c.state.in_(SHARD_OPEN)).values(
                state="done", stats=stats, cursor=c.last, updated=utcnow()))
        return bool(res.rowcount)

    def release_shards(self, scan_id: int, worker: str | None = None) -> int:
        """Running shards of `worker` (every running shard if None) back to pending: the
        worker is gone. Returns how many."""
        c = t.shards.c
        query = t.shards.update().where(c.scan_id == scan_id, c.state == "running")
        if worker is not None:
            query = query.where(c.worker == worker)
        with self._tx("releasing shards") as conn:
            return int(conn.execute(query.values(state="pending", updated=utcnow())).rowcount)

    def reopen_shards(self, scan_id: int) -> int:
        """Resume a sharded scan: every shard not done is pending again (at its cursor)."""
        c = t.shards.c
        with self._tx("resuming shards") as conn:
            res = conn.execute(t.shards.update().where(
                c.scan_id == scan_id, c.state != "done").values(
                state="pending", updated=utcnow()))
            conn.execute(t.scans.update().where(t.scans.c.id == scan_id).values(
                status="running", finished=None))
        return int(res.rowcount)

    def cancel_scan(self, scan_id: int) -> int:
        """Cancel the scan: its pending and running shards become cancelled (a worker stops
        at its next checkpoint) and the scan is marked cancelled. Returns the shards."""
        c = t.shards.c
        with self._tx("cancelling the scan") as conn:
            res = conn.execute(t.shards.update().where(
                c.scan_id == scan_id, c.state.in_(SHARD_OPEN)).values(
                state="cancelled", updated=utcnow()))
            conn.execute(t.scans.update().where(
                t.scans.c.id == scan_id, t.scans.c.status == "running").values(
                status="cancelled", finished=utcnow()))
        return int(res.rowcount)

    def scan_progress(self, scan_id: int) -> dict[str, Any]:
        """Where a scan stands: shards per state, addresses done, hosts, open ports, devices.

        `addresses` counts the finished shards' addresses exactly and, for the others,
        what their runs reported so far or the span up to their cursor, whichever is
        more (a display figure).
        """
        with self._tx("reading progress") as conn:
            status = conn.execute(sa.select(t.scans.c.status).where(
                t.scans.c.id == scan_id)).scalar()
            rows = conn.execute(sa.select(
                t.shards.c.state, t.shards.c.first, t.shards.c.cursor, t.shards.c.stats)
                .where(t.shards.c.scan_id == scan_id)).all()
            hosts = conn.execute(sa.select(sa.func.count()).select_from(t.hosts).where(
                t.hosts.c.scan_id == scan_id)).scalar()
            open_ports = conn.execute(sa.select(sa.func.count()).select_from(
                t.ports.join(t.hosts)).where(t.hosts.c.scan_id == scan_id)).scalar()
            devices = conn.execute(sa.select(sa.func.count()).select_from(t.devices).where(
                t.devices.c.scan_id == scan_id,
                t.devices.c.device_type.in_(sorted(SURVEILLANCE_TYPES)))).scalar()
        states: Counter[str] = Counter()
        addresses = 0
        for state, first, cursor, stats in rows:
            states[state] += 1
            swept = int((stats or {}).get("addresses", 0))
            addresses += swept if state == "done" else max(swept, _span(first, cursor or ""))
        return {"status": status, "shards": {s: states[s] for s in
                                             ("pending", "running", "done", "cancelled")},
                "addresses": addresses, "hosts": int(hosts or 0),
                "open_ports": int(open_ports or 0), "devices": int(devices or 0)}

    # -- hosts -------------------------------------------------------------
    def done_addresses(self, scan_id: int) -> set[str]:
        with self._tx("reading finished hosts") as conn:
            return set(conn.execute(sa.select(t.hosts.c.address)
                                    .where(t.hosts.c.scan_id == scan_id)).scalars())

    def save_host(self, scan_id: int, device: Device, observations: list[Observation],
                  connected: Sequence[tuple[Device, list[Observation]]] = ()) -> None:
        """Write one finished host with its ports, evidence, device and findings atomically.

        `connected`: the cameras the host (a recorder) reports, each saved as a device of
        its own under the host key ``<recorder>#<channel>`` in the same transaction.
        """
        self.save_hosts(scan_id, [(device, observations, connected)])

    def save_hosts(self, scan_id: int, hosts: Sequence[HostRecord]) -> None:
        """Write finished hosts in one transaction (as :meth:`save_host` each, cheaper).

        A host saved before in this scan is replaced, connected cameras included, so
        saving again (a shard re-run after its worker died) duplicates nothing. Two
        writers saving one host at the same moment: the loser's insert breaks the
        unique (scan, address) key and its batch is written again, replacing.
        """
        latest = {device.address: (device, seen, connected)  # a host given twice: the last
                  for device, seen, connected in hosts}
        devices = [one for device, seen, connected in latest.values()
                   for one in [(device, seen), *connected]]
        if not devices:
            return
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    self._forget_hosts(conn, scan_id, list(latest))
                    self._save_devices(conn, scan_id, devices)
                return
            except IntegrityError as exc:
                if attempt == 2:
                    raise StoreError(f"database error while saving hosts: {_reason(exc)}") \
                        from exc
            except SQLAlchemyError as exc:
                raise StoreError(f"database error while saving hosts: {_reason(exc)}") from exc

    def _forget_hosts(self, conn: Connection, scan_id: int, addresses: list[str]) -> None:
        """Delete those of `addresses` saved before and the cameras they reported
        (``address#channel``), with everything under them (ports, observations, devices,
        findings). One query when none was saved, the usual case: a camera is saved only
        with its recorder, so a recorder not saved has no camera saved either."""
        hosts = t.hosts.c
        saved = conn.execute(sa.select(hosts.address).where(
            hosts.scan_id == scan_id, hosts.address.in_(addresses))).scalars().all()
        if not saved:
            return
        ids = list(conn.execute(sa.select(hosts.id).where(hosts.scan_id == scan_id, sa.or_(
            hosts.address.in_(saved),
            *(sa.and_(hosts.address >= f"{a}#", hosts.address < f"{a}$") for a in saved)
        ))).scalars())
        devices = list(conn.execute(sa.select(t.devices.c.id).where(
            t.devices.c.host_id.in_(ids))).scalars())
        if devices:
            conn.execute(t.findings.delete().where(t.findings.c.device_id.in_(devices)))
            conn.execute(t.devices.delete().where(t.devices.c.id.in_(devices)))
        conn.execute(t.observations.delete().where(t.observations.c.host_id.in_(ids)))
        conn.execute(t.ports.delete().where(t.ports.c.host_id.in_(ids)))
        conn.execute(t.hosts.delete().where(t.hosts.c.id.in_(ids)))

    def _save_devices(self, conn: Connection, scan_id: int,
                      saved: list[tuple[Device, list[Observation]]]) -> None:
        """Insert devices, each under a host of its own, with everything under them: one
        statement per table for the whole batch (statement overhead, not SQLite, was
        most of a save's CPU)."""
        now = utcnow()
        host_of = _inserted(conn, _INSERT_HOSTS, [
            {"scan_id": scan_id, "address": device.key, "mac": device.mac, "done_at": now}
            for device, _ in saved])
        hosts = [(device, seen, host_of[device.key]) for device, seen in saved]
        ports = [{"host_id": host_id, "port": p, "proto": "tcp", "state": "open"}
                 for device, _, host_id in hosts for p in sorted(device.ports)]
        if ports:
            conn.execute(t.ports.insert(), ports)
        observations = [
            {"scan_id": scan_id, "host_id": host_id, "address": o.address, "port": o.port,
             "probe": o.probe, "source": o.source, "fields": o.fields, "raw": o.raw,
             "raw_size": o.raw_size, "sha256": o.sha256, "time": o.time}
            for _, seen, host_id in hosts for o in seen]
        if observations:
            conn.execute(t.observations.insert(), observations)
        device_of = _inserted(conn, _INSERT_DEVICES, [
            {"scan_id": scan_id, "host_id": host_id, "address": device.address,
             "device_type": device.device_type, "brand": device.brand,
             "manufacturer": device.manufacturer, "model": device.model,
             "firmware": device.firmware, "serial": device.serial, "mac": device.mac,
             "confidence": device.confidence, "site": device.site,
             "hostname": device.hostname, "ports": sorted(device.ports),
             "evidence": [e.to_json() for e in device.evidence],
             "conflicts": list(device.conflicts), "parent": device.parent,
             "channel": device.channel}
            for device, _, host_id in hosts])
        findings = [
            {"scan_id": scan_id, "device_id": device_of[host_id], "finding_id": f.id,
             "kind": f.kind, "severity": f.severity, "status": f.status, "title": f.title,
             "source": f.source, "regime": f.regime, "detail": f.detail,
             "evidence": list(f.evidence), "accepted_reason": f.accepted_reason,
             "basis": f.basis}
            for device, _, host_id in hosts for f in device.findings]
        if findings:
            conn.execute(t.findings.insert(), findings)

    # -- reading back ------------------------------------------------------
    def devices(self, scan_id: int, address: str | None = None) -> list[Device]:
        query = sa.select(t.devices).where(t.devices.c.scan_id == scan_id)
        if address is not None:
            query = query.where(t.devices.c.address == address)
        return self._load_devices(scan_id, query)

    def iter_devices(self, scan_id: int, batch: int = 500) -> Iterator[Device]:
        """Every device of a scan in address order, a batch at a time (bounded memory)."""
        with self._tx("listing devices") as conn:
            keys = conn.execute(sa.select(t.devices.c.id, t.devices.c.address,
                                          t.devices.c.parent, t.devices.c.channel).where(
                t.devices.c.scan_id == scan_id).order_by(t.devices.c.id)).all()
        ids = [k[0] for k in sorted(keys, key=lambda k: _order(k[1], k[2], k[3]))]
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            loaded = self._devices_by_id(
                scan_id, sa.select(t.devices).where(t.devices.c.id.in_(chunk)))
            yield from (loaded[device_id] for device_id in chunk)

    def devices_after(self, scan_id: int, after: int, limit: int,
                      skip: Container[str] = frozenset()) -> tuple[list[Device], int]:
        """Devices saved with a row id above `after`: of the next `limit` rows, those whose
        :attr:`Device.key` is not in `skip`; and the last row id read (`after` if none).

        How ``scan -v`` follows what worker processes save: a host saved again gets a
        new row, so the caller skips the keys it has shown already.
        """
        d = t.devices.c
        with self._tx("reading new devices") as conn:
            rows = conn.execute(sa.select(d.id, d.address, d.parent, d.channel).where(
                d.scan_id == scan_id, d.id > after).order_by(d.id).limit(limit)).all()
        if not rows:
            return [], after
        wanted = [r[0] for r in rows
                  if (f"{r[2]}#{r[3]}" if r[2] is not None else r[1]) not in skip]
        devices = self._load_devices(scan_id, sa.select(t.devices).where(
            d.id.in_(wanted))) if wanted else []
        return devices, int(rows[-1][0])

    def _load_devices(self, scan_id: int, query: Any) -> list[Device]:
        return sorted(self._devices_by_id(scan_id, query).values(), key=_device_order)

    def _devices_by_id(self, scan_id: int, query: Any) -> dict[int, Device]:
        """The devices `query` selects (every column of devices), with their findings."""
        f = t.findings.c
        with self._tx("reading devices") as conn:
            rows = conn.execute(query.order_by(t.devices.c.id)).all()
            frows = conn.execute(sa.select(
                f.device_id, f.finding_id, f.kind, f.severity, f.title, f.source, f.status,
                f.detail, f.evidence, f.regime, f.accepted_reason, f.basis).where(
                f.scan_id == scan_id, f.device_id.in_([r.id for r in rows]))
                .order_by(f.id)).all() if rows else []
        findings: dict[int, list[Finding]] = {}
        for (device_id, finding_id, kind, severity, title, source, status, detail, evidence,
             regime, accepted_reason, basis) in frows:
            findings.setdefault(device_id, []).append(Finding(
                id=finding_id, kind=kind, severity=severity, title=title, source=source,
                status=status, detail=detail, evidence=evidence, regime=regime,
                accepted_reason=accepted_reason, basis=basis or ""))
        return {r.id: Device(
            address=r.address, ports=r.ports, mac=r.mac, device_type=r.device_type,
            brand=r.brand, manufacturer=r.manufacturer, model=r.model, firmware=r.firmware,
            serial=r.serial, confidence=r.confidence, site=r.site, hostname=r.hostname,
            evidence=[Evidence(**e) for e in r.evidence], conflicts=r.conflicts,
            findings=findings.get(r.id, []), parent=r.parent, channel=r.channel)
            for r in rows}

    def tallies(self, scan_id: int) -> tuple[Counter[str], Counter[tuple[str, str]]]:
        """The surveillance devices per maker (first seen first, in address order) and
        per (finding kind, status), each device counted once: the scan's digest, from
        aggregates rather than every device loaded."""
        d, f = t.devices.c, t.findings.c
        surveillance = sorted(SURVEILLANCE_TYPES)
        with self._tx("counting devices") as conn:
            rows = conn.execute(sa.select(d.manufacturer, d.address, d.parent, d.channel)
                                .where(d.scan_id == scan_id, d.device_type.in_(surveillance))
                                .order_by(d.id)).all()
            kinds = conn.execute(
                sa.select(f.kind, f.status, sa.func.count(sa.distinct(f.device_id)))
                .join(t.devices, t.devices.c.id == f.device_id)
                .where(d.scan_id == scan_id, d.device_type.in_(surveillance))
                .group_by(f.kind, f.status)).all()
        rows = sorted(rows, key=lambda r: _order(r.address, r.parent, r.channel))
        makers = Counter(r.manufacturer or "unknown maker" for r in rows)
        return makers, Counter({(kind, status): n for kind, status, n in kinds})

    def observations(self, scan_id: int, address: str | None = None) -> Iterator[Observation]:
        query = sa.select(t.observations).where(t.observations.c.scan_id == scan_id)
        if address is not None:
            query = query.where(t.observations.c.address == address)
        with self._tx("reading observations") as conn:
            for r in conn.execute(query.order_by(t.observations.c.id)).mappings():
                yield Observation(address=r["address"], port=r["port"], probe=r["probe"],
                                  fields=dict(r["fields"]), raw=bytes(r["raw"]),
                                  time=_utc(r["time"]) or utcnow(), source=r["source"],
                                  raw_size=r["raw_size"])

    # -- documents (camaudit docs scan) ----------------------------------------
    def save_document(self, scan_id: int, document: dict[str, Any]) -> None:
        """Write one document (the camaudit/1 ``documents[]`` shape) with its findings."""
        row = {k: document.get(k) for k in (
            "path", "sha256", "size", "format", "pages", "pages_ocr", "language", "status",
            "error", "seconds")}
        with self._tx(f"saving document {document.get('path')}") as conn:
            doc_id = conn.execute(t.documents.insert().values(
                scan_id=scan_id, **row, pages_not_read=list(document.get("pages_not_read") or []),
                notes=list(document.get("notes") or []), models=list(document.get("models") or []),
                set_aside=list(document.get("set_aside") or []))).inserted_primary_key[0]  # type: ignore[index]
            found = document.get("findings") or []
            if found:
                conn.execute(t.document_findings.insert(), [
                    {"scan_id": scan_id, "document_id": doc_id, "finding_id": f["id"],
                     "kind": f["kind"], "severity": f["severity"], "status": f["status"],
                     "page": f["page"], "line": f["line"], "text": f["text"],
                     "model": f.get("model"), "manufacturer": f.get("manufacturer"),
                     "brand": f.get("brand"), "term": f.get("term"), "source": f["source"],
                     "title": f.get("title") or "", "detail": f.get("detail") or "",
                     "score": f.get("score"), "regimes": list(f.get("regimes") or [])}
                    for f in found])

    def documents(self, scan_id: int) -> list[dict[str, Any]]:
        """The documents of a scan in the camaudit/1 shape, in the order they were read."""
        with self._tx("reading documents") as conn:
            rows = conn.execute(sa.select(t.documents).where(t.documents.c.scan_id == scan_id)
                                .order_by(t.documents.c.id)).mappings().all()
            frows = conn.execute(sa.select(t.document_findings).where(
                t.document_findings.c.scan_id == scan_id)
                .order_by(t.document_findings.c.id)).mappings().all()
        by_doc: dict[int, list[dict[str, Any]]] = {}
        for f in frows:
            by_doc.setdefault(f["document_id"], []).append({
                "id": f["finding_id"], "kind": f["kind"], "severity": f["severity"],
                "status": f["status"], "page": f["page"], "line": f["line"], "text": f["text"],
                "model": f["model"], "manufacturer": f["manufacturer"], "brand": f["brand"],
                "term": f["term"], "source": f["source"], "title": f["title"],
                "detail": f["detail"], "score": f["score"], "regimes": list(f["regimes"])})
        return [{"path": r["path"], "sha256": r["sha256"], "size": r["size"],
                 "format": r["format"], "pages": r["pages"], "pages_ocr": r["pages_ocr"],
                 "pages_not_read": list(r["pages_not_read"]), "language": r["language"],
                 "status": r["status"], "error": r["error"], "notes": list(r["notes"]),
                 "seconds": r["seconds"], "findings": by_doc.get(r["id"], []),
                 "models": list(r["models"]), "set_aside": list(r["set_aside"])}
                for r in rows]

    def write_json(self, scan_id: int, path: str) -> None:
        """Write the camaudit/1 document device by device, never all of it in memory."""
        from camaudit.output import write_json_stream

        write_json_stream(self.scan(scan_id), self.iter_devices(scan_id),
                          self.refusals(scan_id), path, self.documents(scan_id))

    def document(self, scan_id: int) -> dict[str, Any]:
        """The scan as a camaudit/1 document (the stable output contract)."""
        from camaudit.output import build_document

        scan = self.scan(scan_id)
        return build_document(scan, self.devices(scan_id), self.refusals(scan_id),
                              self.documents(scan_id))


def _inserted(conn: Connection, insert: Any, rows: list[dict[str, Any]]) -> dict[Any, int]:
    """Insert `rows`; the new rows' ids by their unique key (the first RETURNING column)."""
    return {key: new_id for key, new_id in conn.execute(insert, rows)}


def _order(address: str, parent: str | None, channel: int | None
           ) -> tuple[tuple[int, int], int, int]:
    """A recorder's connected cameras come right after it, by channel."""
    if parent is None:
        return (_address_key(address), 0, 0)
    return (_address_key(parent), 1, channel or 0)


def _device_order(device: Device) -> tuple[tuple[int, int], int, int]:
    return _order(device.address, device.parent, device.channel)


def _span(first: str, last: str) -> int:
    """Numbers from `first` to `last` inclusive (0 if either is not an address)."""
    try:
        return max(0, int(ipaddress.ip_address(last)) - int(ipaddress.ip_address(first)) + 1)
    except ValueError:
        return 0


def _address_key(address: str) -> tuple[int, int]:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return (9, 0)
    return (ip.version, int(ip))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
