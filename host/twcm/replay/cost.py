"""What the replayed day cost, and the cheapest it could have cost knowing it all ahead.

The site's cost of a step: import price × kWh from the grid − export price × kWh sent to
it, for the house and the cars together (grid = house + cars − generation). The cheapest
plan afterwards (perfect foresight): the house as it was, and the cars' energy (the
target by the departure, else what they took) in the cheapest kWh of the day. In each
step the car could take up to its full power: first the surplus, which costs the export
price it would have earned, then the grid at the import price. No minimum current, no
ramps: a bound no plan can beat.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twcm.service.tariffs.base import Slot


def price_at(slots: Sequence[Slot], t: float) -> Slot | None:
    return next((s for s in slots if s.covers(t)), None)


def step_cost(slot: Slot | None, grid_w: float, hours: float) -> float:
    """The cost of `grid_w` (negative: exporting) held for `hours`; 0 without a price."""
    if slot is None:
        return 0.0
    kwh = grid_w * hours / 1000
    return slot.import_price * kwh if kwh > 0 else slot.export_price * kwh


@dataclass(frozen=True)
class Deadline:
    at: float  # Unix seconds
    kwh: float  # the target to have put in by then


def cheapest(slots: Sequence[Slot], times: Sequence[float], generation_w: Sequence[float],
             house_w: Sequence[float], hours: float, car_max_w: float, car_kwh: float,
             deadline: Deadline | None = None) -> float:
    """The least the day could have cost with the house as it was and the cars taking
    `car_kwh` (at least the deadline's kWh, that much of it before the deadline).
    `times`: each step's start, Unix seconds."""
    base = 0.0
    before: list[tuple[float, float]] = []  # (cost per kWh, kWh) the car could take
    after: list[tuple[float, float]] = []
    for t, gen, house in zip(times, generation_w, house_w):
        slot = price_at(slots, t)
        base += step_cost(slot, house - gen, hours)
        imp = slot.import_price if slot else 0.0
        exp = slot.export_price if slot else 0.0
        sun_w = min(car_max_w, max(0.0, gen - house))
        late = deadline is not None and t >= deadline.at
        (after if late else before).extend(
            [(exp, sun_w * hours / 1000), (imp, (car_max_w - sun_w) * hours / 1000)])
    first = deadline.kwh if deadline is not None else 0.0
    cost, rest = _buy(sorted(before), first)
    more, _ = _buy(sorted(rest + after), max(car_kwh, first) - first)
    return base + cost + more


def _buy(offers: list[tuple[float, float]], kwh: float
         ) -> tuple[float, list[tuple[float, float]]]:
    """The cost of the cheapest `kwh` of the sorted offers, and the offers left."""
    cost, left = 0.0, []
    for price, size in offers:
        take = min(size, max(0.0, kwh))
        cost += price * take
        kwh -= take
        if size - take > 1e-12:
            left.append((price, size - take))
    return cost, left
