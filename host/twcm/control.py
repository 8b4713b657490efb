"""What a user may see and change while `twcm run` runs, whichever way they ask (the REST
API in api.py, MQTT in mqtt_control.py): each site's status, and Charge Now.

Requests are checked here once: a request that is not allowed raises Rejected with a
reason a user can act on, and changes nothing.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twcm.service import SiteLoop

MAX_MINUTES = 24 * 60


class Rejected(ValueError):
    """A request that is not allowed; str() is the reason."""


class UnknownSite(Rejected):
    pass


def _whole(body: dict[str, Any], key: str, low: int, high: int) -> int:
    v = body.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise Rejected(f"{key} must be a whole number, not {v!r}")
    if not low <= v <= high:
        raise Rejected(f"{key} must be {low}-{high}, not {v}")
    return v


class Control:
    """The running sites, by name."""

    def __init__(self, sites: list[SiteLoop]) -> None:
        self.sites = {s.config.name: s for s in sites}

    def site(self, name: str) -> SiteLoop:
        try:
            return self.sites[name]
        except KeyError:
            raise UnknownSite(f"no site {name!r}: the sites are "
                              f"{', '.join(self.sites)}") from None

    def charge_now(self, name: str, body: Any) -> dict[str, Any]:
        """Start (or replace) Charge Now: {"amps": 0..max_amps, "minutes": 1..1440}."""
        site = self.site(name)
        if not isinstance(body, dict):
            raise Rejected('give a JSON object such as {"amps": 16, "minutes": 60}')
        unknown = set(body) - {"amps", "minutes"}
        if unknown:
            raise Rejected(f"unknown keys {', '.join(sorted(unknown))}: give amps and minutes")
        amps = _whole(body, "amps", 0, site.config.max_amps)
        minutes = _whole(body, "minutes", 1, MAX_MINUTES)
        site.policy.charge_now(amps, timedelta(minutes=minutes), site.now())
        site.remember_charge_now()
        site.wake()
        return self.status(name)

    def cancel_charge_now(self, name: str) -> dict[str, Any]:
        site = self.site(name)
        site.policy.cancel_charge_now()
        site.remember_charge_now()
        site.wake()
        return self.status(name)

    def status(self, name: str) -> dict[str, Any]:
        """What the site does and why, its meters and its device, as JSON-ready data."""
        site = self.site(name)
        d, r, c = site.decision, site.reading, site.combined
        request = site.policy.charge_now_request
        if request is not None and request.until <= site.now():
            request = None
        state = site.link.state
        return {
            "site": name,
            "time": round(time.time(), 1),
            "lease_amps": site.sent,
            "decision": None if d is None else {
                "amps": d.amps, "reason": d.reason,
                "set_by": d.set_by and d.set_by.source,
                "capped_by": d.capped_by and d.capped_by.source,
                "claims": [{"source": x.source, "amps": x.amps, "reason": x.reason}
                           for x in d.claims]},
            "charge_now": None if request is None else {
                "amps": request.amps, "until": request.until.isoformat(timespec="seconds")},
            "readings": None if r is None else {k: v for k, v in asdict(r).items()
                                                if v is not None},
            "sources": [] if c is None else [
                {k: (round(v, 1) if isinstance(v, float) else v)
                 for k, v in asdict(f).items()} for f in c.feeds],
            "device": {"health": site.link.health(time.monotonic()),
                       "state": None if state is None else asdict(state)},
        }

    def all_status(self) -> list[dict[str, Any]]:
        return [self.status(n) for n in self.sites]
