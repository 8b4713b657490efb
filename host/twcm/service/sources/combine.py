"""Several sources into one Reading, role by role, by the site's rules.

Each feed fills some roles (generation, consumption, grid, battery). Where more than one
feed fills a role, the rule for that role says how they combine:
- "sum": the feeds' values added up (two inverters); unknown unless every feed knows;
- "priority": the first feed in config order with a fresh value (a failover meter);
- a feed's name: only that feed.
A role nobody fills, or whose feeds are stale, stays None: the policy treats it as
unknown and does not charge from assumed sun.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from twcm.service.sources import ROLE_FIELDS, ROLES, Reading
from twcm.service.sources.feed import Feed, FeedStatus

RULES = ("sum", "priority")
_MEAN = ("volts", "battery_soc")  # summed feeds give these as their mean


@dataclass(frozen=True)
class Combined:
    """The site's readings, and which feed gave what."""

    reading: Reading | None  # None: no role is known at all
    used: dict[str, list[str]] = field(default_factory=dict)  # role -> feed names used
    feeds: list[FeedStatus] = field(default_factory=list)


def _sum(values: Sequence[Any]) -> Any:
    if any(v is None for v in values):
        return None
    first = values[0]
    if isinstance(first, tuple):  # per-phase amps: phase by phase, if all have the phases
        if any(len(v) != len(first) for v in values):
            return None
        return tuple(sum(p) for p in zip(*values))
    if isinstance(first, bool):
        return all(values)
    return sum(values)


class Meters:
    """The feeds of one site and its combination rules (role -> rule)."""

    def __init__(self, feeds: list[Feed], rules: dict[str, str]) -> None:
        self.feeds = feeds
        self.rules = rules

    def combine(self, now: float | None = None) -> Combined:
        now = time.time() if now is None else now
        values: dict[str, Any] = {}
        used: dict[str, list[str]] = {}
        oldest: float | None = None
        for role in ROLES:
            feeds = [f for f in self.feeds if role in f.roles]
            if not feeds:
                continue
            rule = self.rules.get(role, "priority")  # the config asks for a rule if > 1 feed
            got, names = self._role(role, rule, feeds, now)
            if names:
                used[role] = names
                for f in feeds:
                    at = f.taken_at() if f.name in names else None
                    if at is not None:
                        oldest = at if oldest is None else min(oldest, at)
            values.update(got)
        statuses = [f.status(now) for f in self.feeds]
        if not used or oldest is None:
            return Combined(None, used, statuses)
        return Combined(Reading(**values, at=oldest), used, statuses)

    @staticmethod
    def _role(role: str, rule: str, feeds: list[Feed],
              now: float) -> tuple[dict[str, Any], list[str]]:
        """The role's fields by `rule`, and the feeds that gave them."""
        names = ROLE_FIELDS[role]
        fresh = [(f, f.fresh(now)) for f in feeds]
        main = names[0]  # the field that says whether the feed knows the role
        if rule == "sum":
            readings = [r for _, r in fresh]
            if any(r is None or getattr(r, main) is None for r in readings):
                return {}, []
            out = {}
            for n in names:
                got = [getattr(r, n) for r in readings]
                if n in _MEAN:
                    known = [v for v in got if v is not None]
                    out[n] = sum(known) / len(known) if known else None
                else:
                    out[n] = _sum(got)
            return out, [f.name for f, _ in fresh]
        candidates = fresh if rule == "priority" else [x for x in fresh if x[0].name == rule]
        for f, r in candidates:
            if r is not None and getattr(r, main) is not None:
                return {n: getattr(r, n) for n in names}, [f.name]
        return {}, []
