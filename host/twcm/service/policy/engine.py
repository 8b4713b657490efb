"""The policy: from meter readings and the time to one site limit.

    policy = Policy(Settings(max_amps=32, main_fuse_amps=25))
    decision = policy.decide(now, Inputs(generation_w=4200, consumption_w=600))
    # send decision.amps as the site lease if decision.lease; show decision.reason

Sans-IO and deterministic: nothing here reads a clock, a file or a socket.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from twcm.service.policy.claims import Claim, Outcome, combine
from twcm.service.policy.green import GreenSettings, GreenTracker, surplus_w
from twcm.service.policy.inputs import Inputs, plausible_volts
from twcm.service.policy.offsets import ConsumptionOffset, check_offsets, explain, total_w
from twcm.service.policy.planner import Plan, plan_claim
from twcm.service.policy.schedule import ChargeNow, Window, schedule_claim

def _known(value: float | None) -> float | None:
    """A reading, or None if it is missing or not a finite number."""
    return value if value is not None and math.isfinite(value) else None


class NonScheduled(Enum):
    """What to do when no Charge Now and no schedule window is active."""

    FIXED = "fixed"
    DO_NOT_CHARGE = "do_not_charge"
    TRACK_GREEN = "track_green"


@dataclass(frozen=True)
class Settings:
    """Everything the policy needs to know about the site and the user's wishes."""

    max_amps: int = 32
    """Most current all Wall Connectors together may get (the shared wiring)."""
    min_amps: int = 6
    """Least current a car charges at; below it the site limit is 0."""
    volts: float = 230.0
    """Voltage used when the Wall Connectors report none."""
    phases: int = 1
    """Phase count used when the Wall Connectors report none."""
    non_scheduled: NonScheduled = NonScheduled.TRACK_GREEN
    """What to do outside Charge Now and schedule windows."""
    non_scheduled_amps: int = 16
    """Site limit for NonScheduled.FIXED."""
    windows: tuple[Window, ...] = ()
    """Weekly scheduled-charging windows."""
    green: GreenSettings = field(default_factory=GreenSettings)
    """How Track Green Energy works."""
    main_fuse_amps: float | None = None
    """Main fuse per phase: house plus charger stay below it. None: no limit."""
    battery_min_soc: float | None = None
    """Home battery SoC (%) below which the battery gets the surplus first.
    None: no battery gate."""
    battery_charge_w: float = 3000.0
    """Watts the home battery takes while below battery_min_soc."""
    max_reading_age_s: float = 120.0
    """Meter readings older than this count as unknown."""
    charge_off_grid: bool = False
    """Charge while a source (a Powerwall) says the site is off grid. False: no current
    then, so that the home battery carries the house through the power cut."""
    consumption_offsets: tuple[ConsumptionOffset, ...] = ()
    """Named loads added to the consumption green tracking sees (offsets.py)."""

    def __post_init__(self) -> None:
        def check(name: str, ok: bool, fix: str) -> None:
            if not ok:
                raise ValueError(f"{name}: {getattr(self, name)!r} {fix}")

        check("max_amps", isinstance(self.max_amps, int) and 1 <= self.max_amps <= 240,
              "must be a whole number of amps, 1 to 240")
        check("min_amps", isinstance(self.min_amps, int) and 1 <= self.min_amps <= self.max_amps,
              "must be a whole number of amps, 1 to max_amps")
        check("volts", 90 <= self.volts <= 300, "must be 90 to 300 V")
        check("phases", self.phases in (1, 2, 3), "must be 1, 2 or 3")
        check("non_scheduled", isinstance(self.non_scheduled, NonScheduled),
              "must be a NonScheduled value")
        check("non_scheduled_amps", isinstance(self.non_scheduled_amps, int)
              and 0 <= self.non_scheduled_amps <= self.max_amps,
              "must be a whole number of amps, 0 to max_amps")
        check("windows", all(isinstance(w, Window) for w in self.windows),
              "must be a tuple of Window")
        check("main_fuse_amps", self.main_fuse_amps is None or self.main_fuse_amps > 0,
              "must be above 0, or None for no limit")
        check("battery_min_soc", self.battery_min_soc is None
              or 0 <= self.battery_min_soc <= 100, "must be 0 to 100 %, or None")
        check("battery_charge_w", self.battery_charge_w >= 0, "must be >= 0 W")
        check("max_reading_age_s", self.max_reading_age_s > 0, "must be above 0 s")
        check("consumption_offsets", all(isinstance(o, ConsumptionOffset)
                                         for o in self.consumption_offsets),
              "must be a tuple of ConsumptionOffset")
        check("consumption_offsets", check_offsets(self.consumption_offsets) is None,
              check_offsets(self.consumption_offsets) or "")


