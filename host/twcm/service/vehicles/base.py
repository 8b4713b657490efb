"""The vehicle interface: what twcm asks of a car it reaches through its maker's API.

A Wall Connector only offers current; the car decides whether to take it. Through this
interface the service reads the car's charge state (for the planner and per-car rules)
and starts and stops it (so that a car given 0 A for long can sleep).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

ChargingState = Literal["charging", "stopped", "complete", "disconnected", "starting",
                        "unknown"]


@dataclass(frozen=True)
class CarState:
    """The car as its API last told it; `at` is when (wall clock, seconds)."""

    at: float
    vin: str
    soc: float | None
    """State of charge, %."""
    limit_soc: float | None
    """The charge limit set in the car, %."""
    charging: ChargingState
    plugged: bool | None
    at_home: bool | None
    """None: the car's location is not known (e.g. not shared)."""
    charge_amps: float | None = None
    """What the car draws now, A (its own reading)."""
    phases: int | None = None
    """Phases the car charges on, where it says."""
    battery_kwh: float | None = None
    """Usable capacity, where known; kWh to reach a SoC target."""
    scheduled_charge: bool = False
    """The car waits for its own scheduled charging: twcm must not start it."""


class VehicleError(Exception):
    """A call failed; `retry_s` is how long to wait before the next call to this car
    (back-off), and `kind` says why in one word ("auth", "protocol", "asleep", "rate",
    "server", "network")."""

    def __init__(self, message: str, kind: str, retry_s: float) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_s = retry_s


class Vehicle(Protocol):
    """One car. Every method may raise VehicleError; none blocks the event loop."""

    vin: str

    async def state(self, wake: bool = False) -> CarState:
        """The charge state, from a cache within the API's budget unless stale; `wake`
        wakes a sleeping car (only when a decision needs it)."""

    async def start(self) -> None:
        """Start charging."""

    async def stop(self) -> None:
        """Stop charging (the car may then sleep)."""

    async def set_amps(self, amps: int) -> None:
        """Set the current the car asks for."""

    async def set_limit(self, soc: int) -> None:
        """Set the charge limit, %."""
