"""Track Green Energy: charge from the solar surplus, without flapping.

The surplus (watts the house would otherwise export) becomes amps with
the measured voltage and phase count. Charging starts only after the
surplus has been enough for `start_delay_s`, stops after it has been too
little for `stop_delay_s`, and in between follows the surplus in whole
amps by energy balance: the current changes only once the energy it has
imported (`lower_wh`) or left unused (`raise_wh`) since the last change
adds up. A short dip is ridden out on a bounded grid allowance (earned as
`grid_share` of the green energy, at most `grid_allowance_wh`); once that
is spent, every import is followed at once, as is a stop.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from twcm.service.policy.claims import Claim


@dataclass(frozen=True)
class GreenSettings:
    """How green tracking turns the surplus into a site limit."""

    subtract_charger_load: bool = False
    """True if the consumption meter also measures the charger: its load is
    then added back to the surplus (else charging would ramp itself down)."""
    offset_w: float = 0.0
    """Watts reserved for the house (positive) or added to the surplus
    (negative) before charging."""
    offset_amps: float = 0.0
    """The same in amps per phase, converted with the measured voltage."""
    flex_w: float = 0.0
    """Grid import allowed to keep (and start) charging at the minimum."""
    start_delay_s: float = 60.0
    """The surplus must be enough for this long before charging starts."""
    stop_delay_s: float = 300.0
    """The surplus must be too little for this long before charging stops."""
    change_interval_s: float = 30.0
    """Least time between a change and the next raise."""
    deadband_amps: float = 1.0
    """Surplus kept in reserve at the start: charging starts at the surplus
    less this, rounded down. (Raises go to the surplus rounded down: the
    energy balance, not a deadband, keeps a wobbling surplus from moving
    them.)"""
    lower_wh: float = 10.0
    """Grid energy the cars may import at the current offer (net of surplus
    they left unused) before it is lowered: a smaller dip moves nothing."""
    raise_wh: float = 40.0
    """Surplus energy left unused at the current offer before it is raised."""
    grid_share: float = 0.015
    """Fraction of the green energy charged that is earned as grid allowance
    to ride out dips (and hold the minimum through them)."""
    grid_allowance_wh: float = 150.0
    """Most grid allowance that can be saved up (it starts full). When it is
    spent, imports are followed at once and the minimum is not held."""

    def __post_init__(self) -> None:
        for name in ("flex_w", "start_delay_s", "stop_delay_s",
                     "change_interval_s", "deadband_amps", "lower_wh", "raise_wh",
                     "grid_share", "grid_allowance_wh"):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(f"{name}: {value!r} must be >= 0")
            if not math.isfinite(value):
                raise ValueError(f"{name}: {value!r} must be a finite number")
        if self.grid_share > 1:
            raise ValueError(f"grid_share: {self.grid_share!r} must be 0 to 1")
        for name in ("offset_w", "offset_amps"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name}: must be a finite number")


def surplus_w(
    settings: GreenSettings,
    generation_w: float | None,
    consumption_w: float | None,
    grid_import_w: float | None,
    charger_w: float,
    volt_phases: float,
) -> float | None:
    """Watts free for charging, or None if the meters do not tell.

    From generation and consumption when both are known, else from the
    grid meter alone (which always sees the charger). The offsets are taken
    off; `volt_phases` (volts x phases) converts `offset_amps`.
    """
    if generation_w is not None and consumption_w is not None:
        free = generation_w - consumption_w
        if settings.subtract_charger_load:
            free += charger_w
    elif grid_import_w is not None:
        free = charger_w - grid_import_w
    else:
        return None
    return free - settings.offset_w - settings.offset_amps * volt_phases


# Cars draw somewhat less than the limit they are offered (about 1 A here).
# Offering the surplus plus what the cars leave unused makes their draw,
# not their limit, follow the surplus; the amount made up is capped, so a
# car that takes far less than its offer (full, or limited by itself)
# cannot lift the limit far above the sun.
SHORTFALL_MAX = 1.5


# Longest time one update counts for in the energy sums: after a gap in
# the readings, the gap is not taken as a long import or export.
MAX_STEP_S = 60.0


class GreenTracker:
    """The green claim over time; feed it every reading with `update`."""

    def __init__(self, settings: GreenSettings, min_amps: int, max_amps: int) -> None:
        self.s = settings
        self.min_amps = min_amps
        self.max_amps = max_amps
        self.amps = 0
        self._since: float | None = None  # when the start or stop condition began
        self._changed_at = -math.inf
        self._last_t: float | None = None
        self.balance_wh = 0.0
        """Since the last change: surplus left unused (+) or imported (-) Wh."""
        self.allowance_wh = settings.grid_allowance_wh
        """Grid energy still allowed for riding out dips."""

    def reset(self) -> None:
        """Forget the history: not charging, delays start again. The grid
        allowance is kept: it is not earned back by a gap in the readings."""
        self.amps = 0
        self._since = None
        self._last_t = None
        self.balance_wh = 0.0

    def update(self, t: float, surplus: float | None, volt_phases: float,
               drawn_amps: float | None = None) -> Claim | None:
        """The green claim at time `t` (seconds) for `surplus` watts.

        None if the surplus is unknown: never charge from assumed sun.
        drawn_amps, what the cars draw now, lets the claim make up for cars
        that draw a little less than they are offered (see SHORTFALL_MAX).
        """
        if surplus is None:
            self.reset()
            return None
        dt_h = 0.0 if self._last_t is None else min(MAX_STEP_S, max(0.0, t - self._last_t)) / 3600
        self._last_t = t
        avail = surplus / volt_phases
        if self.amps and drawn_amps is not None and drawn_amps > 0:
            avail += min(SHORTFALL_MAX, max(0.0, self.amps - drawn_amps))
        flex = self.s.flex_w / volt_phases
        enough = avail + flex >= self.min_amps
        threshold = (self.min_amps - flex) * volt_phases
        amps = surplus / volt_phases
        head = f"surplus {surplus:.0f} W ÷ {volt_phases:.0f} V (volts × phases) = {amps:.1f} A"
        if avail - amps >= 0.05:
            head += f" + {avail - amps:.1f} A the cars draw below their offer = {avail:.1f} A"
        if self.amps == 0:
            return self._idle(t, enough, avail, head, threshold)
        # Energy sums: any import counts in the balance; the import beyond
        # the flex is paid from the grid allowance, and a share of the green
        # energy earns it back.
        imported = max(0.0, self.amps - avail) * volt_phases * dt_h
        beyond_flex = max(0.0, self.amps - avail - flex) * volt_phases * dt_h
        unused = max(0.0, avail - self.amps) * volt_phases * dt_h
        green = max(0.0, min(self.amps, avail)) * volt_phases * dt_h
        self.allowance_wh = min(self.s.grid_allowance_wh,
                                self.allowance_wh + self.s.grid_share * green - beyond_flex)
        spent = self.allowance_wh <= 0
        self.allowance_wh = max(0.0, self.allowance_wh)
        self.balance_wh = max(-self.s.lower_wh, min(self.s.raise_wh,
                                                    self.balance_wh + unused - imported))
        if enough:
            self._since = None
        else:
            if self._since is None:
                self._since = t
            if spent or t - self._since >= self.s.stop_delay_s:
                why = ("grid allowance spent" if t - self._since < self.s.stop_delay_s
                       else f"for {self.s.stop_delay_s:.0f} s")
                self.reset()
                return Claim("green", 0, f"{head}: below {threshold:.0f} W {why}, stopped")
        drop = self._clamp(math.floor(avail))
        if drop < self.amps and imported > 0 and (
                (spent and beyond_flex > 0) or self.balance_wh <= -self.s.lower_wh):
            self._set(t, drop)
        raise_to = self._clamp(math.floor(avail))
        if (raise_to > self.amps and self.balance_wh >= self.s.raise_wh
                and t - self._changed_at >= self.s.change_interval_s):
            self._set(t, raise_to)
        note = f", importing: grid allowance {self.allowance_wh:.0f} Wh left" if beyond_flex else ""
        if self._since is not None:
            left = self.s.stop_delay_s - (t - self._since)
            note += f", below {threshold:.0f} W: stops in {left:.0f} s unless it recovers"
        return Claim("green", self.amps, f"{head}, charging {self.amps} A{note}")

    def _idle(self, t: float, enough: bool, avail: float, head: str,
              threshold: float) -> Claim:
        if not enough:
            self._since = None
            return Claim("green", 0, f"{head}: below the start threshold {threshold:.0f} W")
        if self._since is None:
            self._since = t
        waited = t - self._since
        if waited < self.s.start_delay_s:
            return Claim("green", 0, f"{head}: above {threshold:.0f} W for {waited:.0f} s, "
                         f"starts after {self.s.start_delay_s:.0f} s")
        self._since = None
        self._set(t, self._clamp(math.floor(avail - self.s.deadband_amps)))
        return Claim("green", self.amps, f"{head}, started at {self.amps} A")

    def _clamp(self, amps: int) -> int:
        return max(self.min_amps, min(self.max_amps, amps))

    def _set(self, t: float, amps: int) -> None:
        self.amps = amps
        self._changed_at = t
        self.balance_wh = 0.0
