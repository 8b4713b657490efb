"""twcm.service.store: the schema, charge sessions per VIN, status rate limits, durability."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from twcm.service.devicelink import DeviceState, parse_state
from twcm.service.sources import Reading
from twcm.service.store import MIGRATIONS, Store


def state(*slaves: dict[str, Any]) -> DeviceState:
    base = {"id": "1A2B", "link": "linked", "offered_amps": 16, "actual_amps": 0.0,
            "state": "ready", "volts": [230, 0, 0], "protocol": 2, "max_amps": 32,
            "lifetime_kwh": 100, "vin": None, "cap_amps": None}
    return parse_state({"mode": "lease", "source": "lease", "limit_amps": 16,
                        "wiring_max_amps_all": 40, "wiring_max_amps_per_twc": 32,
                        "slaves": [{**base, **s} for s in slaves]})


def test_a_session_lasts_while_the_device_says_its_car_wants_current(tmp_path):
    store = Store(tmp_path / "twcm.db")
    store.status(0, "home", state({"state": "plugged", "wanting": True}))  # waits for the sun
    store.status(60, "home", state({"state": "charging", "actual_amps": 10.0, "wanting": True}))
    store.status(120, "home", state({"state": "plugged", "wanting": True}))  # paused: the same
    store.status(180, "home", state({"state": "plugged", "wanting": False}))  # full, plugged
    # Firmware from before `wanting`: the draw decides (1 A or more).
    store.status(300, "home", state({"state": "charging", "actual_amps": 10.0}))
    store.status(360, "home", state({"state": "charging", "actual_amps": 0.5}))
    store.status(420, "home", state({"state": "plugged", "actual_amps": 0.0}))
    assert [(s["start"], s["end"]) for s in store.sessions()] == [(0, 180), (300, 360)]
    assert store.sessions()[0]["integrated_kwh"] == pytest.approx(10 * 230 * 60 / 3600 / 1000)


def test_schema_is_created_in_wal_mode(tmp_path):
    store = Store(tmp_path / "sub" / "twcm.db")
    tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"samples", "slave_status", "sessions", "charge_now", "settings",
                      "twc_caps"}
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    store.close()
    Store(tmp_path / "sub" / "twcm.db").close()  # a second open migrates nothing


def test_a_database_of_a_newer_twcm_is_refused(tmp_path):
    db = sqlite3.connect(tmp_path / "twcm.db")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="made by a newer twcm"):
        Store(tmp_path / "twcm.db")


def test_sessions_per_vin_from_the_lifetime_counter_or_amps_times_volts(tmp_path):
    store = Store(tmp_path / "twcm.db")
    vin_a, vin_b = "5YJ3E1EA7JF000001", "5YJ3E1EA7JF000002"
    store.status(0, "home", state({"state": "ready"}))
    assert store.sessions() == []
    # Car A: plugged at t=100, its VIN read at t=160, 16 A x 230 V for 30 min, counter moves 0.
    store.status(100, "home", state({"state": "charging", "actual_amps": 16.0}))
    store.status(160, "home", state({"state": "charging", "actual_amps": 16.0, "vin": vin_a}))
    for t in range(220, 1900, 60):
        store.status(t, "home", state({"state": "charging", "actual_amps": 16.0, "vin": vin_a}))
    store.status(1900, "home", state({"state": "ready"}))
    # Car B on the same TWC: the counter moves by 7 kWh, that wins over the integral.
    store.status(2000, "home", state({"state": "charging", "actual_amps": 32.0, "vin": vin_b}))
    store.status(2060, "home", state({"state": "charging", "actual_amps": 32.0, "vin": vin_b,
                                      "lifetime_kwh": 107}))
    store.status(2100, "home", state())  # the slave is gone: its session ends too
    a, b = store.sessions()
    assert (a["vin"], a["start"], a["end"], b["vin"], b["start"], b["end"]) == (
        vin_a, 100, 1900, vin_b, 2000, 2100)
    assert a["kwh"] == pytest.approx(16 * 230 * 1800 / 3600 / 1000)  # 1.84 kWh
    assert (b["start_lifetime_kwh"], b["end_lifetime_kwh"], b["kwh"]) == (100, 107, 7)
    assert store.kwh_per_vin() == pytest.approx({vin_a: 1.84, vin_b: 7})
    assert [s["vin"] for s in store.sessions(vin_b)] == [vin_b]


def test_status_rows_on_change_and_every_status_every_s(tmp_path):
    store = Store(tmp_path / "twcm.db", status_every_s=60)
    for t in range(0, 50, 5):  # unchanged for 50 s: one row
        store.status(t, "home", state({"actual_amps": 0.2}))
    store.status(50, "home", state({"state": "charging", "actual_amps": 6.0}))  # changed
    store.status(55, "home", state({"state": "charging", "actual_amps": 6.3}))  # < 1 A
    store.status(110, "home", state({"state": "charging", "actual_amps": 6.3}))  # 60 s on
    rows = store.db.execute("SELECT at, state, volts FROM slave_status").fetchall()
    assert rows == [(0, "ready", "[230, 0, 0]"), (50, "charging", "[230, 0, 0]"),
                    (110, "charging", "[230, 0, 0]")]


def test_writes_survive_a_crash_and_open_sessions_are_closed_on_reopen(tmp_path):
    path = tmp_path / "twcm.db"
    writer = f"""
import os
from pathlib import Path
from test_store import state
from twcm.service.sources import Reading
from twcm.service.store import Store
s = Store(Path({str(path)!r}))
s.sample(10.0, "home", Reading(4000.0, 500.0, -3500.0, at=9.0), 13, "green: started")
s.sample(15.0, "home", None, None, "no reading")
s.status(20.0, "home", state({{"state": "charging", "actual_amps": 8.0}}))
s.status(80.0, "home", state({{"state": "charging", "actual_amps": 8.0}}))
os._exit(0)  # no close(): as a crash would
"""
    here = str(Path(__file__).parent)
    subprocess.run([sys.executable, "-c", writer], check=True,
                   env={**os.environ, "PYTHONPATH": here})
    store = Store(path)
    assert store.db.execute("SELECT * FROM samples").fetchall() == [
        (10.0, "home", 4000.0, 500.0, -3500.0, None, 13, "green: started"),
        (15.0, "home", None, None, None, None, None, "no reading")]
    (session,) = store.sessions()
    assert (session["start"], session["end"]) == (20.0, 80.0)
    assert session["kwh"] == pytest.approx(8 * 230 * 60 / 3600 / 1000)
    store.sample(90.0, "home", Reading(grid_import_w=100.0, battery_soc=55.0, at=90.0), 0, "x")
    assert store.db.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == 3
