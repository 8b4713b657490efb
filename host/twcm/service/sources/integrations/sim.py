"""`type = "sim"`: a deterministic simulated solar day and house load.

The same time of day always gives the same readings: a sine-shaped day between sunrise
and sunset with passing clouds, and a house that cooks in the morning and the evening.
With `speed` above 1 the simulated day runs that many times faster than the service's
clock, to watch a whole day of green tracking in minutes.

The house has no charger: consumption is the house alone, as a consumption meter sees it
with the Wall Connectors on a circuit of their own. `Sim.add_load` counts more in it, as a
meter whose circuit includes them would: `twcm demo` adds its simulated cars' draw, and
says so to the policy (`subtract_charger_load`).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime

from pydantic import Field, field_validator, model_validator

from twcm.service.sources import Options, Reading, register

DAY_S = 86400.0


def _bump(hour: float, centre: float, width: float) -> float:
    return math.exp(-((hour - centre) / width) ** 2)


class SimOptions(Options):
    peak_w: float = Field(5000.0, gt=0, le=100_000)
    sunrise_h: float = Field(6.5, ge=0, lt=24)
    sunset_h: float = Field(20.5, gt=0, le=24)
    base_load_w: float = Field(300.0, ge=0)
    speed: float = Field(1.0, gt=0, le=86_400)
    start: str | None = None
    """Simulated time of day at start, "HH:MM"; None: the real local time."""
    battery_soc: float | None = Field(None, ge=0, le=100)

    @field_validator("start")
    @classmethod
    def _hhmm(cls, v: str | None) -> str | None:
        if v is not None:
            datetime.strptime(v, "%H:%M")  # ValueError names the format
        return v

    @model_validator(mode="after")
    def _day(self) -> SimOptions:
        if self.sunset_h <= self.sunrise_h:
            raise ValueError("sunset_h must be later than sunrise_h: give sunrise_h < sunset_h")
        return self


class Sim:
    """Readings of the simulated day at the simulated time of day."""

    def __init__(self, o: SimOptions, clock: float | None = None) -> None:
        self.o = o
        self._t0 = time.monotonic() if clock is None else clock
        if o.start is None:
            now = datetime.now()
            self._start_s = now.hour * 3600 + now.minute * 60 + now.second
        else:
            hh, mm = o.start.split(":")
            self._start_s = int(hh) * 3600 + int(mm) * 60
        self._loads: list[Callable[[], float]] = []

    def add_load(self, watts: Callable[[], float]) -> None:
        """Count watts() in the consumption from now on, called at each reading."""
        self._loads.append(watts)

    def seconds_of_day(self, clock: float | None = None) -> float:
        """The simulated time of day in seconds, at the monotonic `clock` (default now)."""
        elapsed = (time.monotonic() if clock is None else clock) - self._t0
        return (self._start_s + elapsed * self.o.speed) % DAY_S

    def at(self, s: float) -> tuple[float, float]:
        """(generation W, the house's own consumption W) at `s` seconds into the simulated
        day: without the loads added."""
        o, hour = self.o, s / 3600
        day = (hour - o.sunrise_h) / (o.sunset_h - o.sunrise_h)
        sun = math.sin(math.pi * day) ** 1.5 if 0 < day < 1 else 0.0
        cloud = max(0.0, math.sin(s / 1700) * math.sin(s / 530))  # a few per hour, fixed
        generation = o.peak_w * sun * (1 - 0.6 * cloud)
        fridge = 120.0 if int(s // 900) % 2 else 0.0
        consumption = (o.base_load_w + fridge + 1800 * _bump(hour, 7.5, 0.4)
                       + 2500 * _bump(hour, 18.5, 0.8))
        return round(generation, 1), round(consumption, 1)

    async def read(self) -> Reading:
        generation, house = self.at(self.seconds_of_day())
        consumption = round(house + sum(load() for load in self._loads), 1)
        return Reading(generation_w=generation, consumption_w=consumption,
                       grid_import_w=round(consumption - generation, 1),
                       battery_soc=self.o.battery_soc)


register("sim", SimOptions, Sim, interval_s=1.0, min_interval_s=0.1)
