"""twcm.service.history.sql through the writer, on SQLite and on a real MariaDB: the four
records as rows, read back as the REST API does; sessions updated in place; retention; a
server that goes down and comes back (records held, the queue's drops counted)."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from test_history_sessions import state
from twcm.service.history import schema
from twcm.service.history.records import (ChargeSession, DecisionRecord, EnergySample,
                                          TwcStatus)
from twcm.service.history.sessions import DeviceRecords
from twcm.service.history.sql import DAY_S, SqlBackend
from twcm.service.history.writer import Writer
from twcm.service.store import Store

VIN = "5YJ3E1EA7JF000001"


def sample(at: float, site: str = "home") -> EnergySample:
    return EnergySample(at, site, 4000.0, 500.0, 2300.0, -1200.0, 300.0, 55.0)


def decision(at: float, site: str = "home") -> DecisionRecord:
    return DecisionRecord(at, site, 10, "green", "wiring", "green: surplus 2300 W ÷ 230 V")


def writer(url, **options) -> Writer:
    return Writer([("database", SqlBackend(url, options.pop("keep_days", None),
                                           options.pop("keep_sessions_days", None)))],
                  linger_s=0.01, **options)


def test_records_are_rows_read_back_as_the_api_does(db_url):
    store = Store(db_url)
    w = writer(db_url)
    for at in (100.0, 105.0):
        w.submit(sample(at))
        w.submit(decision(at))
    w.submit(sample(107.0, "barn"))  # another site; a turn whose decision is not written yet
    device = DeviceRecords("home")
    for at, s in [(100.0, {"state": "charging", "actual_amps": 16.0, "wanting": True}),
                  (160.0, {"state": "charging", "actual_amps": 16.0, "wanting": True,
                           "vin": VIN, "volts": [230, 231, 229]}),
                  (220.0, {"state": "ready", "wanting": False, "vin": VIN})]:
        for r in device.update(at, state(s)):
            w.submit(r)
    assert w.flush(10)
    assert store.samples("home", 100.0, 106.0, 10) == [
        {"at": at, "site": "home", "generation_w": 4000.0, "consumption_w": 500.0,
         "grid_import_w": -1200.0, "battery_soc": 55.0, "limit_amps": 10,
         "reason": "green: surplus 2300 W ÷ 230 V", "charging_w": 2300.0, "battery_w": 300.0}
        for at in (100.0, 105.0)]
    assert store.samples("home", 100.0, 106.0, 1)[0]["at"] == 100.0
    assert store.samples("barn", 0, 1e10, 10)[0]["limit_amps"] is None
    (session,) = store.sessions()  # start, update and end: one row, updated in place
    assert (session["site"], session["twc"], session["vin"], session["start"], session["end"],
            session["updated"]) == ("home", "1A2B", VIN, 100.0, 220.0, 220.0)
    kwh = 16 * (230 + 690) * 60 / 3600 / 1000  # one phase, then three
    assert session["kwh"] == pytest.approx(kwh) and store.sessions("nope") == []
    assert store.kwh_per_vin() == pytest.approx({VIN: kwh})
    with store.engine.connect() as c:
        rows = c.execute(select(schema.slave_status.c["at", "state", "volts_a", "volts_b",
                                                       "volts_c", "vin"])
                         .order_by(schema.slave_status.c.at)).all()
        claims = c.execute(select(schema.decisions.c["claim", "capped_by"])).all()
    assert [tuple(r) for r in rows] == [(100.0, "charging", 230, 0, 0, None),
                                        (160.0, "charging", 230, 231, 229, VIN),
                                        (220.0, "ready", 230, 0, 0, VIN)]
    assert set(claims) == {("green", "wiring")}
    w.close()
    store.close()


def test_a_session_a_crash_left_open_ends_at_its_last_update(db_url):
    w = writer(db_url)
    w.submit(ChargeSession("home", "1A2B", VIN, 10.0, 100, None, 101, 1.0, 70.0, 0.2))
    w.close()
    SqlBackend(db_url).close()  # the next start
    store = Store(db_url)
    (session,) = store.sessions()
    assert (session["end"], session["start_lifetime_kwh"], session["end_lifetime_kwh"],
            session["integrated_kwh"]) == (70.0, 100, 101, 0.2)
    store.close()


def test_old_history_goes_after_keep_days_sessions_only_if_asked(db_url):
    store = Store(db_url)
    w = writer(db_url, keep_days=10)
    old, new = 1e9, 1e9 + 11 * DAY_S
    w.submit(ChargeSession("home", "1A2B", VIN, old, 100, old + 600, 107, 7.0, old + 600))
    w.submit(TwcStatus(old, "home", "1A2B", "linked", "ready", 0, 0, 100, (230, 0, 0), None))
    for at in (old, new):
        w.submit(sample(at))
        w.submit(decision(at))
    assert w.flush(10)
    assert [s["at"] for s in store.samples("home", 0, 2e9, 10)] == [new]
    assert len(store.sessions()) == 1
    with store.engine.connect() as c:
        assert c.execute(select(schema.slave_status)).all() == []
        assert [r.at for r in c.execute(select(schema.decisions))] == [new]
    w.close()
    w = writer(db_url, keep_sessions_days=30)  # sessions too, once asked
    w.submit(sample(old + 40 * DAY_S))
    assert w.flush(10) and store.sessions() == []
    w.close()
    store.close()


def until(test, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_records_wait_while_the_server_is_down_and_arrive_when_it_is_back(mariadb_server):
    url = mariadb_server.url()
    store = Store(url)
    w = Writer([("database", SqlBackend(url))], batch=10, capacity=40, linger_s=0.01,
               retry_s=0.05, retry_max_s=0.2)
    w.submit(sample(1.0))
    assert w.flush(10)
    mariadb_server.stop()
    try:
        for at in range(2, 12):
            w.submit(sample(float(at)))
        until(lambda: w.status()[0]["error"] is not None, "the failure seen")
        for at in range(12, 62):  # 60 turns while it is down in all: 40 held, 20 dropped
            w.submit(sample(float(at)))
        status = w.status()[0]
        assert (status["held"], status["dropped"], status["written"]) == (40, 20, 1)
    finally:
        mariadb_server.start()
    assert w.flush(30)  # the back-off's next try finds the server again
    kept = [s["at"] for s in store.samples("home", 0, 100, 100)]
    taken = kept[1:11]  # the batch taken before the queue filled was held, not dropped
    assert kept[0] == 1.0 and taken == [float(at) for at in range(2, 12)]
    assert kept[11:] == [float(at) for at in range(32, 62)]  # the newest; the oldest dropped
    assert w.status()[0] == {"backend": "database", "held": 0, "written": 41, "dropped": 20,
                             "error": None}
    w.close()
    store.close()
