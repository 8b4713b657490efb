"""The database backend: records as rows (schema.py), SQLite or MySQL/MariaDB through
SQLAlchemy Core, one transaction per batch. Old samples, statuses and decisions go after
`keep_days`; sessions only after `keep_sessions_days`, if set.

A batch is all or nothing: a write that raises (the server is down, the disk full) leaves
no row of it, and the writer offers it again. A session's record updates its row (named by
site, TWC and start) or makes it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import Connection, Engine, and_, delete, insert, update
from sqlalchemy.engine import URL

from twcm.service.history import migrate, schema
from twcm.service.history.records import (ChargeSession, DecisionRecord, EnergySample,
                                          Record, TwcStatus)

DAY_S = 86400.0
PRUNE_EVERY_S = 3600.0  # of the records' time


def _sample(r: EnergySample) -> dict[str, Any]:
    return {"at": r.at, "site": r.site, "generation_w": r.generation_w,
            "consumption_w": r.consumption_w, "charging_w": r.charging_w,
            "grid_import_w": r.grid_w, "battery_w": r.battery_w, "battery_soc": r.battery_soc}


def _decision(r: DecisionRecord) -> dict[str, Any]:
    return {"at": r.at, "site": r.site, "amps": r.amps, "claim": r.claim,
            "capped_by": r.capped_by, "reason": r.reason}


def _status(r: TwcStatus) -> dict[str, Any]:
    a, b, c = r.volts
    return {"at": r.at, "site": r.site, "twc": r.twc, "link": r.link, "state": r.state,
            "offered_amps": r.offered_amps, "actual_amps": r.actual_amps,
            "lifetime_kwh": r.lifetime_kwh, "volts_a": a, "volts_b": b, "volts_c": c,
            "vin": r.vin}


def _session(r: ChargeSession) -> dict[str, Any]:
    return {"site": r.site, "twc": r.twc, "vin": r.vin, "start": r.start, "end": r.end,
            "updated": r.updated if r.updated is not None else (r.end or r.start),
            "start_lifetime_kwh": r.start_kwh, "end_lifetime_kwh": r.end_kwh,
            "integrated_kwh": r.integrated_kwh if r.integrated_kwh is not None else r.kwh,
            "kwh": r.kwh}


class SqlBackend:
    """`SqlBackend(url or SQLite path)`: its own engine; the tables made or migrated. The
    sessions a crash left open end at their last update: this backend starts with none."""

    def __init__(self, url: str | URL | Path, keep_days: float | None = None,
                 keep_sessions_days: float | None = None) -> None:
        self.engine: Engine = migrate.engine(url)
        migrate.prepare(self.engine)
        self.keep_days, self.keep_sessions_days = keep_days, keep_sessions_days
        self._pruned_at = float("-inf")
        t = schema.sessions
        with self.engine.begin() as c:
            c.execute(update(t).where(t.c.end.is_(None)).values(end=t.c.updated))

    def write(self, batch: Sequence[Record]) -> None:
        rows: dict[type, list[dict[str, Any]]] = {EnergySample: [], DecisionRecord: [],
                                                  TwcStatus: []}
        sessions: dict[tuple, dict[str, Any]] = {}  # the last of each: it holds all before
        newest = float("-inf")
        for r in batch:
            if isinstance(r, ChargeSession):
                sessions[(r.site, r.twc, r.start)] = _session(r)
                newest = max(newest, r.start)
            else:
                rows[type(r)].append(_ROW[type(r)](r))
                newest = max(newest, r.at)
        with self.engine.begin() as c:
            for kind, table in ((EnergySample, schema.samples), (DecisionRecord,
                                schema.decisions), (TwcStatus, schema.slave_status)):
                if rows[kind]:
                    c.execute(insert(table), rows[kind])
            for row in sessions.values():
                self._put_session(c, row)
            if newest - self._pruned_at >= PRUNE_EVERY_S:
                self._prune(c, newest)
        if newest - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = newest  # only once the deletion is committed

    @staticmethod
    def _put_session(c: Connection, row: dict[str, Any]) -> None:
        t = schema.sessions
        key = and_(t.c.site == row["site"], t.c.twc == row["twc"], t.c.start == row["start"])
        if c.execute(update(t).where(key).values(**row)).rowcount == 0:
            c.execute(insert(t).values(**row))

    def _prune(self, c: Connection, now: float) -> None:
        if self.keep_days is not None:
            before = now - self.keep_days * DAY_S
            for t in (schema.samples, schema.decisions, schema.slave_status):
                c.execute(delete(t).where(t.c.at < before))
        if self.keep_sessions_days is not None:
            t = schema.sessions
            c.execute(delete(t).where(t.c.end < now - self.keep_sessions_days * DAY_S))

    def close(self) -> None:
        self.engine.dispose()


_ROW = {EnergySample: _sample, DecisionRecord: _decision, TwcStatus: _status}
