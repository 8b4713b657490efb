"""Several feeds into one Reading: sum, priority with failover, a fixed choice, and
stale readings that become unknown rather than 0 W."""
from __future__ import annotations

import pytest

from twcm.service.sources import Reading
from twcm.service.sources.combine import Meters
from twcm.service.sources.feed import Feed

NOW = 1_000_000.0


def feed(name: str, roles: tuple[str, ...], reading: Reading | None, age_s: float = 1.0,
         max_age_s: float = 30.0) -> Feed:
    f = Feed(name, "static", source=None, roles=roles, interval_s=2.0,  # type: ignore[arg-type]
             max_age_s=max_age_s)
    if reading is not None:
        f.latest = Reading(**{**reading.__dict__, "at": NOW - age_s})
        f.received = NOW - age_s
    return f


def test_sum_adds_two_inverters_and_is_unknown_if_one_is_stale():
    a = feed("a", ("generation",), Reading(generation_w=1000.0))
    b = feed("b", ("generation",), Reading(generation_w=2500.0))
    m = Meters([a, b], {"generation": "sum"})
    c = m.combine(NOW)
    assert c.reading is not None and c.reading.generation_w == 3500.0
    assert c.used == {"generation": ["a", "b"]}
    b.latest = Reading(generation_w=2500.0, at=NOW - 60)
    b.received = NOW - 60
    c = m.combine(NOW)
    assert c.reading is None  # half the sun is not "the sun"
    stale = {s.name: s.stale for s in c.feeds}
    assert stale["a"] is None and "60 s old" in stale["b"]


def test_priority_fails_over_to_the_next_fresh_source_and_back():
    main = feed("p1", ("grid",), Reading(grid_import_w=-1200.0, phase_amps=(-2.0, -3.0, 0.0)))
    spare = feed("hass", ("grid",), Reading(grid_import_w=-1000.0))
    m = Meters([main, spare], {"grid": "priority"})
    assert m.combine(NOW).reading.grid_import_w == -1200.0
    assert m.combine(NOW).reading.phase_amps == (-2.0, -3.0, 0.0)
    main.received = NOW - 100  # stopped answering
    c = m.combine(NOW)
    assert c.reading.grid_import_w == -1000.0 and c.reading.phase_amps is None
    assert c.used == {"grid": ["hass"]}


def test_a_fixed_choice_uses_only_that_source():
    a = feed("a", ("consumption",), Reading(consumption_w=800.0))
    b = feed("b", ("consumption",), Reading(consumption_w=650.0))
    m = Meters([a, b], {"consumption": "b"})
    assert m.combine(NOW).reading.consumption_w == 650.0
    b.latest = None
    assert m.combine(NOW).reading is None


def test_roles_take_only_their_fields_from_each_source():
    inverter = feed("inv", ("generation", "battery"),
                    Reading(generation_w=4000.0, consumption_w=999.0, battery_soc=80.0,
                            battery_w=-500.0))
    meter = feed("p1", ("grid", "consumption"),
                 Reading(grid_import_w=-2000.0, consumption_w=1500.0, volts=231.0))
    r = Meters([inverter, meter], {}).combine(NOW).reading
    assert (r.generation_w, r.consumption_w, r.grid_import_w, r.battery_w, r.battery_soc,
            r.volts) == (4000.0, 1500.0, -2000.0, -500.0, 80.0, 231.0)


def test_a_source_that_does_not_know_a_role_leaves_it_unknown_never_zero():
    inverter = feed("inv", ("generation", "consumption", "grid"),
                    Reading(generation_w=3000.0))  # no smart meter: no load, no grid
    r = Meters([inverter], {}).combine(NOW).reading
    assert r.generation_w == 3000.0 and r.consumption_w is None and r.grid_import_w is None


def test_the_combined_reading_is_as_old_as_its_oldest_part():
    a = feed("a", ("generation",), Reading(generation_w=1.0), age_s=3)
    b = feed("b", ("consumption",), Reading(consumption_w=1.0), age_s=20)
    assert Meters([a, b], {}).combine(NOW).reading.at == NOW - 20


@pytest.mark.parametrize("values,want", [((230.0, 232.0), 231.0), ((230.0, None), None)])
def test_summed_grid_meters_average_the_voltage(values, want):
    feeds = [feed(f"m{i}", ("grid",), Reading(grid_import_w=100.0, volts=v))
             for i, v in enumerate(values)]
    r = Meters(feeds, {"grid": "sum"}).combine(NOW).reading
    assert r.grid_import_w == 200.0
    assert r.volts == (230.0 if want is None else want)
