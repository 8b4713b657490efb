"""twcm.service.store: the schema made and migrated on open (the SQLite databases of the
sqlite3 store before it included), and what a restart must find, on SQLite and MariaDB."""
from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy import inspect

from twcm.service.history.schema import VERSION
from twcm.service.store import Store

# The sqlite3 store's migrations (PRAGMA user_version 1-4), as it made its databases.
OLD_STORE = (
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
TABLES = {"samples", "decisions", "slave_status", "sessions", "charge_now", "settings",
          "twc_caps", "schema_version"}


def old_store(path, version: int) -> None:
    """A database as the sqlite3 store left it at `version`, with rows in every table."""
    db = sqlite3.connect(path)
    for n, sql in enumerate(OLD_STORE[:version], 1):
        db.executescript(f"BEGIN; {sql}; PRAGMA user_version = {n}; COMMIT;")
    db.executemany("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [(10.0, "home", 4000.0, 500.0, -3500.0, None, 13, "green: started"),
                    (15.0, "home", None, None, None, 55.0, None, "no reading")])
    db.execute("INSERT INTO slave_status VALUES (20.0, 'home', '1A2B', 'linked', 'charging',"
               " 16, 8.2, '[230, 231, null]', 100, '5YJ3E1EA7JF000001')")
    db.execute("INSERT INTO sessions VALUES (1, 'home', '1A2B', '5YJ3E1EA7JF000001', 20.0,"
               " 80.0, 80.0, 100, 101, 0.03, 1.0)")
    if version >= 4:
        db.execute("INSERT INTO charge_now VALUES ('home', 16, 2e9)")
        db.execute("INSERT INTO settings VALUES ('home', ?)", (json.dumps({"x": 1}),))
        db.execute("INSERT INTO twc_caps VALUES ('home', '1A2B', 12)")
    db.commit()
    db.close()


@pytest.mark.parametrize("version", [4, 1])
def test_a_database_of_the_sqlite3_store_migrates_without_losing_a_row(tmp_path, version):
    path = tmp_path / "twcm.db"
    old_store(path, version)
    store = Store(path)
    assert set(inspect(store.engine).get_table_names()) == TABLES
    assert store.samples("home", 0, 100, 10) == [
        {"at": 10.0, "site": "home", "generation_w": 4000.0, "consumption_w": 500.0,
         "grid_import_w": -3500.0, "battery_soc": None, "limit_amps": 13,
         "reason": "green: started", "charging_w": None, "battery_w": None},
        {"at": 15.0, "site": "home", "generation_w": None, "consumption_w": None,
         "grid_import_w": None, "battery_soc": 55.0, "limit_amps": None,
         "reason": "no reading", "charging_w": None, "battery_w": None}]
    (session,) = store.sessions("5YJ3E1EA7JF000001")
    assert (session["id"], session["start"], session["end"], session["kwh"]) == (1, 20, 80, 1)
    if version >= 4:
        assert (store.charge_now("home"), store.settings("home"), store.twc_caps("home")) == (
            (16, 2e9), {"x": 1}, {"1A2B": 12})
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT volts_a, volts_b, volts_c, offered_amps, vin FROM slave_status"
                      ).fetchall() == [(230, 231, None, 16, "5YJ3E1EA7JF000001")]
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION  # an older twcm refuses
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    Store(path).close()  # a second open migrates nothing


def test_a_database_of_a_newer_twcm_is_refused(tmp_path):
    db = sqlite3.connect(tmp_path / "twcm.db")
    db.execute(f"PRAGMA user_version = {VERSION + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="made by a newer twcm"):
        Store(tmp_path / "twcm.db")


def test_the_schema_is_made_once_and_a_newer_one_is_refused(db_url):
    store = Store(db_url)
    assert set(inspect(store.engine).get_table_names()) == TABLES
    store.close()
    store = Store(db_url)  # opened again: the same tables, nothing made twice
    with store.engine.begin() as c:
        c.exec_driver_sql(f"UPDATE schema_version SET version = {VERSION + 1}")
    store.close()
    with pytest.raises(RuntimeError, match=f"newer twcm \\(schema {VERSION + 1}"):
        Store(db_url)


def test_runtime_state_is_kept_and_replaced(db_url):
    store = Store(db_url)
    store.save_charge_now("home", 16, 1.5e9)
    store.save_charge_now("home", 20, 1.6e9)  # replaces
    store.save_settings("home", {"non_scheduled": "fixed", "reason": "÷ ×"})
    store.save_twc_cap("home", "1A2B", 12)
    store.save_twc_cap("home", "0C0D", 10)
    store.save_twc_cap("home", "1A2B", None)
    store.close()
    again = Store(db_url)  # as after a restart
    assert again.charge_now("home") == (20, 1.6e9) and again.charge_now("barn") is None
    assert again.settings("home") == {"non_scheduled": "fixed", "reason": "÷ ×"}
    assert again.twc_caps("home") == {"0C0D": 10} and again.twc_caps("barn") == {}
    again.save_charge_now("home", None)
    assert again.charge_now("home") is None
    again.close()
