"""The service's database (SQLite or MySQL/MariaDB, SQLAlchemy Core): what it must keep
across a restart (Charge Now, the runtime settings, the per-TWC caps), and the history
read back for the REST API and the web page (samples, charge sessions, kWh per VIN).

The history is written by the history writer's database backend (history/sql.py), off the
event loop. What a restart must find is written here, synchronously: each save is one
small transaction committed before it returns, so a setting the user sees accepted is on
the disk (or the server). The tables are made or migrated on open (history/migrate.py).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.engine import URL

from twcm.service.history import migrate, schema


class Store:
    """`Store(path)` (a SQLite file) or `Store(url)` opens, creating or migrating, the
    database; close() when done. `url` (the SQLAlchemy URL) is what the history's
    database backend is given, to write into the same database."""

    def __init__(self, where: Path | str | URL) -> None:
        self.engine: Engine = migrate.engine(where)
        self.url = self.engine.url
        self.path = where if isinstance(where, Path) else self.url.render_as_string()
        migrate.prepare(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def _put(self, table: Any, key: dict[str, Any], values: dict[str, Any] | None) -> None:
        """Replace the row with `key` by `values` (None: remove it), committed."""
        with self.engine.begin() as c:
            c.execute(delete(table).where(*(table.c[k] == v for k, v in key.items())))
            if values is not None:
                c.execute(insert(table).values(**key, **values))

    def _one(self, query: Any) -> Any:
        with self.engine.connect() as c:
            return c.execute(query).first()

    def save_charge_now(self, site: str, amps: int | None, until: float = 0.0) -> None:
        """Keep a site's Charge Now (amps None: there is none) across restarts."""
        self._put(schema.charge_now, {"site": site},
                  None if amps is None else {"amps": amps, "until": until})

    def charge_now(self, site: str) -> tuple[int, float] | None:
        """The site's Charge Now as (amps, until as Unix time), if one was saved."""
        t = schema.charge_now
        row = self._one(select(t.c.amps, t.c.until).where(t.c.site == site))
        return None if row is None else (row[0], row[1])

    def save_settings(self, site: str, runtime: dict[str, Any]) -> None:
        """Keep a site's runtime settings (a fragment of its [site.policy] table)."""
        self._put(schema.settings, {"site": site}, {"runtime": json.dumps(runtime)})

    def settings(self, site: str) -> dict[str, Any] | None:
        """The site's runtime settings as saved, if any."""
        t = schema.settings
        row = self._one(select(t.c.runtime).where(t.c.site == site))
        return None if row is None else json.loads(row[0])

    def save_twc_cap(self, site: str, twc: str, amps: int | None) -> None:
        """Keep the cap the host wants for one Wall Connector (None: it has none)."""
        self._put(schema.twc_caps, {"site": site, "twc": twc},
                  None if amps is None else {"amps": amps})

    def twc_caps(self, site: str) -> dict[str, int]:
        """The site's per-TWC caps as saved: {TWC id: amps}."""
        t = schema.twc_caps
        with self.engine.connect() as c:
            return {twc: amps for twc, amps in
                    c.execute(select(t.c.twc, t.c.amps).where(t.c.site == site)
                              .order_by(t.c.twc))}

    def samples(self, site: str, start: float, end: float, limit: int) -> list[dict]:
        """The site's samples with start <= at < end, oldest first, at most `limit` of them
        (the REST API's history asks for one more to know whether there are more), each
        with the decision of its turn (limit_amps: the lease sent, None: none)."""
        s, d = schema.samples, schema.decisions
        query = (select(s.c.at, s.c.site, s.c.generation_w, s.c.consumption_w,
                        s.c.grid_import_w, s.c.battery_soc, d.c.amps.label("limit_amps"),
                        d.c.reason, s.c.charging_w, s.c.battery_w)
                 .outerjoin(d, (d.c.site == s.c.site) & (d.c.at == s.c.at))
                 .where(s.c.site == site, s.c.at >= start, s.c.at < end)
                 .order_by(s.c.at).limit(limit))
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(query)]

    def twc_status(self, site: str, start: float, end: float) -> list[dict]:
        """The site's Wall Connector status rows with start <= at < end, oldest first:
        at, twc, actual_amps and volts (a list per phase), for what the chargers drew."""
        t = schema.slave_status
        query = (select(t.c.at, t.c.twc, t.c.actual_amps, t.c.volts_a, t.c.volts_b,
                        t.c.volts_c)
                 .where(t.c.site == site, t.c.at >= start, t.c.at < end).order_by(t.c.at))
        with self.engine.connect() as c:
            return [{"at": r.at, "twc": r.twc, "actual_amps": r.actual_amps,
                     "volts": [v for v in (r.volts_a, r.volts_b, r.volts_c) if v is not None]}
                    for r in c.execute(query)]

    def sessions(self, vin: str | None = None) -> list[dict]:
        """Charge sessions, oldest first; only those of `vin` if given."""
        t = schema.sessions
        query = select(t).order_by(t.c.id)
        if vin is not None:
            query = query.where(t.c.vin == vin)
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(query)]

    def kwh_per_vin(self) -> dict[str | None, float]:
        """Total kWh charged per VIN (None: cars whose VIN was never read)."""
        t = schema.sessions
        with self.engine.connect() as c:
            return {v: float(k) for v, k in
                    c.execute(select(t.c.vin, func.sum(t.c.kwh)).group_by(t.c.vin))}
