"""Consumption offsets: named loads (or gains) the meters do not show, added to the
consumption green tracking sees. A positive offset is more consumption, so less surplus
(a heat pump on another meter, a margin for the house); a negative one more surplus (a
load the consumption meter counts that should not hold the car back). Amps are amps per
phase, turned into watts with the measured voltage times the phases in use.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

UNITS = ("W", "A")
MAX_OFFSETS = 16
MAX_NAME = 40
MAX_VALUE = 100_000.0  # W; and A (any sane offset in amps is far below it)


@dataclass(frozen=True)
class ConsumptionOffset:
    """One named offset: `value` watts (unit "W") or amps per phase (unit "A")."""

    name: str
    value: float
    unit: str = "W"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not 1 <= len(self.name) <= MAX_NAME:
            raise ValueError(f"consumption_offsets: name {self.name!r} must be 1 to "
                             f"{MAX_NAME} characters")
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)) \
                or not math.isfinite(self.value) or abs(self.value) > MAX_VALUE:
            raise ValueError(f"consumption_offsets: {self.name}: value {self.value!r} must "
                             f"be a finite number, -{MAX_VALUE:.0f} to {MAX_VALUE:.0f}")
        if self.unit not in UNITS:
            raise ValueError(f"consumption_offsets: {self.name}: unit {self.unit!r} must be "
                             '"W" or "A"')

    def watts(self, volt_phases: float) -> float:
        """The offset in watts; `volt_phases` (volts x phases) converts amps."""
        return self.value * volt_phases if self.unit == "A" else self.value


def check_offsets(offsets: tuple[ConsumptionOffset, ...]) -> str | None:
    """What is wrong with a list of offsets as a whole (count, names), or None."""
    if len(offsets) > MAX_OFFSETS:
        return f"must hold at most {MAX_OFFSETS} offsets, not {len(offsets)}"
    names = [o.name for o in offsets]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        return f"must have a different name each: {', '.join(twice)} is used twice"
    return None


def total_w(offsets: tuple[ConsumptionOffset, ...], volt_phases: float) -> float:
    """All offsets together, in watts."""
    return sum(o.watts(volt_phases) for o in offsets)


def explain(offsets: tuple[ConsumptionOffset, ...], volt_phases: float) -> str:
    """The offsets in force for a decision's reason: " (consumption offsets: heat pump
    +800 W, car port 2 A = +460 W: +1260 W)"; "" without any."""
    if not offsets:
        return ""
    parts = []
    for o in offsets:
        w = o.watts(volt_phases)
        parts.append(f"{o.name} {w:+.0f} W" if o.unit == "W"
                     else f"{o.name} {o.value:+g} A = {w:+.0f} W")
    total = f": {total_w(offsets, volt_phases):+.0f} W" if len(offsets) > 1 else ""
    return f" (consumption offsets: {', '.join(parts)}{total})"
