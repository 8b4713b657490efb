"""What the policy reads, and the one way `twcm run` and `twcm replay` make it: from the
site's meter reading (twcm.service.sources.Reading) and the device's state message
(twcm.service.devicelink.DeviceState, docs/mqtt.md).

    inputs = site_inputs(reading, device_state, age_s=3.2)
    decision = policy.decide(now, inputs)
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from twcm.service.policy.phases import CHARGING_AMPS, measured_phases, wired_phases

if TYPE_CHECKING:  # only their fields are read: the policy imports no I/O
    from twcm.service.devicelink.site import DeviceState
    from twcm.service.sources import Reading

LINKED = "linked"  # a slave the master heartbeats (docs/mqtt.md, `link`)


def plausible_volts(volts: float | None) -> bool:
    """A mains voltage the policy believes: 90 to 300 V (one phase to neutral)."""
    return volts is not None and 90 <= volts <= 300


@dataclass(frozen=True)
class Inputs:
    """One set of readings. Unknown values are None."""

    generation_w: float | None = None
    consumption_w: float | None = None
    grid_import_w: float | None = None  # negative while exporting
    grid_phase_amps: tuple[float, ...] | None = None  # grid current per phase, - exporting
    battery_soc: float | None = None  # percent
    grid_connected: bool | None = None  # False: the site runs off grid (a power cut)
    meter_age_s: float = 0.0  # age of the meter readings above
    charger_amps: float = 0.0  # what the cars draw together, amps per phase
    volts: float | None = None  # at the Wall Connectors, else at the meter
    phases: int | None = None  # the phases the Wall Connectors are wired to
    cars: tuple[tuple[float, int], ...] = ()
    """(amps drawn, phases really drawn on) of each car that wants or draws current
    (policy/phases.py); 0 phases, or no cars: as many as `phases`."""
    wanting: bool | None = None  # any car wants current; None: the device does not say


def _wanting(says: list[bool | None]) -> bool | None:
    """Yes if a slave says yes; else unknown if one does not say (older firmware)."""
    if True in says:
        return True
    return None if None in says else False


def site_inputs(reading: Reading | None, state: DeviceState | None, age_s: float,
                car_phases: Mapping[str, int] | None = None) -> Inputs:
    """The policy's inputs from the combined meter reading (None: nothing known), the
    device's latest state (None: not heard yet), how old the reading is, and the phases
    each TWC's car was last measured on (phases.CarPhases; else from this state alone).

    From the device, its linked slaves only (a lost slave's figures are its last word):
    what their cars draw, the mean of the phase voltages they measure, the most phases
    one of them is wired to, each car's draw and the phases it really draws on (for the
    cars that want or draw current), and whether a car wants current (each slave's `wanting`,
    the master's own view; unknown if a slave predates the field and none says yes).
    The meter's voltage stands in when the Wall Connectors measure none.
    """
    linked = [s for s in state.slaves if s.link == LINKED] if state is not None else []
    used = [v for s in linked for v in s.volts if v]
    volts = sum(used) / len(used) if used else None
    if not plausible_volts(volts) and reading is not None and plausible_volts(reading.volts):
        volts = reading.volts
    phases = max((wired_phases(s) for s in linked), default=0)
    known = car_phases or {}
    cars = tuple((s.actual_amps, known.get(s.id) or measured_phases(s) or wired_phases(s))
                 for s in linked if s.wanting or s.actual_amps >= CHARGING_AMPS)
    device = Inputs(charger_amps=sum(s.actual_amps for s in linked), volts=volts,
                    phases=phases or None, cars=cars,
                    wanting=None if state is None else _wanting([s.wanting for s in linked]))
    if reading is None:
        return device
    r = reading
    return replace(device, generation_w=r.generation_w, consumption_w=r.consumption_w,
                   grid_import_w=r.grid_import_w, grid_phase_amps=r.phase_amps,
                   battery_soc=r.battery_soc, grid_connected=r.grid_connected,
                   meter_age_s=max(0.0, age_s))
