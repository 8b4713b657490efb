"""The cars' charging plans of one site: which [[site.car]] is plugged in where, what it
still needs by its departure, how fast it really charges, and when to plan again.

SiteLoop calls `update` every turn with the device's state, the prices and the solar
forecast; the plans (policy/planner.py) go to the policy as its "plan" claim and, as
spans, into the device's stored schedule. A plan is made again when the prices, the
forecast, the car's SoC (or, for a kWh target, each kWh charged), its plug, its departure
or its charge rate change, and at least every REPLAN_S.

A car is found by the VIN its Wall Connector reports; a plugged car whose VIN is not
known (the TWC cannot read it) is taken for the site's only car with a departure.
What it needs: with `target_soc`, (target - SoC) of battery_kwh, over EFFICIENCY (the wall
gives more than the battery keeps), the SoC from the car's API (CarState) or as the user
set it; else `target_kwh` less what it took since it was plugged in (the TWC's amps and
volts, turn by turn). Its rate: what it drew while offered at least the planned amps,
else the planned amps at the site's volts and phases.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from twcm.service.config import CarConfig
from twcm.service.devicelink.site import DeviceState, Slave
from twcm.service.policy.engine import Settings
from twcm.service.policy.planner import Need, Plan, SolarSlot, plan
from twcm.service.tariffs.base import Slot
from twcm.service.vehicles.base import CarState

EFFICIENCY = 0.9
REPLAN_S = 900.0
LINKED = "linked"
NO_CAR = ("ready", "error")  # TWC states without a car plugged in


@dataclass
class _Car:
    config: CarConfig
    twc: str | None = None  # the TWC it is plugged into; None: not plugged in
    charged_kwh: float = 0.0  # since it was plugged in
    rate_w: float | None = None  # measured
    plan: Plan | None = None
    why: str | None = None  # why there is no plan
    key: tuple[Any, ...] = ()
    planned_at: float = 0.0
    user_soc: float | None = None
    car_state: CarState | None = None


def departure(hhmm: str, now: datetime) -> float:
    """The next time the clock shows `hhmm` after `now` (home zone), Unix seconds."""
    at = datetime.combine(now.date(), time.fromisoformat(hhmm), now.tzinfo)
    if at <= now:
        at = datetime.combine(now.date() + timedelta(days=1), time.fromisoformat(hhmm),
                              now.tzinfo)
    return at.timestamp()


def plugged(s: Slave) -> bool:
    return s.link == LINKED and s.state not in NO_CAR


def _volts(s: Slave, settings: Settings) -> float:
    """The volts times phases of the slave's supply, as it reports them."""
    live = [v for v in s.volts if 90 <= v <= 300]
    return float(sum(live)) if live else settings.volts * settings.phases


