"""OCPP 1.6 smart charging, sans-IO: the charging profiles a CSMS installed and the
composite schedule they make (OCPP 1.6 §3.13, SetChargingProfile, GetCompositeSchedule).

    book = Profiles(max_stack_level=8)
    book.install(1, profile)                 # SetChargingProfile on connector 1
    book.connector_limit(1, now, tx, amps)   # its limit now in A, None: unlimited
    book.changes(connectors, now, now + 3600)  # when any limit may change

Rules, as the standard has them:
- ChargePointMaxProfile lives on connector 0 only and caps the whole charge point.
- TxDefaultProfile on connector 0 applies to every connector; one installed on connector
  N applies to N, and at the same stack level wins over connector 0's.
- TxProfile belongs to the connector's running transaction (its transactionId, when
  given, must be that one) and, while in force, is used instead of TxDefaultProfile.
- Of the profiles of one purpose in force at a moment, the highest stackLevel wins; a
  new profile with the same chargingProfileId, or the same stackLevel and purpose on the
  same connector, replaces the old one.
- A connector's limit is the lower of ChargePointMax and its Tx / TxDefault limit.
Kinds: Absolute (from startSchedule, else from when it was installed), Recurring (Daily
or Weekly, from startSchedule and every day or week after) and Relative (from the start
of the connector's transaction; without one, its first period holds). Limits in W become
A with the TWC's volts and phases (the caller's `amps` function). minChargingRate is
kept but not used: a Wall Connector offers what it is told or nothing.
Times are Unix seconds; nothing here reads a clock.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

CP_MAX = "ChargePointMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
PURPOSES = (CP_MAX, TX_DEFAULT, TX)
KINDS = ("Absolute", "Recurring", "Relative")
RECURRENCE_S = {"Daily": 86400, "Weekly": 7 * 86400}

# amps(connector, limit, unit, number_phases) -> amps: how a period's limit becomes A.
ToAmps = Callable[[int, float, str, int | None], float]


class Refused(ValueError):
    """A profile the charge point does not take; the argument says why."""


def parse_time(text: str) -> float:
    """An OCPP dateTime (ISO 8601, e.g. 2026-12-06T22:00:00Z) as Unix seconds; a time
    without a zone is UTC."""
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.timestamp()


def format_time(unix: float) -> str:
    """Unix seconds as an OCPP dateTime in UTC."""
    return datetime.fromtimestamp(unix, timezone.utc).isoformat(timespec="seconds") \
        .replace("+00:00", "Z")


@dataclass(frozen=True)
class Period:
    start_s: int
    limit: float
    phases: int | None


@dataclass(frozen=True)
class Profile:
    """One installed profile (the csChargingProfiles of SetChargingProfile)."""

    id: int
    connector: int
    stack_level: int
    purpose: str
    kind: str
    recurrency: str | None
    valid_from: float | None
    valid_to: float | None
    transaction_id: int | None
    unit: str
    periods: tuple[Period, ...]
    duration_s: int | None
    start: float | None  # startSchedule; for Absolute without one, when it was installed
    min_rate: float | None
    raw: dict[str, Any]  # as received (snake_case keys), to keep it across a restart

    @classmethod
    def parse(cls, connector: int, d: dict[str, Any], installed_at: float) -> Profile:
        """A profile from its snake_case dict (as the ocpp package hands it over);
        Refused says what is wrong with it."""
        try:
            s = d["charging_schedule"]
            periods = tuple(Period(int(p["start_period"]), float(p["limit"]),
                                   None if p.get("number_phases") is None
                                   else int(p["number_phases"]))
                            for p in s["charging_schedule_period"])
            start = s.get("start_schedule")
            p = cls(id=int(d["charging_profile_id"]), connector=connector,
                    stack_level=int(d["stack_level"]),
                    purpose=str(d["charging_profile_purpose"]),
                    kind=str(d["charging_profile_kind"]),
                    recurrency=d.get("recurrency_kind"),
                    valid_from=_opt_time(d.get("valid_from")),
                    valid_to=_opt_time(d.get("valid_to")),
                    transaction_id=None if d.get("transaction_id") is None
                    else int(d["transaction_id"]),
                    unit=str(s["charging_rate_unit"]), periods=periods,
                    duration_s=None if s.get("duration") is None else int(s["duration"]),
                    start=parse_time(start) if start is not None else (
                        installed_at if d["charging_profile_kind"] == "Absolute" else None),
                    min_rate=None if s.get("min_charging_rate") is None
                    else float(s["min_charging_rate"]),
                    raw=_plain(d))
        except (KeyError, TypeError, ValueError) as e:
            raise Refused(f"not a charging profile: {e}") from None
        p._check()
        return p

    def _check(self) -> None:
        problem = (
            f"purpose {self.purpose!r} is not one of {', '.join(PURPOSES)}"
            if self.purpose not in PURPOSES else
            f"kind {self.kind!r} is not one of {', '.join(KINDS)}"
            if self.kind not in KINDS else
            "a ChargePointMaxProfile goes on connector 0 only"
            if self.purpose == CP_MAX and self.connector != 0 else
            "a TxProfile goes on a connector (1-3), not 0"
            if self.purpose == TX and self.connector == 0 else
            "a Recurring profile needs recurrencyKind Daily or Weekly and a startSchedule"
            if self.kind == "Recurring" and (self.recurrency not in RECURRENCE_S
                                             or self.start is None) else
            f"the unit {self.unit!r} is neither A nor W" if self.unit not in ("A", "W") else
            "the schedule has no periods" if not self.periods else
            "the first period must start at 0" if self.periods[0].start_s != 0 else
            "the periods must start in order" if any(
                a.start_s >= b.start_s for a, b in zip(self.periods, self.periods[1:])) else
            "a limit is negative or not a number" if any(
                not math.isfinite(p.limit) or p.limit < 0 for p in self.periods) else
            "a duration is negative" if self.duration_s is not None and self.duration_s < 0
            else "")
        if problem:
            raise Refused(problem)

    def origin(self, t: float, tx_start: float | None) -> float | None:
        """When the schedule run that covers t started (None: none does)."""
        if self.kind == "Relative":
            return tx_start if tx_start is not None else t  # no transaction: period 0 holds
        if self.start is None:
            return None
        if self.kind == "Recurring":
            every = RECURRENCE_S[self.recurrency or "Daily"]
            if t < self.start:
                return None
            return self.start + (t - self.start) // every * every
        return self.start

    def period_at(self, t: float, tx_start: float | None) -> Period | None:
        """The period in force at t, None if the profile does not limit at t."""
        if self.valid_from is not None and t < self.valid_from:
            return None
        if self.valid_to is not None and t >= self.valid_to:
            return None
        o = self.origin(t, tx_start)
        if o is None or t < o:
            return None
        run = t - o
        length = self.duration_s
        if self.kind == "Recurring":
            every = RECURRENCE_S[self.recurrency or "Daily"]
            length = every if length is None else min(length, every)
        if length is not None and run >= length:
            return None
        found = None
        for p in self.periods:
            if p.start_s <= run:
                found = p
        return found

    def edges(self, t0: float, t1: float, tx_start: float | None) -> set[float]:
        """The moments in (t0, t1) at which this profile's limit may change."""
        out: set[float] = {x for x in (self.valid_from, self.valid_to) if x is not None}
        if self.kind == "Recurring":
            every = RECURRENCE_S[self.recurrency or "Daily"]
            assert self.start is not None
            first = self.start + max(0.0, (t0 - self.start) // every) * every
            origins = []
            o = first - every if first - every >= self.start else first
            while o < t1:
                origins.append(o)
                o += every
        else:
            o1 = self.origin(t0, tx_start)
            origins = [] if o1 is None else [o1]
        for o in origins:
            out.update(o + p.start_s for p in self.periods)
            if self.duration_s is not None:
                out.add(o + self.duration_s)
        return {x for x in out if t0 < x < t1}


def _opt_time(v: Any) -> float | None:
    return None if v is None else parse_time(str(v))


def _plain(v: Any) -> Any:
    """The dict with Decimals (the ocpp package parses limits so) as floats, for JSON."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if v is None or isinstance(v, (bool, int, str)):
        return v
    return float(v)


@dataclass(frozen=True)
class Tx:
    """A connector's running transaction, as the profiles need it."""

    id: int
    start: float


class Profiles:
    """The installed profiles of one charge point, and their composite schedule."""

    def __init__(self, max_stack_level: int = 8, max_installed: int = 32) -> None:
        self.max_stack_level = max_stack_level
        self.max_installed = max_installed
        self.installed: list[Profile] = []

    def install(self, profile: Profile, tx: Tx | None = None) -> None:
        """Add a profile (SetChargingProfile), replacing the one with its id or with its
        stack level and purpose on its connector. Refused: the stack level is out of
        range, a TxProfile without a transaction on its connector (or for another one),
        or too many profiles."""
        if not 0 <= profile.stack_level <= self.max_stack_level:
            raise Refused(f"stackLevel {profile.stack_level} is not 0-{self.max_stack_level}")
        if profile.purpose == TX:
            if tx is None:
                raise Refused(f"no transaction on connector {profile.connector}")
            if profile.transaction_id not in (None, tx.id):
                raise Refused(f"transaction {profile.transaction_id} is not the one on "
                              f"connector {profile.connector} ({tx.id})")
        kept = [p for p in self.installed if p.id != profile.id and not (
            p.stack_level == profile.stack_level and p.purpose == profile.purpose
            and p.connector == profile.connector)]
        if len(kept) >= self.max_installed:
            raise Refused(f"{self.max_installed} profiles are installed already")
        self.installed = kept + [profile]

    def clear(self, id: int | None = None, connector: int | None = None,
              purpose: str | None = None, stack_level: int | None = None) -> int:
        """Remove the profiles that match (ClearChargingProfile: an id matches alone,
        else every criterion given); how many went."""
        def match(p: Profile) -> bool:
            if id is not None:
                return p.id == id
            return ((connector is None or p.connector == connector)
                    and (purpose is None or p.purpose == purpose)
                    and (stack_level is None or p.stack_level == stack_level))
        before = len(self.installed)
        self.installed = [p for p in self.installed if not match(p)]
        return before - len(self.installed)

    def transaction_ended(self, connector: int) -> None:
        """A transaction's TxProfiles end with it."""
        self.installed = [p for p in self.installed
                          if not (p.purpose == TX and p.connector == connector)]

    def _winner(self, profiles: Iterable[Profile], t: float,
                tx_start: float | None) -> tuple[Profile, Period] | None:
        """Of these profiles, the one of highest stack level in force at t (on a tie the
        connector's own over connector 0's), with its period."""
        best: tuple[int, int, Profile, Period] | None = None
        for p in profiles:
            period = p.period_at(t, tx_start)
            if period is None:
                continue
            key = (p.stack_level, 1 if p.connector else 0)
            if best is None or key > best[:2]:
                best = (key[0], key[1], p, period)
        return None if best is None else (best[2], best[3])

    def _limit(self, found: tuple[Profile, Period] | None, connector: int,
               amps: ToAmps) -> float | None:
        if found is None:
            return None
        p, period = found
        return amps(connector, period.limit, p.unit, period.phases)

    def site_max(self, t: float, amps: ToAmps) -> float | None:
        """The ChargePointMaxProfile limit at t in A, None without one in force."""
        return self._limit(self._winner((p for p in self.installed if p.purpose == CP_MAX),
                                        t, None), 0, amps)

    def connector_limit(self, connector: int, t: float, tx: Tx | None,
                        amps: ToAmps) -> float | None:
        """The connector's own limit at t in A (its TxProfile while one is in force, else
        its TxDefaultProfile), lowered by ChargePointMax; None: nothing limits it."""
        start = None if tx is None else tx.start
        own = None
        if tx is not None:
            own = self._winner((p for p in self.installed if p.purpose == TX
                                and p.connector == connector), t, start)
        if own is None:
            own = self._winner((p for p in self.installed if p.purpose == TX_DEFAULT
                                and p.connector in (0, connector)), t, start)
        limits = [x for x in (self._limit(own, connector, amps), self.site_max(t, amps))
                  if x is not None]
        return min(limits) if limits else None

    def changes(self, txs: dict[int, Tx | None], t0: float, t1: float) -> list[float]:
        """Every moment in (t0, t1) at which a limit may change, in order; `txs` holds each
        connector's transaction (None without one)."""
        out: set[float] = set()
        for p in self.installed:
            starts = [t.start if t else None for c, t in txs.items()
                      if p.connector in (0, c)] or [None]
            for s in starts:
                out |= p.edges(t0, t1, s)
        return sorted(out)

    def to_json(self) -> list[dict[str, Any]]:
        """What install() needs to rebuild them (see from_json)."""
        return [{"connector": p.connector, "installed_at": p.start if p.kind == "Absolute"
                 else None, "profile": p.raw} for p in self.installed]

    def from_json(self, saved: list[dict[str, Any]], now: float) -> None:
        """Profiles kept by to_json; TxProfiles are not (their transactions ended with
        the restart), nor one that no longer parses."""
        for d in saved:
            try:
                p = Profile.parse(int(d["connector"]), d["profile"],
                                  d.get("installed_at") or now)
            except (Refused, KeyError, TypeError, ValueError):
                continue
            if p.purpose != TX:
                self.installed.append(p)