@dataclass(frozen=True)
class Decision:
    """The site limit to send, and why."""

    amps: int
    reason: str
    claims: list[Claim]
    set_by: Claim | None = None
    capped_by: Claim | None = None
    lease: bool = True
    """False: send no lease at all, the device follows its own schedule or fallback (as
    without a host): green tracking decides and has no readings to rest on."""


class Policy:
    """Decides the site limit; keeps Charge Now and green tracking state."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.charge_now_request: ChargeNow | None = None
        self.plans: tuple[Plan, ...] = ()  # the cars' plans (planner.py), set by the site
        self._green = GreenTracker(settings.green, settings.min_amps, settings.max_amps)

    def update(self, settings: Settings) -> None:
        """New settings from now on. Green tracking starts afresh only if what it rests
        on changed (its settings or the amps range); Charge Now goes on."""
        old = self.settings
        self.settings = settings
        if (old.green, old.min_amps, old.max_amps) != (settings.green, settings.min_amps,
                                                       settings.max_amps):
            self._green = GreenTracker(settings.green, settings.min_amps, settings.max_amps)

    def charge_now(self, amps: int, duration: timedelta, now: datetime) -> None:
        """Charge at `amps` from `now` for `duration`, above schedule and green."""
        self.charge_now_request = ChargeNow.starting(now, amps, duration)

    def cancel_charge_now(self) -> None:
        """End Charge Now before its time."""
        self.charge_now_request = None

    def decide(self, now: datetime, inputs: Inputs, outside: Sequence[Claim] = ()) -> Decision:
        """The site limit at `now` (home time zone) for these readings; `outside`: claims
        from outside the policy (OCPP's, policy/outside.py), weighed with its own."""
        s = self.settings
        volts = inputs.volts if plausible_volts(inputs.volts) else s.volts
        phases = inputs.phases if inputs.phases in (1, 2, 3) else s.phases
        cars = [(a, p if p in (1, 2, 3) else phases) for a, p in inputs.cars]
        # Green tracking converts with the phases the cars really draw on (the most of
        # them: a lease is amps per phase for every car); the house load is spread over
        # the Wall Connectors' (the site's) phases.
        vp = volts * max((p for _, p in cars), default=phases)
        site_vp = volts * phases
        # Unknown counts as 0: that under-states surplus and over-states house load.
        charger_amps = _known(inputs.charger_amps) or 0.0
        in_cars = sum(a for a, _ in cars)
        charger_w = volts * (sum(a * p for a, p in cars)
                             + max(0.0, charger_amps - in_cars) * phases)
        fresh = inputs.meter_age_s <= s.max_reading_age_s
        meters = (inputs.generation_w, inputs.consumption_w, inputs.grid_import_w)
        gen, cons, grid = (_known(m) for m in meters) if fresh else (None, None, None)

        claims: list[Claim] = [Claim("safety", s.max_amps, f"site maximum {s.max_amps} A")]
        claims.extend(outside)
        if inputs.grid_connected is False and fresh and not s.charge_off_grid:
            # In a power cut the home battery alone carries the house: keep it for that.
            claims.append(Claim("safety", 0, "off grid: the home battery is kept for the "
                                "house"))
        if s.main_fuse_amps is not None:
            phase_amps = inputs.grid_phase_amps if fresh else None
            claims.append(self._fuse_claim(s.main_fuse_amps, cons, grid, phase_amps,
                                           charger_amps, charger_w, site_vp, cars))
        if self.charge_now_request is not None:
            manual = self.charge_now_request.claim(now)
            if manual is None:
                self.charge_now_request = None
            else:
                claims.append(manual)
        scheduled = schedule_claim(s.windows, now)
        if scheduled is not None:
            claims.append(scheduled)
        planned = plan_claim(self.plans, now.timestamp(), s.max_amps)
        if planned is not None:
            claims.append(planned)
        tracking = s.non_scheduled is NonScheduled.TRACK_GREEN
        free = green = None
        if tracking:
            free = surplus_w(s.green, gen, cons, grid, charger_w, vp)
            if free is not None:  # the offsets are consumption: less surplus
                free -= total_w(s.consumption_offsets, vp)
            free, gate = self._battery_gate(free, _known(inputs.battery_soc))
            gate = explain(s.consumption_offsets, vp) + gate
            green = self._green.update(now.timestamp(), free, vp, _known(inputs.charger_amps))
            if green is not None:
                claims.append(Claim("green", green.amps, green.reason + gate))
        default = self._default_claim(fresh, free, vp)
        claims.append(default)

        outcome: Outcome = combine(claims, s.min_amps)
        reason = outcome.explain(s.min_amps)
        if inputs.wanting is False:
            reason += " (no car wants current now)"
        # Green tracking with nothing to rest on leaves the device to itself.
        lease = outcome.set_by is not None and not (
            tracking and green is None and outcome.set_by is default)
        return Decision(outcome.amps, reason, claims, outcome.set_by, outcome.capped_by,
                        lease)

    def _fuse_claim(self, fuse: float, cons: float | None, grid: float | None,
                    phase_amps: tuple[float, ...] | None, charger_amps: float,
                    charger_w: float, vp: float, cars: list[tuple[float, int]]) -> Claim:
        """Ceiling so that house load plus charger stay within the main fuse.

        From the house load (less the cars' real load: amps times the phases each draws
        on), spread over the site's phases (vp: volts x phases), without counting on the
        sun; and where the grid meter measures each phase, also from its most loaded
        phase less the cars' current surely on it: whichever leaves less. The measured
        current is net of the sun, so it only ever lowers the ceiling; it catches a house
        load on one phase that the spread hides. Which phase of the meter a car's phase
        is, is not known: one car's current is on the busiest phase if it draws there,
        and if not, that phase is not its to share, so the room on the car's own phase is
        at least fuse - (busiest - its current). With several cars, only the current of
        those that draw on every measured phase is surely on the busiest one."""
        if cons is not None:
            house = cons - charger_w if self.settings.green.subtract_charger_load else cons
        elif grid is not None:
            house = grid - charger_w
        else:
            return Claim("safety", 0, f"main fuse {fuse:g} A: house load unknown")
        room = max(0, math.floor(fuse - max(0.0, house) / vp))
        measured = [_known(a) for a in phase_amps or ()]
        if measured and None not in measured:
            worst = max(a for a in measured if a is not None)
            drawing = [(a, p) for a, p in cars if a >= 1]
            ours = charger_amps if len(drawing) <= 1 else sum(
                a for a, p in drawing if p >= len(measured))
            left = max(0, math.floor(fuse - (worst - ours)))
            if left < room:
                return Claim("safety", left, f"main fuse {fuse:g} A with {worst:.1f} A "
                             f"on the busiest phase ({ours:.1f} A of it the cars'): "
                             f"{left} A left")
        return Claim("safety", room, f"main fuse {fuse:g} A with house load "
                     f"{max(0.0, house):.0f} W: {room} A left")

    def _battery_gate(self, free: float | None, soc: float | None) -> tuple[float | None, str]:
        """Take the battery's share off the surplus while its SoC is low."""
        s = self.settings
        if free is None or s.battery_min_soc is None:
            return free, ""
        if soc is not None and soc >= s.battery_min_soc:
            return free, ""
        known = "unknown" if soc is None else f"{soc:.0f} %"
        return free - s.battery_charge_w, (
            f" (home battery {known} < {s.battery_min_soc:g} %: "
            f"{s.battery_charge_w:.0f} W kept for it)")

    def _default_claim(self, fresh: bool, free: float | None, vp: float) -> Claim:
        """The non-scheduled action's own claim. While tracking green it is 0 A and says
        why green tracking gives nothing, or (when green claims) what the surplus is."""
        s = self.settings
        if s.non_scheduled is NonScheduled.FIXED:
            return Claim("default", s.non_scheduled_amps,
                         f"not scheduled: fixed {s.non_scheduled_amps} A")
        if s.non_scheduled is NonScheduled.DO_NOT_CHARGE:
            return Claim("default", 0, "not scheduled: do not charge")
        if not fresh:
            why = "meter readings too old"
        elif free is None:
            why = "no surplus reading"
        elif free < s.min_amps * vp - s.green.flex_w:
            why = "surplus below the car's minimum"
        else:
            why = "surplus enough for the car's minimum"
        return Claim("default", 0, f"tracking green energy: {why}")