@dataclass
class CarPlans:
    cars: list[_Car] = field(default_factory=list)
    house_w: float = 500.0  # the house's load the sun serves first (the forecast's table)
    _last: float | None = None

    @classmethod
    def of(cls, cars: list[CarConfig], house_w: float = 500.0) -> CarPlans:
        return cls([_Car(c) for c in cars if c.departure and (c.target_soc or c.target_kwh)],
                   house_w)

    def set_soc(self, vin: str, soc: float | None) -> None:
        """The SoC the user gives for a car without a vehicle API (None: forget it)."""
        car = next((c for c in self.cars if c.config.vin == vin), None)
        if car is None:
            raise ValueError(f"no [[site.car]] with vin {vin} and a departure and target: "
                             "give one of " + ", ".join(c.config.vin for c in self.cars))
        if soc is not None and not 0 <= soc <= 100:
            raise ValueError(f"soc must be 0 to 100 %, not {soc!r}")
        car.user_soc = soc

    def set_car_state(self, state: CarState) -> None:
        """The car's state from its vehicle API (the vehicle interface)."""
        for c in self.cars:
            if c.config.vin == state.vin:
                c.car_state = state

    def plans(self) -> tuple[Plan, ...]:
        return tuple(c.plan for c in self.cars if c.plan is not None)

    def spans(self) -> list[tuple[int, int, int]]:
        return [s for p in self.plans() for s in p.spans()]

    def update(self, now: datetime, state: DeviceState | None, settings: Settings,
               prices: list[Slot], solar: list[SolarSlot], versions: tuple[Any, ...]) -> bool:
        """Follow the cars and plan again where due; True if a plan changed."""
        t = now.timestamp()
        dt = 0.0 if self._last is None else max(0.0, t - self._last)
        self._last = t
        slaves = [s for s in (state.slaves if state else ()) if plugged(s)]
        changed = False
        for car in self.cars:
            slave = self._slave_of(car, slaves)
            if slave is None:
                changed |= car.plan is not None
                car.twc, car.plan, car.charged_kwh, car.key = None, None, 0.0, ()
                car.why = "not plugged in"
                continue
            if car.twc != slave.id:
                car.twc, car.charged_kwh = slave.id, 0.0
            vp = _volts(slave, settings)
            car.charged_kwh += slave.actual_amps * vp * dt / 3.6e6
            amps = self._amps(car, slave, settings)
            if slave.actual_amps >= settings.min_amps and slave.offered_amps >= amps:
                car.rate_w = slave.actual_amps * vp
            need = self._need(car, now, amps, vp, settings)
            if need is None:
                changed |= car.plan is not None
                car.plan = None
                continue
            key = (versions, slave.id, round(need.kwh), need.departure,
                   round(need.charge_w / 250), need.target)
            if key != car.key or t - car.planned_at >= REPLAN_S:
                new = plan(need, prices, solar, t, now.tzinfo, self.house_w)
                changed |= car.plan is None or new.slots != car.plan.slots
                car.plan, car.key, car.planned_at, car.why = new, key, t, None
        return changed

    def _slave_of(self, car: _Car, slaves: list[Slave]) -> Slave | None:
        by_vin = next((s for s in slaves if s.vin == car.config.vin), None)
        if by_vin is not None or len(self.cars) != 1:
            return by_vin
        known = {c.config.vin for c in self.cars}
        return next((s for s in slaves if not s.vin or s.vin not in known), None)

    @staticmethod
    def _amps(car: _Car, slave: Slave, settings: Settings) -> int:
        amps = car.config.max_amps or settings.max_amps
        if slave.max_amps:
            amps = min(amps, int(slave.max_amps))
        return max(settings.min_amps, min(amps, settings.max_amps))

    def _need(self, car: _Car, now: datetime, amps: int, vp: float,
              settings: Settings) -> Need | None:
        c = car.config
        assert c.departure is not None
        rate = car.rate_w or amps * vp
        common = dict(car=c.name or c.vin, departure=departure(c.departure, now),
                      charge_w=rate, amps=amps, min_w=settings.min_amps * vp)
        cs = car.car_state
        soc = cs.soc if cs is not None and cs.soc is not None else car.user_soc
        battery = cs.battery_kwh if cs is not None and cs.battery_kwh else c.battery_kwh
        if c.target_soc is not None and soc is not None and battery is not None:
            kwh = max(0.0, (c.target_soc - soc) / 100 * battery / EFFICIENCY)
            return Need(kwh=kwh, target=f"{c.target_soc:g} %", **common)  # type: ignore[arg-type]
        if c.target_kwh is not None:
            kwh = max(0.0, c.target_kwh - car.charged_kwh)
            return Need(kwh=kwh, target=f"{c.target_kwh:g} kWh", **common)  # type: ignore[arg-type]
        car.why = ("the SoC is not known: give it (set_car_soc) or a [[site.vehicle]]"
                   if soc is None else "battery_kwh is not known: set it in [[site.car]]")
        return None

    def status(self) -> list[dict[str, Any]]:
        out = []
        for c in self.cars:
            p = c.plan
            out.append({
                "vin": c.config.vin, "name": c.config.name, "twc": c.twc,
                "charged_kwh": round(c.charged_kwh, 2),
                "rate_w": None if c.rate_w is None else round(c.rate_w),
                "plan": None if p is None else {
                    "reason": p.reason, "need_kwh": round(p.need.kwh, 2),
                    "departure": p.need.departure, "solar_kwh": p.solar_kwh,
                    "cost": None if p.cost is None else round(p.cost, 3),
                    "short_kwh": p.short_kwh,
                    "slots": [{"start": s.start, "end": s.end, "amps": s.amps,
                               "price": s.price} for s in p.slots]},
                "why_no_plan": c.why if p is None else None})
        return out
