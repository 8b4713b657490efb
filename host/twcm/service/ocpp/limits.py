"""What the CSMS's charging profiles ask of the site and of each Wall Connector, as the
site loop takes it from outside the policy (policy/outside.py, SiteLoop.set_outside):

- the site: the lower of the ChargePointMaxProfile and the sum of the connectors' limits
  (a connector without one counts as unlimited), as a claim in the policy: in mode
  "decides" an "ocpp" wish (above Charge Now, below the safety ceilings), in mode "caps"
  a safety ceiling on what the local policy decides;
- each TWC: its connector's limit (and 0 A while it is held: a refused idTag, a remote
  stop) as a per-TWC ceiling, which the device link sends as that TWC's cap;
- the device's stored schedule: the site limit for the next hours, merged with the local
  windows, so that the device keeps to the profiles while the host or the CSMS is away.

Every amp here still goes through the site's max_amps, the device's wiring limits and the
firmware's sharing function: a 1000 A profile is a wish, not an offer. status() and the
composite schedule show what is applied: the profile's limit clamped to the wiring.
Sans-IO: the time comes from the clock given.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from twc.payloads import MAX_WINDOWS
from twcm.service.policy.claims import Claim
from twcm.service.policy.device_schedule import HORIZON_S

from .profiles import Profiles, Tx, format_time

MODES = ("decides", "caps")


class Limits:
    """The OCPP side of one site's current: profiles, connectors, transactions, holds."""

    def __init__(self, mode: str, profiles: Profiles, clock: Callable[[], float],
                 default_volts: float = 230.0) -> None:
        if mode not in MODES:
            raise ValueError(f"mode: {mode!r} is not one of {MODES}")
        self.mode = mode
        self.profiles = profiles
        self.clock = clock
        self.default_volts = default_volts
        self.connectors: dict[int, str] = {}  # connector -> TWC id, those listed now
        self.volts: dict[int, tuple[int, ...]] = {}  # connector -> its TWC's volts
        self.txs: dict[int, Tx] = {}  # connector -> its running transaction
        self.holds: dict[int, str] = {}  # connector -> why it gets 0 A
        self.site_limit: int | None = None  # the most the site may have (SiteLink.limit)
        self.twc_limit: dict[int, int] = {}  # connector -> the most its TWC may have
        self.session: Callable[[], dict[str, Any]] = dict  # the connection, for status()

    # -- units -------------------------------------------------------------------------

    def _vp(self, connector: int, phases: int | None) -> float:
        """Volts x phases of a connector's TWC (connector 0: the first one's), for W."""
        volts = self.volts.get(connector) or next(iter(self.volts.values()), ())
        used = [v for v in volts if v > 0]
        if used:
            return float(sum(used))
        return self.default_volts * (phases or 1)

    def to_amps(self, connector: int, limit: float, unit: str, phases: int | None) -> float:
        return limit if unit == "A" else limit / self._vp(connector, phases)

    def to_unit(self, connector: int, amps: float, unit: str) -> float:
        return amps if unit == "A" else amps * self._vp(connector, None)

    # -- limits at a moment --------------------------------------------------------------

    def connector_amps(self, connector: int, t: float) -> int | None:
        """Whole amps the connector may have at t as the profiles and holds say; None:
        nothing limits it."""
        if connector in self.holds:
            return 0
        x = self.profiles.connector_limit(connector, t, self.txs.get(connector),
                                          self.to_amps)
        return None if x is None else max(0, math.floor(x))

    def site_amps(self, t: float) -> int | None:
        """Whole amps for the whole site at t; None: the profiles set no limit."""
        cp = self.profiles.site_max(t, self.to_amps)
        each = [self.connector_amps(c, t) for c in self.connectors]
        total = math.inf if not each or None in each else float(sum(
            x for x in each if x is not None))
        amps = min(math.inf if cp is None else cp, total)
        return None if math.isinf(amps) else max(0, math.floor(amps))

    # -- what the site loop asks (policy/outside.py) ---------------------------------------

    def claims(self) -> list[Claim]:
        amps = self.site_amps(self.clock())
        if amps is None:
            return []
        if self.mode == "decides":
            return [Claim("ocpp", amps, f"OCPP: the CSMS's charging profile {amps} A")]
        return [Claim("safety", amps, f"the CSMS's charging profile (OCPP) {amps} A")]

    def twc_caps(self) -> dict[str, int]:
        t = self.clock()
        out = {}
        for c, twc in self.connectors.items():
            amps = self.connector_amps(c, t)
            if amps is not None:
                out[twc] = amps
        return out

    def windows(self, local: list[dict[str, int]], fallback: int | None) -> list[dict[str, int]]:
        """The device's schedule for the next hours: the local windows (device_schedule's)
        with the site limit of the profiles put in. Mode "decides": the profiles' limit
        where they set one, else the local window; mode "caps": the local window (or,
        where none, the device's fallback) lowered to the profiles' limit."""
        now = self.clock()
        end = now + HORIZON_S
        cuts = {now, end}
        cuts.update(t for t in self.profiles.changes(dict(self.txs), now, end))
        for w in local:
            cuts.update(x for x in (w["start"], w["end"]) if now < x < end)
        times = sorted(int(t) for t in cuts)
        out: list[dict[str, int]] = []
        for a, b in zip(times, times[1:]):
            if b <= a:
                continue
            mine = [w["amps"] for w in local if w["start"] <= a < w["end"]]
            here = mine[0] if mine else None
            ocpp = self.site_amps(a)
            if ocpp is None:
                amps = here
            elif self.mode == "decides":
                amps = ocpp
            else:
                base = here if here is not None else fallback
                amps = None if base is None else min(base, ocpp)
            if amps is None:
                continue
            if out and out[-1]["end"] == a and out[-1]["amps"] == amps:
                out[-1]["end"] = b
            else:
                out.append({"start": a, "end": b, "amps": amps})
        return out[:MAX_WINDOWS]

    # -- what the CSMS and the status see ---------------------------------------------------

    def applied(self, connector: int, amps: int | None) -> int | None:
        """A limit as it is applied: clamped to the site's or the TWC's wiring."""
        most = self.site_limit if connector == 0 else self.twc_limit.get(connector)
        if amps is None:
            return most
        return amps if most is None else min(amps, most)

    def composite(self, connector: int, duration_s: int, unit: str
                  ) -> tuple[float, list[dict[str, Any]]]:
        """GetCompositeSchedule: its start and periods (startPeriod, limit) for the next
        duration_s, as applied (clamped to the wiring); a time with no limit of the
        profiles shows the wiring limit."""
        now = self.clock()
        end = now + duration_s
        times = [now] + [t for t in self.profiles.changes(dict(self.txs), now, end)]
        periods: list[dict[str, Any]] = []
        for t in times:
            amps = self.site_amps(t) if connector == 0 else self.connector_amps(connector, t)
            limit = self.applied(connector, amps)
            if limit is None:
                continue
            value = round(self.to_unit(connector, limit, unit), 1)
            if periods and periods[-1]["limit"] == value:
                continue
            periods.append({"start_period": int(t - now), "limit": value})
        return now, periods

    def status(self) -> dict[str, Any]:
        """Per connector: its TWC, transaction, hold, what the profiles ask and what is
        applied (clamped); the site's too."""
        t = self.clock()
        site = self.site_amps(t)
        return {
            "mode": self.mode,
            "site": {"asked_amps": site, "applied_amps": None if site is None
                     else self.applied(0, site)},
            "connectors": {str(c): {
                "twc": twc, "transaction": None if c not in self.txs else self.txs[c].id,
                "held": self.holds.get(c), "asked_amps": self.connector_amps(c, t),
                "applied_amps": None if self.connector_amps(c, t) is None
                else self.applied(c, self.connector_amps(c, t))}
                for c, twc in sorted(self.connectors.items())},
            "profiles": [{"id": p.id, "connector": p.connector, "purpose": p.purpose,
                          "stack_level": p.stack_level, "kind": p.kind}
                         for p in self.profiles.installed],
            "time": format_time(t),
            "session": self.session(),
        }
