"""The best green charging possible, knowing the whole day in advance.

One car on one Wall Connector, under the device's rules: the offer is 0 or
whole amps from min_amps to max_amps, and the car draws what it draws when
offered that (twcm.sim.car.draw_for: a little under the offer). At every
step the oracle offers the most whole amps whose draw the surplus covers;
below the minimum it charges at min_amps only if the import this causes
is within flex_w (the policy's own allowance), else not at all. It reacts
at once and ignores ramps and delays, so no policy can take more from the
surplus without importing more.
"""
from __future__ import annotations

from dataclasses import dataclass

from twcm.sim.car import draw_for
from twcm.replay.trace import Trace


@dataclass(frozen=True)
class OracleResult:
    surplus_kwh: float
    """Energy into the car from the surplus."""
    grid_kwh: float
    """Energy into the car from the grid (only through flex_w)."""


def best_offer(surplus_w: float, volts: float, min_amps: int, max_amps: int,
               flex_w: float = 0.0) -> int:
    """The whole-amp offer that takes the most surplus without importing
    more than flex_w (0 if none does)."""
    for amps in range(max_amps, min_amps - 1, -1):
        if draw_for(amps, max_amps) * volts <= surplus_w:
            return amps
    return min_amps if draw_for(min_amps, max_amps) * volts <= surplus_w + flex_w else 0


def oracle(trace: Trace, volts: float, min_amps: int, max_amps: int,
           flex_w: float = 0.0) -> OracleResult:
    """Energy the oracle charges over the trace (readings held for each step)."""
    surplus_wh = grid_wh = 0.0
    t = trace.t_s
    for k in range(len(t) - 1):
        surplus = trace.generation_w[k] - trace.consumption_w[k]
        car_w = draw_for(best_offer(surplus, volts, min_amps, max_amps, flex_w),
                         max_amps) * volts
        hours = (t[k + 1] - t[k]) / 3600.0
        green = min(car_w, max(0.0, surplus))
        surplus_wh += green * hours
        grid_wh += (car_w - green) * hours
    return OracleResult(surplus_wh / 1000.0, grid_wh / 1000.0)
