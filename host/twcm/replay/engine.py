"""The replay: the site loop of `twcm run` over a recorded day, on simulated time.

SiteLoop (twcm.service.site), the very code `twcm run` runs, with two things swapped:
its clock is the simulated bus's (BusClock), and its meters are the trace's
(TraceMeters). Every `decide_s` of simulated time it turns once, as in production:
reads the meters, builds the policy's inputs from the reading and the device's last
state (site_inputs), decides, and leases the amps through its SiteLink. The SiteLink's
messages go in-process to the device (replay/device.py: the firmware's master core with
its Leases, Contract and Hub, on the simulated bus), and the device's state messages
come back the same way, parsed as `twcm run` parses them. So leases, their ttl and
renewals, the clamping to the wiring, the state parsing and the inputs are all in what
is scored.

The meter: the trace's consumption is the house alone. The consumption meter also
measures the charger (so the settings need `subtract_charger_load=True`): consumption =
house + what the cars draw, grid import = consumption - generation.

Energy per step: the cars' energy (the slaves' meters) is split into what the surplus
(generation - house) covered and what came from the grid; surplus the cars did not take
is exported.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from twcm.replay.cost import Deadline, cheapest, price_at, step_cost
from twcm.replay.device import VOLTS, BusClock, Device
from twcm.replay.trace import Trace
from twcm.service.config import SiteConfig
from twcm.service.policy import GreenSettings, NonScheduled, Settings
from twcm.service.car_plans import departure
from twcm.service.site import SiteLoop
from twcm.service.sources import Reading
from twcm.service.sources.combine import Combined, Meters

SITE = "replay"
CAR_VIN = "REPLAYCAR00000001"  # the replay's one car with a departure (its TWC tells no VIN)
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
    start: datetime  # the replay's first reading: samples' t_s count from it
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
    offer_starts: int = 0  # start/stop cycles: a car's offer going from 0 to above 0
    charging_hours: float = 0.0  # time with a car drawing current
    wall_s: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    # With a tariff: the site's cost of the day and the cheapest known afterwards; with a
    # car's departure: the target, and what the car had by then.
    currency: str | None = None
    cost: float | None = None
    best_cost: float | None = None
    deadline: Deadline | None = None
    by_deadline_kwh: float = 0.0

    @property
    def deadline_met(self) -> bool | None:
        d = self.deadline
        return None if d is None else self.by_deadline_kwh >= d.kwh - 0.05

    @property
    def grid_share(self) -> float:
        """Fraction of the cars' energy that came from the grid."""
        return self.car_grid_kwh / self.car_kwh if self.car_kwh else 0.0

    @property
    def changes_per_hour(self) -> float:
        """Offer changes per hour of charging."""
        return self.offer_changes / self.charging_hours if self.charging_hours else 0.0


class TraceMeters(Meters):
    """The site's meters in the replay: the trace's reading of the moment, always fresh
    (a trace has no gaps or stale meters to replay)."""

    def __init__(self) -> None:
        super().__init__([], {})
        self.reading: Reading | None = None

    def combine(self, now: float | None = None) -> Combined:
        return Combined(self.reading)


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


def site_config(settings: Settings, decide_s: float, tariff: dict[str, Any] | None = None,
                car: dict[str, Any] | None = None) -> SiteConfig:
    """The replay's site as a twcm.toml would make it: these policy settings, a turn every
    decide_s, the times of day in UTC, and a [site.tariff] and a [[site.car]] (without
    its vin: CAR_VIN) if given. Its source is a placeholder: SiteLoop is given the trace's
    meters instead."""
    if settings.windows:
        raise ValueError("windows: the replay has no schedule windows; leave them out")
    skip = ("max_amps", "non_scheduled", "windows", "green", "consumption_offsets")
    policy = {f.name: getattr(settings, f.name) for f in fields(Settings)
              if f.name not in skip}
    return SiteConfig.model_validate({
        "name": SITE, "max_amps": settings.max_amps, "interval_s": decide_s,
        "timezone": "UTC", "source": {"type": "static"},
        **({"tariff": tariff} if tariff else {}),
        **({"car": [{"vin": CAR_VIN, **car}]} if car else {}),
        "policy": {**policy, "non_scheduled": settings.non_scheduled.value,
                   "green": asdict(settings.green),
                   "consumption_offsets": [asdict(o) for o in settings.consumption_offsets]}})


