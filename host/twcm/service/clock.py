"""The clock a site loop reads. `twcm run` reads the system's; `twcm replay` the simulated
bus's, and `twcm demo` a solar day that runs faster than the system's."""
from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Unix seconds on the site's wall clock: the policy's decisions, Charge Now, the
        device's schedule."""
        ...

    def monotonic(self) -> float:
        """Seconds that never go back, for intervals: the loop's turns, the schedule's
        checks, the device's health. SiteLoop.run sleeps them in real seconds."""
        ...

    def age_s(self, stamp: float) -> float:
        """How long ago, in wall-clock seconds, the meters took a reading stamped `stamp`
        (by their own clock: the system's, unless the meters are simulated too)."""
        ...


class SystemClock:
    """The system's clocks, as `twcm run` keeps time."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def age_s(self, stamp: float) -> float:
        return time.time() - stamp


SYSTEM = SystemClock()
