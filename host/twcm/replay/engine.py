"""The replay: the real policy drives the real master on the simulated bus.

Every `decide_s` of simulated time the policy gets the meter readings
(twcm.service.policy.Inputs) and its decision becomes the device's site limit
(`limits.set_site`); the bus then runs for `decide_s` in steps of
`bus_step_ms`, the master heartbeating the simulated Wall Connectors and
their cars drawing what they are offered.

The meter: the trace's consumption is the house alone. The consumption
meter also measures the charger (so the settings need
`subtract_charger_load=True`): consumption = house + charger, and
grid import = house + charger - generation. The charger current the policy
gets is what the slaves report to the master, as on the real device.

Energy per step: the cars' energy (the slaves' meters) is split into what
the surplus (generation - house) covered and what came from the grid;
surplus the cars did not take is exported.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

from twc.master import Master
from twc.share import ABS_MAX, Limits
from twc.slot import LINKED
from twcm.service.policy import GreenSettings, Inputs, NonScheduled, Policy, Settings
from twcm.replay.trace import Trace
from twcm.sim.bus import Bus
from twcm.sim.car import Car
from twcm.sim.slave import SimSlave

VOLTS = 230
WARMUP_MS = 15_000  # the master links the slaves before the day starts
MODES = {"green": NonScheduled.TRACK_GREEN, "fixed": NonScheduled.FIXED,
         "off": NonScheduled.DO_NOT_CHARGE}


@dataclass(frozen=True)
class Sample:
    """One decision step, for the plot."""

    t_s: float
    generation_w: float
    house_w: float
    site_amps: int
    car_w: float  # the cars' mean draw over the step


@dataclass
class Result:
    hours: float = 0.0
    generation_kwh: float = 0.0
    house_kwh: float = 0.0
    surplus_kwh: float = 0.0  # surplus = generation - house, when above 0
    car_kwh: float = 0.0
    car_surplus_kwh: float = 0.0  # into the cars, covered by the surplus
    car_grid_kwh: float = 0.0  # into the cars, from the grid
    exported_kwh: float = 0.0  # surplus that the cars did not take
    site_changes: int = 0
    offer_changes: int = 0  # changes of any car's offer (seen at each step)
    charging_hours: float = 0.0  # time with a car drawing current
    wall_s: float = 0.0
    samples: list[Sample] = field(default_factory=list)

    @property
    def grid_share(self) -> float:
        """Fraction of the cars' energy that came from the grid."""
        return self.car_grid_kwh / self.car_kwh if self.car_kwh else 0.0

    @property
    def changes_per_hour(self) -> float:
        """Offer changes per hour of charging."""
        return self.offer_changes / self.charging_hours if self.charging_hours else 0.0


class Site:
    """The master, its simulated Wall Connectors and their cars."""

    def __init__(self, twcs: int, max_amps: int, bus_step_ms: int) -> None:
        amps = min(ABS_MAX, max_amps)
        self.bus = Bus(step_ms=bus_step_ms)
        self.limits = Limits(max_amps, amps, 0)
        self.master = Master(self.bus.master_send, self.limits, now=self.bus.master_now)
        self.bus.attach_master(self.master)
        # Empty cars with room for more than a day of sun: they never fill.
        self.slaves: list[SimSlave] = [
            self.bus.add_slave(seed=i, max_amps=amps, volts=VOLTS,
                               car=Car(max_amps=amps, battery_kwh=150.0, soc=0.0))
            for i in range(twcs)]
        self.bus.advance(WARMUP_MS)

    def car_w(self) -> float:
        """What the cars draw now (the true current, as a meter sees it)."""
        return sum(s.car.amps for s in self.slaves) * VOLTS

    def energy_wh(self) -> float:
        return sum(s.energy_wh for s in self.slaves)

    def offers(self) -> tuple[int, ...]:
        return tuple(s.offer for s in self.master.slots)

    def inputs(self, generation_w: float, house_w: float) -> Inputs:
        """The readings the policy gets: meters plus the device's report."""
        consumption = house_w + self.car_w()
        linked = [s for s in self.master.slots if s.status == LINKED]
        return Inputs(generation_w=generation_w, consumption_w=consumption,
                      grid_import_w=consumption - generation_w,
                      charger_amps=sum(s.actual_ca for s in linked) / 100.0,
                      volts=VOLTS, phases=1,
                      wanting=any(s.wanting for s in linked))


def replay_settings(mode: str = "green", max_amps: int = 32,
                    green: GreenSettings | None = None) -> Settings:
    """Policy settings for the replay's site: 230 V single phase, a
    consumption meter that includes the charger. `mode` is one of MODES
    (fixed charges at max_amps); `green` defaults to GreenSettings() with
    subtract_charger_load set."""
    green = green or GreenSettings(subtract_charger_load=True)
    if not green.subtract_charger_load:
        raise ValueError("green: the replay's meter includes the charger: "
                         "set subtract_charger_load=True")
    return Settings(max_amps=max_amps, volts=VOLTS, phases=1, non_scheduled=MODES[mode],
                    non_scheduled_amps=max_amps, green=green)


def replay(trace: Trace, settings: Settings, decide_s: float = 5.0,
           bus_step_ms: int = 20) -> Result:
    """Run the policy and the device over `trace` (resampled to decide_s).

    Without events one car is plugged into TWC 0 all day; with events,
    cars come and go as they say.
    """
    began = time.perf_counter()
    steps = trace.resample(decide_s)
    twcs = 1 + max((e.twc for e in steps.events), default=0)
    site = Site(twcs, settings.max_amps, bus_step_ms)
    events = list(steps.events)
    if not events:
        site.slaves[0].car.plug()
    policy = Policy(settings)
    out = Result(hours=steps.duration_s / 3600.0)
    step_ms = round(decide_s * 1000)
    hours = step_ms / 3_600_000
    offers = site.offers()
    for k in range(len(steps.t_s) - 1):
        t = steps.t_s[k]
        while events and events[0].t_s <= t:
            e = events.pop(0)
            car = site.slaves[e.twc].car
            car.plug() if e.kind == "plug" else car.unplug()
        gen, house = steps.generation_w[k], steps.consumption_w[k]
        decision = policy.decide(steps.start + timedelta(seconds=t), site.inputs(gen, house))
        if decision.amps != site.limits.site:
            out.site_changes += 1
        site.limits.set_site(decision.amps)
        before = site.energy_wh()
        site.bus.advance(step_ms)
        car_w = (site.energy_wh() - before) / hours
        now_offers = site.offers()
        out.offer_changes += sum(a != b for a, b in zip(offers, now_offers))
        offers = now_offers
        surplus = gen - house
        green = min(car_w, max(0.0, surplus))
        out.generation_kwh += gen * hours / 1000
        out.house_kwh += house * hours / 1000
        out.surplus_kwh += max(0.0, surplus) * hours / 1000
        out.car_kwh += car_w * hours / 1000
        out.car_surplus_kwh += green * hours / 1000
        out.car_grid_kwh += (car_w - green) * hours / 1000
        out.exported_kwh += max(0.0, surplus - car_w) * hours / 1000
        out.charging_hours += hours if car_w > 0 else 0.0
        out.samples.append(Sample(t, gen, house, decision.amps, car_w))
    out.wall_s = time.perf_counter() - began
    return out
