"""twcm.service.history.sessions: the device's states as TwcStatus and ChargeSession
records (sessions per VIN with their kWh; statuses on change and every status_every_s)."""
from __future__ import annotations

from typing import Any

import pytest

from twcm.service.devicelink import DeviceState, parse_state
from twcm.service.history.records import ChargeSession, TwcStatus
from twcm.service.history.sessions import DeviceRecords


def state(*slaves: dict[str, Any]) -> DeviceState:
    base = {"id": "1A2B", "link": "linked", "offered_amps": 16, "actual_amps": 0.0,
            "state": "ready", "volts": [230, 0, 0], "protocol": 2, "max_amps": 32,
            "lifetime_kwh": 100, "vin": None, "cap_amps": None}
    return parse_state({"mode": "lease", "source": "lease", "limit_amps": 16,
                        "wiring_max_amps_all": 40, "wiring_max_amps_per_twc": 32,
                        "slaves": [{**base, **s} for s in slaves]})


def sessions(records: list) -> list[ChargeSession]:
    """The last record of each session, in the order they started (what a table keeps)."""
    last: dict[tuple, ChargeSession] = {}
    for r in records:
        if isinstance(r, ChargeSession):
            last[(r.site, r.twc, r.start)] = r
    return list(last.values())


def feed(device: DeviceRecords, *states: tuple[float, DeviceState]) -> list:
    return [r for at, s in states for r in device.update(at, s)]


def test_a_session_lasts_while_the_device_says_its_car_wants_current():
    records = feed(DeviceRecords("home"),
                   (0, state({"state": "plugged", "wanting": True})),  # waits for the sun
                   (60, state({"state": "charging", "actual_amps": 10.0, "wanting": True})),
                   (120, state({"state": "plugged", "wanting": True})),  # paused: the same
                   (180, state({"state": "plugged", "wanting": False})),  # full, plugged
                   # Firmware from before `wanting`: the draw decides (1 A or more).
                   (300, state({"state": "charging", "actual_amps": 10.0})),
                   (360, state({"state": "charging", "actual_amps": 0.5})),
                   (420, state({"state": "plugged", "actual_amps": 0.0})))
    done = sessions(records)
    assert [(s.start, s.end) for s in done] == [(0, 180), (300, 360)]
    assert done[0].integrated_kwh == pytest.approx(10 * 230 * 60 / 3600 / 1000)
    # Sent as it starts (end None), as it grows and as it ends.
    first = [r for r in records if isinstance(r, ChargeSession) and r.start == 0]
    assert [r.end for r in first] == [None, None, None, 180]
    assert [r.updated for r in first] == [0, 60, 120, 180]


def test_sessions_per_vin_from_the_lifetime_counter_or_amps_times_volts():
    vin_a, vin_b = "5YJ3E1EA7JF000001", "5YJ3E1EA7JF000002"
    device = DeviceRecords("home")
    assert sessions(device.update(0, state({"state": "ready"}))) == []
    # Car A: plugged at t=100, its VIN read at t=160, 16 A x 230 V for 30 min, counter moves 0.
    steps = [(100, state({"state": "charging", "actual_amps": 16.0})),
             (160, state({"state": "charging", "actual_amps": 16.0, "vin": vin_a}))]
    steps += [(t, state({"state": "charging", "actual_amps": 16.0, "vin": vin_a}))
              for t in range(220, 1900, 60)]
    steps += [(1900, state({"state": "ready"})),
              # Car B on the same TWC: the counter moves by 7 kWh, that wins over the integral.
              (2000, state({"state": "charging", "actual_amps": 32.0, "vin": vin_b})),
              (2060, state({"state": "charging", "actual_amps": 32.0, "vin": vin_b,
                            "lifetime_kwh": 107})),
              (2100, state())]  # the slave is gone: its session ends too
    a, b = sessions(feed(device, *steps))
    assert (a.vin, a.start, a.end, b.vin, b.start, b.end) == (vin_a, 100, 1900, vin_b, 2000,
                                                              2100)
    assert a.kwh == pytest.approx(16 * 230 * 1800 / 3600 / 1000)  # 1.84 kWh
    assert (b.start_kwh, b.end_kwh, b.kwh) == (100, 107, 7)


def test_status_records_on_change_and_every_status_every_s():
    device = DeviceRecords("home", status_every_s=60)
    steps = [(t, state({"actual_amps": 0.2})) for t in range(0, 50, 5)]  # unchanged: one
    steps += [(50, state({"state": "charging", "actual_amps": 6.0})),  # changed
              (55, state({"state": "charging", "actual_amps": 6.3})),  # < 1 A
              (110, state({"state": "charging", "actual_amps": 6.3}))]  # 60 s on
    rows = [(r.at, r.state, r.volts) for r in feed(device, *steps) if isinstance(r, TwcStatus)]
    assert rows == [(0, "ready", (230, 0, 0)), (50, "charging", (230, 0, 0)),
                    (110, "charging", (230, 0, 0))]
