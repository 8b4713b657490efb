"""What a user may see and change while `twcm run` runs, whichever way they ask (the REST
API in rest_api.py, MQTT in mqtt_control.py): each site's status, and Charge Now.

Requests are checked here once: a request that is not allowed raises Rejected with a
reason a user can act on, and changes nothing.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from twcm.service.site import SiteLoop

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
    """The running sites, by name; only their public methods are called."""

    def __init__(self, sites: list[SiteLoop]) -> None:
        self.sites = {s.config.name: s for s in sites}

    def site(self, name: str) -> SiteLoop:
        try:
            return self.sites[name]
        except KeyError:
            raise UnknownSite(f"no site {name!r}: the sites are "
                              f"{', '.join(self.sites)}") from None

    def charge_now(self, name: str, body: Any) -> dict[str, Any]:
        """Start (or replace) Charge Now: {"amps": 0..max_amps, "minutes": 1..1440}; the
        status with the decision taken with it."""
        site = self.site(name)
        if not isinstance(body, dict):
            raise Rejected('give a JSON object such as {"amps": 16, "minutes": 60}')
        unknown = set(body) - {"amps", "minutes"}
        if unknown:
            raise Rejected(f"unknown keys {', '.join(sorted(unknown))}: give amps and minutes")
        amps = _whole(body, "amps", 0, site.config.max_amps)
        minutes = _whole(body, "minutes", 1, MAX_MINUTES)
        site.charge_now(amps, timedelta(minutes=minutes))
        return site.status()

    def cancel_charge_now(self, name: str) -> dict[str, Any]:
        site = self.site(name)
        site.cancel_charge_now()
        return site.status()

    def status(self, name: str) -> dict[str, Any]:
        """What the site does and why, its meters and its device, as JSON-ready data."""
        return self.site(name).status()

    def all_status(self) -> list[dict[str, Any]]:
        return [self.status(n) for n in self.sites]
