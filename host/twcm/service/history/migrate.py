"""Opening the database: the engine (SQLite or MySQL/MariaDB), and its tables created or
brought to the current version (schema.VERSION), in one transaction where the database
allows (SQLite: all or nothing; MySQL commits each CREATE, and a half-made schema is
completed on the next open).

The SQLite databases of twcm before SQLAlchemy (PRAGMA user_version 1-4) are converted in
place: the decisions move from samples into their own table, a status's volts (JSON
text) into a column per phase; nothing is lost. SQLite's user_version follows the version
too, so that an older twcm refuses the converted file rather than writing into it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, inspect, select
from sqlalchemy.engine import URL, make_url

from twcm.service.history import schema
from twcm.service.history.schema import VERSION

DIALECTS = ("sqlite", "mysql", "mariadb")


def _sqlite_connect(dbapi: Any, _record: Any) -> None:
    dbapi.isolation_level = None  # SQLAlchemy begins (the "begin" event): DDL in transactions
    cur = dbapi.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
    cur.execute("PRAGMA synchronous=FULL")  # a commit is on the disk when it returns
    cur.close()


def engine(url: str | URL | Path) -> Engine:
    """An engine for a SQLite file (a Path) or a SQLAlchemy URL; ValueError for a database
    twcm does not support."""
    u = URL.create("sqlite", database=str(url)) if isinstance(url, Path) else make_url(url)
    kind = u.get_backend_name()
    if kind not in DIALECTS:
        raise ValueError(f"{kind} databases are not supported: give a sqlite, mysql or "
                         f"mariadb URL")
    if kind == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        e = create_engine(u, connect_args={"timeout": 30})  # waits for another writer
        event.listen(e, "connect", _sqlite_connect)
        event.listen(e, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return e
    # A server: check a pooled connection before use (the server may have restarted).
    return create_engine(u, pool_pre_ping=True, pool_recycle=3600,
                         connect_args={"connect_timeout": 10})


def version(c: Connection) -> int:
    """The tables' version: schema_version's, else SQLite's user_version (0: empty)."""
    if inspect(c).has_table("schema_version"):
        return c.execute(select(func.max(schema.schema_version.c.version))).scalar() or 0
    if c.dialect.name == "sqlite":
        return int(c.exec_driver_sql("PRAGMA user_version").scalar() or 0)
    return 0


def prepare(e: Engine) -> None:
    """Create the missing tables, convert an older schema; RuntimeError for a database made
    by a newer twcm."""
    with e.begin() as c:
        found = version(c)
        if found > VERSION:
            raise RuntimeError(f"{e.url.render_as_string()}: made by a newer twcm (schema "
                               f"{found}; this twcm knows {VERSION})")
        if found == VERSION:
            return
        if 1 <= found <= 4 and c.dialect.name == "sqlite":
            _from_sqlite_store(c)
        schema.metadata.create_all(c)  # what is missing (all of it in a new database)
        c.execute(schema.schema_version.delete())
        c.execute(schema.schema_version.insert().values(version=VERSION))
        if c.dialect.name == "sqlite":
            c.exec_driver_sql(f"PRAGMA user_version = {VERSION}")


def _rebuild(c: Connection, table: str, columns: str, select_list: str) -> None:
    """Make `table` anew with its current columns from the old one's rows."""
    c.exec_driver_sql(f"ALTER TABLE {table} RENAME TO old_{table}")
    c.exec_driver_sql(f"DROP INDEX IF EXISTS {table}_site_at")  # moved with the old table
    schema.metadata.tables[table].create(c)
    c.exec_driver_sql(f"INSERT INTO {table} ({columns}) SELECT {select_list} FROM old_{table}")
    c.exec_driver_sql(f"DROP TABLE old_{table}")


def _from_sqlite_store(c: Connection) -> None:
    """Versions 1-4 (twcm's sqlite3 store) to 5; charge_now, settings and twc_caps, the
    same tables, stay as they are (or come with create_all where they are missing)."""
    schema.decisions.create(c)
    c.exec_driver_sql("INSERT INTO decisions (at, site, amps, reason) "
                      "SELECT at, site, limit_amps, reason FROM samples")
    energy = "at, site, generation_w, consumption_w, grid_import_w, battery_soc"
    _rebuild(c, "samples", energy, energy)
    kept = "at, site, twc, link, state, offered_amps, actual_amps, lifetime_kwh"
    _rebuild(c, "slave_status", f"{kept}, volts_a, volts_b, volts_c, vin",
             f"{kept}, json_extract(volts, '$[0]'), json_extract(volts, '$[1]'), "
             "json_extract(volts, '$[2]'), vin")
    c.exec_driver_sql("CREATE INDEX sessions_key ON sessions (site, twc, start)")
