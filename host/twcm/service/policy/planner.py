"""The planner: the cheapest charging that reaches a car's target by its departure.

    need = Need("Model 3", kwh=12.0, departure=t_dep, target="80 %", charge_w=7360, amps=32)
    p = plan(need, prices, solar, now=t, zone=ZoneInfo("Europe/Vienna"))
    p.claim(now)    # a "plan" claim while a planned slot is on, else None
    p.spans()       # the slots as (start, end, amps), for the device's stored schedule

The time from now to the departure is cut where prices change. The sun comes first: what
the forecast's surplus (generation less the house's load) is expected to give at the
car's rate, in pieces where it reaches the car's minimum, is counted as covered (green
tracking takes it; if the sun fails, the next re-plan buys what is missing). The rest is
bought in the cheapest pieces (the earlier one of equal price first), whole pieces but
the last, which is cut to what is still needed (rounded up to a minute). Pieces without a
known price are taken only after every priced one. If even all the time left is too
little, the plan charges all of it and says how much will be missing.

Sans-IO and deterministic: times are Unix seconds, `zone` only words the reason.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, tzinfo

from twcm.service.policy.claims import Claim
from twcm.service.tariffs.base import Slot

MINUTE = 60


@dataclass(frozen=True)
class Need:
    """What one car needs."""

    car: str
    """Its name in the reason (the [[site.car]] name, else its VIN)."""
    kwh: float
    """Energy still to put in by the departure (at the wall), kWh."""
    departure: float
    target: str
    """The target in words for the reason, e.g. "80 %" or "10 kWh"."""
    charge_w: float
    """What the car takes while charging at `amps` (measured, else expected), W."""
    amps: int
    """The site limit to claim in a planned slot."""
    min_w: float = 0.0
    """The least power the car charges at: less sun than this is not counted."""


@dataclass(frozen=True)
class SolarSlot:
    """Expected solar generation over [start, end), W."""

    start: float
    end: float
    watts: float


@dataclass(frozen=True)
class Piece:
    start: float
    end: float
    price: float | None  # import price, None: unknown
    solar_w: float  # expected surplus over the piece

    @property
    def hours(self) -> float:
        return (self.end - self.start) / 3600


@dataclass(frozen=True)
class PlanSlot:
    start: float
    end: float
    amps: int
    price: float | None


@dataclass(frozen=True)
class Plan:
    need: Need
    slots: tuple[PlanSlot, ...]
    """The grid slots chosen, in time order."""
    solar_kwh: float
    """Expected from the sun before the departure."""
    cost: float | None
    """Of the bought energy, in the prices' currency; None if a price is unknown."""
    short_kwh: float
    """What even charging all the time left cannot give."""
    reason: str

    def claim(self, now: float) -> Claim | None:
        """The plan's claim while one of its slots is on."""
        for s in self.slots:
            if s.start <= now < s.end:
                return Claim("plan", s.amps, self.reason)
        return None

    def spans(self) -> list[tuple[int, int, int]]:
        """(start, end, amps) of the slots, whole seconds, for the device's schedule."""
        return [(int(s.start), int(s.end), s.amps) for s in self.slots]


def _surplus_w(solar: list[SolarSlot], a: float, b: float, house_w: float) -> float:
    """The mean expected surplus over [a, b)."""
    wh = 0.0
    for s in solar:
        overlap = min(b, s.end) - max(a, s.start)
        if overlap > 0:
            wh += max(0.0, s.watts - house_w) * overlap
    return wh / (b - a)


def pieces(prices: list[Slot], solar: list[SolarSlot], now: float, until: float,
           house_w: float = 0.0) -> list[Piece]:
    """[now, until) cut where a price slot or a forecast slot begins or ends."""
    cuts = {now, until}
    for s in prices:
        cuts.update(t for t in (s.start, s.end) if now < t < until)
    for f in solar:
        cuts.update(t for t in (f.start, f.end) if now < t < until)
    edges = sorted(cuts)
    out = []
    for a, b in zip(edges, edges[1:]):
        price = next((s.import_price for s in prices if s.start <= a < s.end), None)
        out.append(Piece(a, b, price, _surplus_w(solar, a, b, house_w)))
    return out


