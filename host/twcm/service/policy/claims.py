"""Claims: each wish for the site limit, and how the wishes combine.

Every part of the policy states what it wants as a :class:`Claim`. The
wishes ("manual", "schedule", "plan", "green", "default") compete: the one of highest
priority sets the amps. "safety" claims do not compete; each is a ceiling
that can only lower the winner's amps. The outcome names the claim that set
the amps and the one that capped them, so the reason is always known.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

# Highest priority first. "safety" claims are ceilings, not wishes. "ocpp": a CSMS's
# charging profiles in [site.ocpp] mode "decides" (in mode "caps" they are safety ceilings).
# "plan" (planner.py: the cheapest slots to a car's departure target) yields to Charge Now
# and the user's own windows, and is above green: in its slots the deadline counts more
# than the sun.
PRIORITY: tuple[str, ...] = ("safety", "ocpp", "manual", "schedule", "plan", "green",
                             "default")


@dataclass(frozen=True)
class Claim:
    """One part of the policy's wish (or ceiling) for the site limit."""

    source: str
    """One of PRIORITY: where the claim comes from."""
    amps: int
    """Whole amps for all Wall Connectors together, >= 0."""
    reason: str
    """Why, in words a user understands (shown in the decision)."""

    def __post_init__(self) -> None:
        if self.source not in PRIORITY:
            raise ValueError(f"source: {self.source!r} is not one of {PRIORITY}")
        if not isinstance(self.amps, int) or isinstance(self.amps, bool) or self.amps < 0:
            raise ValueError(f"amps: {self.amps!r} must be a whole number >= 0")


@dataclass(frozen=True)
class Outcome:
    """What the claims add up to."""

    amps: int
    """The site limit: 0, or between min_amps and the lowest ceiling."""
    set_by: Claim | None
    """The wish of highest priority (None if there was no wish)."""
    capped_by: Claim | None
    """The safety claim that lowered the amps, if any did."""

    def explain(self, min_amps: int) -> str:
        """One line: who set the amps, and what capped them."""
        if self.set_by is None:
            return "no claim: 0 A"
        text = f"{self.set_by.source}: {self.set_by.reason}"
        if self.capped_by is not None:
            text += f"; capped by {self.capped_by.reason}"
            if self.amps == 0 and self.capped_by.amps > 0:
                text += f" (below the {min_amps} A minimum: 0 A)"
        return text


def combine(claims: Iterable[Claim], min_amps: int) -> Outcome:
    """The highest-priority wish, lowered by the lowest safety ceiling.

    A result between 0 and min_amps is not a current a car can take, so it
    becomes 0. Among wishes of the same source the first one listed wins.
    """
    claims = list(claims)
    wishes = [c for c in claims if c.source != "safety"]
    ceilings = [c for c in claims if c.source == "safety"]
    if not wishes:
        return Outcome(0, None, None)
    winner = min(wishes, key=lambda c: PRIORITY.index(c.source))
    amps = winner.amps
    capped_by = None
    if ceilings:
        lowest = min(ceilings, key=lambda c: c.amps)
        if lowest.amps < amps:
            amps = lowest.amps
            capped_by = lowest
    if amps < min_amps:
        amps = 0
    return Outcome(amps, winner, capped_by)
