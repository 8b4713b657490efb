"""Scheduled charging (weekly windows) and Charge Now.

Times are wall-clock times in the home's time zone: pass `now` as a
datetime in that zone. A window that ends at or before its start time
runs past midnight and belongs to the day it starts on: a Friday window
22:00-06:00 covers Friday 22:00 to Saturday 06:00.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from twcm.service.policy.claims import Claim

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Window:
    """One weekly charging window."""

    days: tuple[int, ...]
    """Weekdays the window starts on: 0 = Monday ... 6 = Sunday."""
    start: time
    """Start, local wall-clock time."""
    end: time
    """End, local wall-clock time; at or before `start` means the next day."""
    amps: int
    """Site limit in whole amps while the window is active."""

    def __post_init__(self) -> None:
        if not self.days or any(d not in range(7) for d in self.days):
            raise ValueError(
                f"days: {self.days!r} must list weekdays 0 (Monday) to 6 (Sunday)")
        if not isinstance(self.amps, int) or self.amps < 0:
            raise ValueError(f"amps: {self.amps!r} must be a whole number >= 0")

    def active(self, now: datetime) -> bool:
        """True if `now` falls inside this window (start inclusive)."""
        t = now.time().replace(tzinfo=None)
        if self.start < self.end:
            return now.weekday() in self.days and self.start <= t < self.end
        # Past midnight: the evening part today, or the morning part of a
        # window that started yesterday.
        if now.weekday() in self.days and t >= self.start:
            return True
        return (now.weekday() - 1) % 7 in self.days and t < self.end

    def describe(self) -> str:
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M}"


def schedule_claim(windows: tuple[Window, ...], now: datetime) -> Claim | None:
    """The claim of the active window with the most amps, or None."""
    active = [w for w in windows if w.active(now)]
    if not active:
        return None
    best = max(active, key=lambda w: w.amps)
    return Claim("schedule", best.amps, f"scheduled window {best.describe()}: {best.amps} A")


@dataclass(frozen=True)
class ChargeNow:
    """A manual request: charge at `amps` until `until`."""

    amps: int
    """Site limit in whole amps."""
    until: datetime
    """When the request ends (exclusive)."""

    def __post_init__(self) -> None:
        if not isinstance(self.amps, int) or self.amps < 0:
            raise ValueError(f"amps: {self.amps!r} must be a whole number >= 0")

    @classmethod
    def starting(cls, now: datetime, amps: int, duration: timedelta) -> ChargeNow:
        """A request that starts at `now` and lasts `duration` (> 0)."""
        if duration <= timedelta(0):
            raise ValueError(f"duration: {duration} must be longer than zero")
        return cls(amps, now + duration)

    def claim(self, now: datetime) -> Claim | None:
        """The manual claim while the request lasts, None once it has ended."""
        if now >= self.until:
            return None
        return Claim("manual", self.amps, f"charge now {self.amps} A until {self.until:%a %H:%M}")
