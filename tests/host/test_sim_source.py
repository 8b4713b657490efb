"""The "sim" meter source: the house alone, or with loads added (twcm demo's cars)."""
from __future__ import annotations

import asyncio

import pytest

from twcm.service.sources.integrations.sim import Sim, SimOptions

# A day that stands still (a microsecond a second), so that `at` gives what `read` saw.
STILL = {"start": "12:30", "speed": 1e-6, "peak_w": 6000.0}


def test_alone_the_consumption_is_the_house():
    sim = Sim(SimOptions(**STILL))
    r = asyncio.run(sim.read())
    generation, house = sim.at(sim.seconds_of_day())
    assert generation > 3000  # midday
    assert (r.generation_w, r.consumption_w) == (generation, house)
    assert r.grid_import_w == pytest.approx(house - generation)


def test_added_loads_count_in_the_consumption_and_the_grid():
    sim = Sim(SimOptions(**STILL))
    cars = [7000.0, 1500.0]
    sim.add_load(lambda: cars[0])
    sim.add_load(lambda: cars[1])
    r = asyncio.run(sim.read())
    generation, house = sim.at(sim.seconds_of_day())
    assert r.consumption_w == pytest.approx(house + 8500)
    assert r.grid_import_w == pytest.approx(r.consumption_w - generation)
    assert r.grid_import_w > 0  # 8.5 kW of cars import from the grid at 6 kW peak
    cars[:] = [0.0, 0.0]  # read again at each reading
    assert asyncio.run(sim.read()).consumption_w == pytest.approx(house)