def plan(need: Need, prices: list[Slot], solar: list[SolarSlot], now: float,
         zone: tzinfo | None = None, house_w: float = 0.0) -> Plan:
    """The cheapest plan for `need` from `now` (see the module's text)."""
    parts = pieces(prices, solar, now, need.departure, house_w) \
        if need.departure > now else []
    sunny = [p for p in parts if p.solar_w >= need.min_w and p.solar_w > 0]
    solar_kwh = sum(min(p.solar_w, need.charge_w) * p.hours for p in sunny) / 1000
    left_kwh = max(0.0, need.kwh - solar_kwh)
    # Sunny pieces are the sun's: buying there would count the same hours twice.
    free = [p for p in parts if p not in sunny or p.solar_w < need.charge_w]
    order = sorted(free, key=lambda p: (p.price is None, p.price or 0.0, p.start))
    chosen: list[PlanSlot] = []
    cost: float | None = 0.0
    rate_kw = need.charge_w / 1000
    for p in order:
        if left_kwh <= 1e-9 or rate_kw <= 0:
            break
        room_kw = rate_kw - (min(p.solar_w, need.charge_w) / 1000 if p in sunny else 0.0)
        hours = min(p.hours, left_kwh / room_kw)
        end = min(p.end, p.start + math.ceil(hours * 3600 / MINUTE) * MINUTE)
        chosen.append(PlanSlot(p.start, end, need.amps, p.price))
        left_kwh -= room_kw * hours
        if cost is not None:
            cost = None if p.price is None else cost + p.price * room_kw * hours
    short = max(0.0, left_kwh)
    slots = tuple(_join(sorted(chosen, key=lambda s: s.start)))
    return Plan(need, slots, round(solar_kwh, 3), cost, round(short, 3),
                _reason(need, slots, solar_kwh, short, prices, zone))


def _join(slots: list[PlanSlot]) -> list[PlanSlot]:
    out: list[PlanSlot] = []
    for s in slots:
        if out and out[-1].end == s.start and out[-1].amps == s.amps:
            last = out[-1]
            price = last.price if last.price == s.price else None if None in (
                last.price, s.price) else (last.price * (last.end - last.start)
                                           + s.price * (s.end - s.start)) / (s.end - last.start)
            out[-1] = PlanSlot(last.start, s.end, s.amps, price)
        else:
            out.append(s)
    return out


def _reason(need: Need, slots: tuple[PlanSlot, ...], solar_kwh: float, short: float,
            prices: list[Slot], zone: tzinfo | None) -> str:
    def hhmm(t: float) -> str:
        return datetime.fromtimestamp(t, zone).strftime("%H:%M")

    goal = f"to reach {need.target} by {hhmm(need.departure)}"
    sun = f"; solar expected to cover {solar_kwh:.1f} kWh" if solar_kwh >= 0.05 else ""
    if need.kwh <= 0:
        return f"{need.car}: {need.target} reached, nothing to plan"
    if not slots:
        return f"{need.car}: the sun is expected to be enough {goal}{sun}"
    hours = sum(s.end - s.start for s in slots) / 3600
    known = [s for s in slots if s.price is not None]
    currency = prices[0].currency if prices else ""
    if known and len(known) == len(slots):
        mean = sum(s.price * (s.end - s.start) for s in known) \
            / sum(s.end - s.start for s in known)  # type: ignore[operator]
        price = f" at {mean:.2f} {currency}/kWh"
    else:
        price = " (some prices not known yet)" if known else " (no prices known)"
    text = f"{need.car}: cheapest {hours:.1f} h from {hhmm(slots[0].start)}{price} {goal}{sun}"
    if short > 0:
        text += f"; {short:.1f} kWh short even charging all the time left"
    return text


def plan_claim(plans: tuple[Plan, ...], now: float, max_amps: int) -> Claim | None:
    """One "plan" claim for the site: the amps of every car's slot that is on, added up
    (each car on its own Wall Connector) up to max_amps, and their reasons."""
    on = [c for c in (p.claim(now) for p in plans) if c is not None]
    if not on:
        return None
    return Claim("plan", min(max_amps, sum(c.amps for c in on)),
                 "; ".join(c.reason for c in on))