def _unix(start: datetime) -> float:
    """A trace's start in Unix seconds; a time without an offset is taken as UTC."""
    return (start if start.tzinfo else start.replace(tzinfo=timezone.utc)).timestamp()


Progress = Callable[[float, float], None]
"""Called with (seconds replayed, seconds in all) as the replay goes on."""


def replay(trace: Trace, settings: Settings, decide_s: float = 5.0,
           bus_step_ms: int = 20, progress: Progress | None = None,
           tariff: dict[str, Any] | None = None, car: dict[str, Any] | None = None,
           config: SiteConfig | None = None) -> Result:
    """Run the site loop and the device over `trace` (resampled to decide_s).

    Without events one car is plugged into TWC 0 all day; with events,
    cars come and go as they say. `tariff`: a [site.tariff] table, fetched once at the
    start (a static one, say), to score the day's cost; `car`: a [[site.car]] table
    with a departure and a target, planned for (site_config). `config`: the site to run
    (named SITE, with these settings: replay/own.py), instead of site_config(...).
    """
    began = time.perf_counter()
    steps = trace.resample(decide_s)
    twcs = 1 + max((e.twc for e in steps.events), default=0)
    device = Device(SITE, twcs, settings.max_amps, bus_step_ms)
    clock = BusClock(device.bus, _unix(steps.start))
    meters = TraceMeters()
    site = SiteLoop(config or site_config(settings, decide_s, tariff, car), None, clock,
                    meters)
    for feed in site.prices.feeds:
        asyncio.run(feed.fetch(site.now()))
    slots = site.prices.slots(clock.time())
    device.run(WARMUP_MS, site.link, clock)
    clock.begin()
    events = list(steps.events)
    if not events:
        device.slaves[0].car.plug()
    out = Result(steps.start, hours=steps.duration_s / 3600.0)
    if tariff:
        out.currency, out.cost = (slots[0].currency if slots else None), 0.0
    if car and car.get("departure") and car.get("target_kwh"):
        out.deadline = Deadline(departure(car["departure"], site.now()), car["target_kwh"])
    step_ms = round(decide_s * 1000)
    hours = step_ms / 3_600_000
    offers = device.offers()
    for k in range(len(steps.t_s) - 1):
        t = steps.t_s[k]
        while events and events[0].t_s <= t:
            e = events.pop(0)
            car = device.slaves[e.twc].car
            car.plug() if e.kind == "plug" else car.unplug()
        gen, house = steps.generation_w[k], steps.consumption_w[k]
        at = clock.time()
        consumption = house + device.car_w()
        meters.reading = Reading(generation_w=gen, consumption_w=consumption,
                                 grid_import_w=consumption - gen, at=clock.time())
        before_limit = device.hub.leases.amps
        site.turn()
        device.exchange(site.link, clock)  # the lease goes out at once, as DeviceLink sends it
        limit = device.hub.leases.amps
        out.site_changes += int(limit != before_limit)
        before = device.energy_wh()
        device.run(step_ms, site.link, clock)
        car_w = (device.energy_wh() - before) / hours
        now_offers = device.offers()
        out.offer_changes += sum(a != b for a, b in zip(offers, now_offers))
        out.offer_starts += sum(a == 0 < b for a, b in zip(offers, now_offers))
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
        if out.cost is not None:
            out.cost += step_cost(price_at(slots, at), house + car_w - gen, hours)
        if out.deadline is not None and at < out.deadline.at:
            out.by_deadline_kwh += car_w * hours / 1000
        out.samples.append(Sample(t, gen, house, limit, car_w))
        if progress is not None:
            progress(t + decide_s, steps.duration_s)
    if out.cost is not None:
        t0 = _unix(steps.start)
        n = len(steps.t_s) - 1
        out.best_cost = cheapest(slots, [t0 + t for t in steps.t_s[:n]],
                                 steps.generation_w[:n], steps.consumption_w[:n], hours,
                                 settings.max_amps * VOLTS, out.car_kwh, out.deadline)
    out.wall_s = time.perf_counter() - began
    return out
