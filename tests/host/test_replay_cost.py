"""The replay scores what a day cost (import x grid kWh - export) against the cheapest plan
known afterwards, and whether the car's deadline was met."""
from __future__ import annotations

import pytest

from twcm.replay.cost import Deadline, cheapest, step_cost
from twcm.replay.days import clear_day
from twcm.replay.engine import replay, replay_settings
from twcm.replay.oracle import oracle
from twcm.replay.report import figures
from twcm.replay.trace import Trace
from twcm.service.tariffs import Slot

H = 3600.0


def test_step_cost_imports_at_the_import_price_and_exports_at_the_export_price():
    slot = Slot(0, H, 0.30, 0.08, "EUR")
    assert step_cost(slot, 2000.0, 0.5) == pytest.approx(0.30)
    assert step_cost(slot, -1000.0, 1.0) == pytest.approx(-0.08)
    assert step_cost(None, 2000.0, 1.0) == 0.0


def test_the_cheapest_plan_takes_the_sun_first_then_the_cheapest_grid_before_the_deadline():
    slots = [Slot(0, H, 0.30, 0.05, "EUR"), Slot(H, 2 * H, 0.10, 0.05, "EUR"),
             Slot(2 * H, 3 * H, 0.08, 0.05, "EUR")]
    times, gen, house = [0.0, H, 2 * H], [3000.0, 0.0, 0.0], [1000.0, 1000.0, 1000.0]
    base = -2 * 0.05 + 1 * 0.10 + 1 * 0.08  # the house alone
    # 5 kWh, no deadline: 2 kWh of sun (0.05), then 3 kWh in the 0.08 hour.
    assert cheapest(slots, times, gen, house, 1.0, 7000.0, 5.0) == pytest.approx(
        base + 2 * 0.05 + 3 * 0.08)
    # 5 kWh by the end of the second hour: not in the 0.08 hour.
    by = Deadline(2 * H, 5.0)
    assert cheapest(slots, times, gen, house, 1.0, 7000.0, 5.0, by) == pytest.approx(
        base + 2 * 0.05 + 3 * 0.10)
    # 8 kWh in all, 5 of them by the deadline: 3 more in the last hour.
    assert cheapest(slots, times, gen, house, 1.0, 7000.0, 8.0, by) == pytest.approx(
        base + 2 * 0.05 + 3 * 0.10 + 3 * 0.08)


NIGHT_TARIFF = {"type": "static", "import_price": 0.30, "export_price": 0.0,
                "window": [{"start": "01:00", "end": "02:00", "import_price": 0.10}]}


def test_a_planned_night_meets_the_deadline_near_the_cheapest_cost():
    night = Trace(clear_day().start, (0.0, 3 * H), (0.0, 0.0), (300.0, 300.0))
    r = replay(night, replay_settings("off", 32), decide_s=10, bus_step_ms=50,
               tariff=NIGHT_TARIFF, car={"departure": "03:00", "target_kwh": 5.0})
    assert r.deadline_met and 5.0 <= r.by_deadline_kwh < 5.6
    drawing = [s.t_s for s in r.samples if s.car_w > 0]
    assert H <= drawing[0] < H + 60 and drawing[-1] < 2 * H
    house = 0.3 * 3 * 0.30 - 0.3 * 1 * 0.20  # 300 W for 3 h, one of them at 0.10
    assert r.best_cost == pytest.approx(house + r.car_kwh * 0.10, rel=1e-3)
    assert r.best_cost - 1e-9 <= r.cost < r.best_cost + 0.05  # the plan is the cheapest
    lines = figures(r, oracle(night.resample(10), 230, 6, 32))
    assert lines[-2].startswith("cost") and "cheapest known afterwards" in lines[-2]
    assert lines[-1].startswith("deadline      met: 5.")


def test_without_a_plan_the_same_night_costs_more_and_a_short_night_misses_the_deadline():
    night = Trace(clear_day().start, (0.0, 3 * H), (0.0, 0.0), (300.0, 300.0))
    short = replay(night, replay_settings("off", 32), decide_s=10, bus_step_ms=50,
                   tariff=NIGHT_TARIFF, car={"departure": "00:20", "target_kwh": 5.0})
    assert short.deadline_met is False and short.by_deadline_kwh < 2.5
    assert "deadline      MISSED" in figures(short, oracle(night.resample(10), 230, 6, 32))[-1]
