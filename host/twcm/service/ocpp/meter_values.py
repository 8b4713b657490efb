"""A Wall Connector's readings as OCPP 1.6 MeterValues sampled values (snake_case, as the
ocpp package's datatypes.SampledValue takes them).

What a gen-2 TWC tells: its lifetime energy in whole kWh (protocol 2 only; reported as
Wh, so it moves in steps of 1000), the car's current (one figure, the same on each phase
the TWC has volts on), the volts per phase, and what the master offers it. Power is
current x volts summed over those phases.
"""
from __future__ import annotations

from typing import Any

from twcm.service.devicelink.site import Slave

ENERGY = "Energy.Active.Import.Register"
CURRENT = "Current.Import"
VOLTAGE = "Voltage"
POWER = "Power.Active.Import"
OFFERED = "Current.Offered"
SUPPORTED = (ENERGY, CURRENT, VOLTAGE, POWER, OFFERED)
DEFAULT = (ENERGY, CURRENT, VOLTAGE, POWER, OFFERED)
PHASES = ("L1", "L2", "L3")


def energy_wh(slave: Slave | None) -> int:
    """The lifetime energy register in Wh (0 while the TWC has not told it)."""
    return 0 if slave is None or slave.lifetime_kwh is None else slave.lifetime_kwh * 1000


def sampled(slave: Slave, measurands: tuple[str, ...], context: str) -> list[dict[str, Any]]:
    """The sampled values of `slave` for the measurands asked, in a reading `context`
    (Sample.Periodic, Transaction.Begin, Transaction.End, Trigger)."""
    used = [(PHASES[i], v) for i, v in enumerate(slave.volts[:3]) if v > 0]
    amps = max(0.0, slave.actual_amps)
    out: list[dict[str, Any]] = []

    def add(measurand: str, value: float, unit: str, phase: str | None = None) -> None:
        v = {"value": f"{value:.0f}" if unit in ("Wh", "W") else f"{value:.1f}",
             "context": context, "measurand": measurand, "location": "Outlet", "unit": unit}
        if phase is not None:
            v["phase"] = phase
        out.append(v)

    for m in measurands:
        if m == ENERGY and slave.lifetime_kwh is not None:
            add(ENERGY, energy_wh(slave), "Wh")
        elif m == CURRENT:
            for phase, _ in used or [("L1", 0)]:
                add(CURRENT, amps, "A", phase)
        elif m == VOLTAGE:
            for phase, volts in used:
                add(VOLTAGE, volts, "V", f"{phase}-N")
        elif m == POWER:
            add(POWER, amps * sum(v for _, v in used), "W")
        elif m == OFFERED:
            add(OFFERED, slave.offered_amps, "A")
    return out
