"""The oracle: the most whole-amp green charging the surplus allows."""
from datetime import datetime

import pytest

from twcm.replay.oracle import best_offer, oracle
from twcm.replay.trace import Trace
from twcm.sim.car import draw_for


def trace(*surplus: float) -> Trace:
    """Readings a minute apart (house load 0), plus a closing one."""
    gen = tuple(surplus) + (0.0,)
    times = tuple(60.0 * k for k in range(len(gen)))
    return Trace(datetime(2026, 6, 21), times, gen, (0.0,) * len(gen))


def test_best_offer_takes_the_most_whole_amps_the_surplus_covers():
    # 10 A offered: the car draws 9.14 A = 2102 W; 11 A: 10.13 A = 2330 W.
    assert best_offer(2329, 230, 6, 32) == 10
    assert best_offer(2330, 230, 6, 32) == 11
    assert best_offer(100_000, 230, 6, 32) == 32
    assert best_offer(draw_for(6, 32) * 230 - 1, 230, 6, 32) == 0
    assert best_offer(draw_for(6, 32) * 230 - 1, 230, 6, 32, flex_w=1) == 6


def test_oracle_energy_on_tiny_days():
    assert oracle(trace(0.0), 230, 6, 32).surplus_kwh == 0.0
    one = oracle(trace(2330.0), 230, 6, 32)  # one minute at 11 A
    assert one.surplus_kwh == pytest.approx(draw_for(11, 32) * 230 / 60 / 1000)
    assert one.grid_kwh == 0.0
    # Below the minimum: nothing without flex; with flex the minimum, partly from the grid.
    low = draw_for(6, 32) * 230 - 200
    assert oracle(trace(low), 230, 6, 32).surplus_kwh == 0.0
    flexed = oracle(trace(low), 230, 6, 32, flex_w=250)
    assert flexed.surplus_kwh == pytest.approx(low / 60 / 1000)
    assert flexed.grid_kwh == pytest.approx(200 / 60 / 1000)
    capped = oracle(trace(50_000.0, 50_000.0), 230, 6, 16)
    assert capped.surplus_kwh == pytest.approx(2 * draw_for(16, 16) * 230 / 60 / 1000)
