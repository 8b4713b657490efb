"""What the service records, in SQLite: green-energy samples, Wall Connector status and
charge sessions with their kWh per VIN; and what it must keep across a restart: Charge
Now, the runtime settings and the per-TWC caps.

Every call is one small transaction, committed before it returns (WAL, synchronous=FULL):
a crash loses at most the call it interrupts, and a call takes milliseconds, so the
service's event loop calls it directly. The schema is created or migrated on open
(PRAGMA user_version counts the migrations applied).
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twc.slot import CHARGING_CA
from twcm.service.devicelink import DeviceState, Slave
from twcm.service.sources import Reading

MIGRATIONS = (
    """CREATE TABLE samples (
        at REAL NOT NULL, site TEXT NOT NULL, generation_w REAL, consumption_w REAL,
        grid_import_w REAL, battery_soc REAL, limit_amps INTEGER, reason TEXT);
    CREATE INDEX samples_site_at ON samples (site, at);
    CREATE TABLE slave_status (
        at REAL NOT NULL, site TEXT NOT NULL, twc TEXT NOT NULL, link TEXT, state TEXT,
        offered_amps INTEGER, actual_amps REAL, volts TEXT, lifetime_kwh INTEGER, vin TEXT);
    CREATE INDEX slave_status_site_at ON slave_status (site, at);
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY, site TEXT NOT NULL, twc TEXT NOT NULL, vin TEXT,
        start REAL NOT NULL, end REAL, updated REAL NOT NULL,
        start_lifetime_kwh INTEGER, end_lifetime_kwh INTEGER,
        integrated_kwh REAL NOT NULL DEFAULT 0, kwh REAL NOT NULL DEFAULT 0);
    CREATE INDEX sessions_vin ON sessions (vin);""",
    """CREATE TABLE charge_now (
        site TEXT PRIMARY KEY, amps INTEGER NOT NULL, until REAL NOT NULL)""",
    """CREATE TABLE settings (site TEXT PRIMARY KEY, runtime TEXT NOT NULL)""",
    """CREATE TABLE twc_caps (
        site TEXT NOT NULL, twc TEXT NOT NULL, amps INTEGER NOT NULL,
        PRIMARY KEY (site, twc))""",
)

MAX_GAP_S = 120.0  # a longer gap between status updates is not integrated over


@dataclass
class _Open:
    """A session in progress on one Wall Connector."""

    id: int
    last_at: float
    last_amps: float
    volts: float


def _car(s: Slave) -> bool:
    """A charge session is on: the device says the car wants current (as its sharing sees
    it); firmware from before `wanting` leaves it to the draw, 1 A or more."""
    if s.link != "linked":
        return False
    return s.wanting if s.wanting is not None else s.actual_amps * 100 >= CHARGING_CA


def _volts(s: Slave) -> float:
    """Volts × phases of the slave: what its amps are multiplied by."""
    return float(sum(v for v in s.volts if v))


class Store:
    """`Store(path)` opens (creating or migrating) the database; close() when done."""

    def __init__(self, path: Path, status_every_s: float = 60.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.status_every_s = status_every_s
        self.db = sqlite3.connect(path, isolation_level=None)  # transactions are explicit
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self._migrate()
        self._open: dict[tuple[str, str], _Open] = {}
        self._status: dict[tuple[str, str], tuple[float, tuple]] = {}
        with self.db:  # sessions a crash left open end at their last update
            self.db.execute("UPDATE sessions SET end = updated WHERE end IS NULL")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise RuntimeError(f"{self.path}: made by a newer twcm (schema {version})")
        for n, sql in enumerate(MIGRATIONS[version:], version + 1):
            self.db.executescript(f"BEGIN; {sql}; PRAGMA user_version = {n}; COMMIT;")

    def close(self) -> None:
        self.db.close()

    def save_charge_now(self, site: str, amps: int | None, until: float = 0.0) -> None:
        """Keep a site's Charge Now (amps None: there is none) across restarts."""
        with self.db:
            if amps is None:
                self.db.execute("DELETE FROM charge_now WHERE site = ?", (site,))
            else:
                self.db.execute("INSERT OR REPLACE INTO charge_now VALUES (?, ?, ?)",
                                (site, amps, until))

    def charge_now(self, site: str) -> tuple[int, float] | None:
        """The site's Charge Now as (amps, until as Unix time), if one was saved."""
        row = self.db.execute("SELECT amps, until FROM charge_now WHERE site = ?",
                              (site,)).fetchone()
        return None if row is None else (row[0], row[1])

    def save_settings(self, site: str, runtime: dict[str, Any]) -> None:
        """Keep a site's runtime settings (a fragment of its [site.policy] table)."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)",
                            (site, json.dumps(runtime)))

    def settings(self, site: str) -> dict[str, Any] | None:
        """The site's runtime settings as saved, if any."""
        row = self.db.execute("SELECT runtime FROM settings WHERE site = ?",
                              (site,)).fetchone()
        return None if row is None else json.loads(row[0])

    def save_twc_cap(self, site: str, twc: str, amps: int | None) -> None:
        """Keep the cap the host wants for one Wall Connector (None: it has none)."""
        with self.db:
            if amps is None:
                self.db.execute("DELETE FROM twc_caps WHERE site = ? AND twc = ?", (site, twc))
            else:
                self.db.execute("INSERT OR REPLACE INTO twc_caps VALUES (?, ?, ?)",
                                (site, twc, amps))

    def twc_caps(self, site: str) -> dict[str, int]:
        """The site's per-TWC caps as saved: {TWC id: amps}."""
        return dict(self.db.execute("SELECT twc, amps FROM twc_caps WHERE site = ? "
                                    "ORDER BY twc", (site,)))

    def sample(self, at: float, site: str, reading: Reading | None, limit_amps: int | None,
               reason: str) -> None:
        """One turn of the service loop: the readings (None: unknown) and the decision."""
        r = reading or Reading(at=at)
        with self.db:
            self.db.execute("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (at, site, r.generation_w, r.consumption_w, r.grid_import_w,
                             r.battery_soc, limit_amps, reason))

    def samples(self, site: str, start: float, end: float, limit: int) -> list[dict]:
        """The site's samples with start <= at < end, oldest first, at most `limit` of them
        (the REST API's history asks for one more to know whether there are more)."""
        cur = self.db.execute("SELECT * FROM samples WHERE site = ? AND at >= ? AND at < ? "
                              "ORDER BY at LIMIT ?", (site, start, end, limit))
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def twc_status(self, site: str, start: float, end: float) -> list[dict]:
        """The site's Wall Connector status rows with start <= at < end, oldest first:
        at, twc, actual_amps and volts (a list per phase), for what the chargers drew."""
        cur = self.db.execute("SELECT at, twc, actual_amps, volts FROM slave_status "
                              "WHERE site = ? AND at >= ? AND at < ? ORDER BY at",
                              (site, start, end))
        return [{"at": at, "twc": twc, "actual_amps": amps, "volts": json.loads(volts or "[]")}
                for at, twc, amps, volts in cur.fetchall()]

    def status(self, at: float, site: str, state: DeviceState) -> None:
        """The device's latest state: a status row per Wall Connector when it changed or
        every status_every_s, and the charge sessions brought up to date."""
        with self.db:
            for s in state.slaves:
                key = (site, s.id)
                what = (s.link, s.state, s.offered_amps, round(s.actual_amps), s.vin)
                last = self._status.get(key)
                if last is None or last[1] != what or at - last[0] >= self.status_every_s:
                    self._status[key] = (at, what)
                    self.db.execute(
                        "INSERT INTO slave_status VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (at, site, s.id, s.link, s.state, s.offered_amps, s.actual_amps,
                         json.dumps(list(s.volts)), s.lifetime_kwh, s.vin))
                self._session(at, site, s)
            gone = {k for k in self._open if k[0] == site} - {(site, s.id) for s in state.slaves}
            for key in gone:
                self._end(key, at)

    def _session(self, at: float, site: str, s: Slave) -> None:
        key = (site, s.id)
        car = _car(s)
        now = self._open.get(key)
        if now is None:
            if car:
                cur = self.db.execute(
                    "INSERT INTO sessions (site, twc, vin, start, updated, start_lifetime_kwh)"
                    " VALUES (?, ?, ?, ?, ?, ?)", (site, s.id, s.vin, at, at, s.lifetime_kwh))
                self._open[key] = _Open(int(cur.lastrowid or 0), at, s.actual_amps, _volts(s))
            return
        gap = at - now.last_at
        wh = now.last_amps * now.volts * gap / 3600 if 0 < gap <= MAX_GAP_S else 0.0
        now.last_at, now.last_amps, now.volts = at, s.actual_amps, _volts(s) or now.volts
        # kWh: the device's lifetime counter (whole kWh) once it has moved, else amps x
        # volts integrated (SQLite evaluates the SET expressions on the row as it was).
        self.db.execute(
            "UPDATE sessions SET updated = ?, vin = COALESCE(vin, ?),"
            " start_lifetime_kwh = COALESCE(start_lifetime_kwh, ?), end_lifetime_kwh = ?,"
            " integrated_kwh = integrated_kwh + ?,"
            " kwh = CASE WHEN ? - start_lifetime_kwh >= 1 THEN ? - start_lifetime_kwh"
            "  ELSE integrated_kwh + ? END WHERE id = ?",
            (at, s.vin, s.lifetime_kwh, s.lifetime_kwh, wh / 1000, s.lifetime_kwh,
             s.lifetime_kwh, wh / 1000, now.id))
        if not car:
            self._end(key, at)

    def _end(self, key: tuple[str, str], at: float) -> None:
        ended = self._open.pop(key)
        self.db.execute("UPDATE sessions SET end = ? WHERE id = ?", (at, ended.id))

    def sessions(self, vin: str | None = None) -> list[dict]:
        """Charge sessions, oldest first; only those of `vin` if given."""
        cur = self.db.execute("SELECT * FROM sessions WHERE ? IS NULL OR vin = ? ORDER BY id",
                              (vin, vin))
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def kwh_per_vin(self) -> dict[str | None, float]:
        """Total kWh charged per VIN (None: cars whose VIN was never read)."""
        return dict(self.db.execute("SELECT vin, SUM(kwh) FROM sessions GROUP BY vin"))
