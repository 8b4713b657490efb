"""The planner: the cheapest slots to a car's target by its departure, the sun first."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from twcm.service.policy.planner import Need, SolarSlot, plan, plan_claim
from twcm.service.tariffs import Slot

ZONE = ZoneInfo("Europe/Vienna")
H = 3600.0


def at(hh: int, mm: int = 0, day: int = 1) -> float:
    return datetime(2026, 6, day, hh, mm, tzinfo=ZONE).timestamp()


def hourly(start: float, prices: list[float], step: float = H) -> list[Slot]:
    return [Slot(start + i * step, start + (i + 1) * step, p, 0.0, "EUR")
            for i, p in enumerate(prices)]


# 18:00 to 07:00: evening dear, 01:00-03:00 cheapest, then middling.
NIGHT = hourly(at(18), [0.40, 0.38, 0.35, 0.30, 0.25, 0.20, 0.18, 0.11, 0.12, 0.15, 0.19,
                        0.22, 0.28])


def need(kwh: float, departure: float = at(7, day=2), charge_w: float = 7360.0) -> Need:
    return Need("Model 3", kwh, departure, "80 %", charge_w, 32, min_w=6 * 230)


def test_the_cheapest_slots_and_a_partial_last_one_reach_the_target():
    p = plan(need(10.0), NIGHT, [], at(18), ZONE)
    # 10 kWh at 7.36 kW: 1.36 h; the cheapest hour 01:00 then 02:00 for what is left.
    assert [(s.start, s.end) for s in p.slots] == [(at(1, day=2), at(2, 22, day=2))]
    assert p.cost == pytest.approx(7.36 * 0.11 + (10 - 7.36) * 0.12)
    assert p.short_kwh == 0
    assert p.reason.startswith("Model 3: cheapest 1.4 h from 01:00 at 0.11 EUR/kWh to "
                               "reach 80 % by 07:00")


def test_equal_prices_charge_early_and_no_prices_charge_now():
    flat = hourly(at(18), [0.2] * 13)
    assert plan(need(7.36), flat, [], at(18), ZONE).slots[0].start == at(18)
    p = plan(need(7.36), [], [], at(18, 30), ZONE)
    assert [(s.start, s.end) for s in p.slots] == [(at(18, 30), at(19, 30))]
    assert "no prices known" in p.reason and p.cost is None


def test_quarter_hour_slots_are_used_as_given():
    quarters = hourly(at(0, day=2), [0.3, 0.3, 0.05, 0.3, 0.06, 0.3, 0.3, 0.3], step=900)
    p = plan(need(7.36 / 2, departure=at(2, day=2)), quarters, [], at(0, day=2), ZONE)
    assert [(s.start, s.end) for s in p.slots] == [(at(0, 30, day=2), at(0, 45, day=2)),
                                                   (at(1, 0, day=2), at(1, 15, day=2))]


def test_the_sun_comes_first_and_the_rest_is_bought():
    day = hourly(at(6), [0.30] * 4 + [0.25] * 6 + [0.35] * 8)  # 06:00 to 24:00
    sun = [SolarSlot(at(10), at(14), 4500.0)]  # 4 kW surplus over a 500 W house
    p = plan(need(20.0, departure=at(23)), day, sun, at(6), ZONE, house_w=500.0)
    assert p.solar_kwh == pytest.approx(16.0)
    # 4 kWh still to buy, in the cheapest hours, less what the sun gives in them.
    # The cheapest (0.25) begins in the sun: there the car takes 3.36 kW more than the
    # sun gives; 3.36 kWh from 10:00 to 11:00, the other 0.64 kWh by 11:12.
    assert [(s.start, s.end, s.price) for s in p.slots] == [(at(10), at(11, 12), 0.25)]
    assert "solar expected to cover 16.0 kWh" in p.reason
    enough = plan(need(10.0, departure=at(23)), day, sun, at(6), ZONE, house_w=500.0)
    assert enough.slots == () and "the sun is expected to be enough" in enough.reason


def test_a_sun_below_the_cars_minimum_is_not_counted():
    weak = [SolarSlot(at(10), at(14), 1200.0)]  # 700 W over the house: below 6 A
    p = plan(need(5.0, departure=at(23)), [], weak, at(6), ZONE, house_w=500.0)
    assert p.solar_kwh == 0 and p.slots


def test_too_little_time_charges_all_of_it_and_says_what_is_missing():
    p = plan(need(30.0, departure=at(21)), NIGHT, [], at(18), ZONE)
    assert [(s.start, s.end) for s in p.slots] == [(at(18), at(21))]
    assert p.short_kwh == pytest.approx(30 - 3 * 7.36)
    assert "kWh short even charging all the time left" in p.reason


def test_the_claim_is_on_only_in_a_slot_and_cars_add_up_to_the_site_maximum():
    a = plan(need(10.0), NIGHT, [], at(18), ZONE)
    b = plan(Need("Leaf", 3.0, at(7, day=2), "3 kWh", 3680.0, 16), NIGHT, [], at(18), ZONE)
    assert a.claim(at(0, 30, day=2)) is None
    c = a.claim(at(1, 30, day=2))
    assert (c.source, c.amps, c.reason) == ("plan", 32, a.reason)
    both = plan_claim((a, b), at(1, 30, day=2), max_amps=40)
    assert both.amps == 40 and a.reason in both.reason and b.reason in both.reason
    assert plan_claim((a, b), at(23), 40) is None
    assert a.spans() == [(int(at(1, day=2)), int(at(2, 22, day=2)), 32)]


def test_a_target_reached_plans_nothing():
    p = plan(need(0.0), NIGHT, [], at(18), ZONE)
    assert p.slots == () and "reached" in p.reason
