"""On how many phases each car really draws (docs/policy.md, "Phases").

A Wall Connector wired to three phases may charge a car that draws on one (many older
and smaller cars do): counting its current three times (TWCManager #437, #578) makes
green tracking offer a third of the surplus, and counts a third of the car's real load
twice over as house load in the main-fuse limit. The device reports each Wall Connector's
per-phase currents (`phase_amps`, from FD EB bytes 14-16, docs/mqtt.md), read every
minute and 5 s after a car starts drawing: a phase carrying 1 A or more is one the car
draws on. Until they show the car's draw (older firmware, protocol 1, a reading taken
before it started), the phases the Wall Connector is wired to (the volts it measures)
stand in, which never under-counts.

    phases = CarPhases()
    inputs = site_inputs(reading, state, age_s, phases.update(state))
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only their fields are read
    from twcm.service.devicelink.site import DeviceState, Slave

LINKED = "linked"
MIN_PHASE_AMPS = 1.0  # a phase carrying this much is one the car draws on
CHARGING_AMPS = 1.0  # a car drawing this much is charging (the device's rule too)


def wired_phases(slave: Slave) -> int:
    """The phases the Wall Connector measures a voltage on (0 before its first reading)."""
    return sum(1 for v in slave.volts if v)


def measured_phases(slave: Slave) -> int | None:
    """The phases its car draws on by its per-phase currents, while it draws; None
    while they do not tell (no reading, or one taken before the car drew)."""
    amps = slave.phase_amps
    if amps is None or slave.actual_amps < CHARGING_AMPS:
        return None
    n = sum(1 for a in amps if a >= MIN_PHASE_AMPS)
    return n or None


class CarPhases:
    """The phases each Wall Connector's car was last measured on, kept while the car
    stays plugged in (wants current), so that a car that pauses, or waits for enough sun,
    is still known to draw on one phase when it starts again."""

    def __init__(self) -> None:
        self._known: dict[str, int] = {}

    def update(self, state: DeviceState | None) -> dict[str, int]:
        """Learn from the device's latest state; the phases known per TWC id."""
        if state is None:
            return dict(self._known)
        now: dict[str, int] = {}
        for s in state.slaves:
            if s.link != LINKED:
                continue
            m = measured_phases(s)
            if m is not None:
                now[s.id] = m
            elif s.id in self._known and (s.wanting or s.actual_amps >= CHARGING_AMPS):
                now[s.id] = self._known[s.id]
        self._known = now
        return dict(now)
