"""States pushed to Home Assistant over its REST API (as TWCManager's HASSStatus did):
each sensor is POSTed to `<url>/api/states/sensor.twcm_<site>_<key>` (a TWC's:
`sensor.twcm_<site>_<twcid>_<key>`) with `Authorization: Bearer <long-lived token>`, a
body {"state": ..., "attributes": {"unit_of_measurement", "friendly_name", ...}}.

Every every_s the states are compared with what HA has: a changed one is sent, and each
one at least every RESEND_S (HA forgets states set this way when it restarts). A failed
POST is logged (once per failing streak) and tried again at the next round; the requests
run in their own task with a timeout, so a slow HA never holds up the site loop. MQTT
discovery (ha_discovery.py) is the better way; this is for an HA without MQTT.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

from twcm.service.site import SiteLoop
from twcm.service.status.ha_state import site_state, twc_state
from twcm.service.status.options import HomeAssistantRestConfig

log = logging.getLogger("twcm.ha_rest")

RESEND_S = 600.0
# key in the state JSON -> (entity key, friendly name, unit, device_class, state_class)
SITE_SENSORS = (
    ("power_w", "charging_power", "Charging power", "W", "power", "measurement"),
    ("amps", "charging_current", "Charging current", "A", "current", "measurement"),
    ("lease_amps", "lease", "Lease", "A", "current", "measurement"),
    ("limit_amps", "limit", "Limit in force", "A", "current", "measurement"),
    ("claim", "claim", "Claim", None, None, None),
    ("device_health", "device_health", "Device health", None, None, None),
    ("generation_w", "solar_power", "Solar power", "W", "power", "measurement"),
    ("consumption_w", "house_consumption", "House consumption", "W", "power", "measurement"),
    ("grid_import_w", "grid_import", "Grid import", "W", "power", "measurement"),
)
TWC_SENSORS = (
    ("power_w", "power", "power", "W", "power", "measurement"),
    ("amps", "current", "current", "A", "current", "measurement"),
    ("offered_amps", "offered", "offered", "A", "current", "measurement"),
    ("lifetime_kwh", "lifetime_energy", "lifetime energy", "kWh", "energy",
     "total_increasing"),
    ("state", "state", "state", None, None, None),
    ("vin", "vin", "VIN", None, None, None),
    ("voltage_l1", "voltage_l1", "voltage L1", "V", "voltage", "measurement"),
    ("voltage_l2", "voltage_l2", "voltage L2", "V", "voltage", "measurement"),
    ("voltage_l3", "voltage_l3", "voltage L3", "V", "voltage", "measurement"),
)


def slug(text: str) -> str:
    """A name as part of an entity id: "Home-2" -> "home_2"."""
    return "".join(c if c.isalnum() else "_" for c in text.lower())


def _body(value: Any, name: str, unit: str | None, device_class: str | None,
          state_class: str | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    attributes: dict[str, Any] = {"friendly_name": name}
    attributes |= {k: v for k, v in (("unit_of_measurement", unit),
                                     ("device_class", device_class),
                                     ("state_class", state_class)) if v is not None}
    return {"state": "unknown" if value is None else str(value),
            "attributes": attributes | (extra or {})}


def states(loop: SiteLoop) -> dict[str, dict[str, Any]]:
    """Each entity id with the body to POST, from the site's status now."""
    status = loop.status()
    site = loop.config.name
    s = site_state(loop, status)
    base = f"sensor.twcm_{slug(site)}"
    out = {}
    for key, entity, name, *kinds in SITE_SENSORS:
        extra = {"reason": s["reason"]} if key == "claim" else None
        out[f"{base}_{entity}"] = _body(s[key], f"twcm {site} {name}", *kinds, extra)
    device = status["device"]["state"]
    for slave in device["slaves"] if device else []:
        t = twc_state(slave)
        for key, entity, name, *kinds in TWC_SENSORS:
            out[f"{base}_{slave['id'].lower()}_{entity}"] = _body(
                t[key], f"TWC {slave['id']} {name}", *kinds)
    return out


class HaRest:
    """Push the states of `sites` to one Home Assistant."""

    def __init__(self, sites: list[SiteLoop], options: HomeAssistantRestConfig) -> None:
        assert options.url is not None
        self.sites = sites
        self.options = options
        self.url = options.url
        self._sent: dict[str, tuple[float, dict[str, Any]]] = {}  # entity -> (when, body)
        self._failing = False

    async def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.options.secret()}"}
        async with httpx.AsyncClient(headers=headers, timeout=self.options.timeout_s) as http:
            while True:
                await self.push(http)
                await asyncio.sleep(self.options.every_s)

    async def push(self, http: httpx.AsyncClient) -> int:
        """One round: POST what changed or is due; the number of failed POSTs."""
        now = time.monotonic()
        failed = 0
        for loop in self.sites:
            for entity, body in states(loop).items():
                last = self._sent.get(entity)
                if last is not None and last[1] == body and now - last[0] < RESEND_S:
                    continue
                problem = await self._post(http, entity, body)
                if problem is None:
                    self._sent[entity] = (now, body)
                else:
                    failed += 1
                    if not self._failing:
                        log.warning("Home Assistant at %s: cannot set %s: %s; trying again "
                                    "every %.0f s", self.url, entity, problem,
                                    self.options.every_s)
                    self._failing = True
        if not failed and self._failing:
            log.info("Home Assistant at %s takes the states again", self.url)
            self._failing = False
        return failed

    async def _post(self, http: httpx.AsyncClient, entity: str,
                    body: dict[str, Any]) -> str | None:
        """None if HA took it, else why not."""
        try:
            r = await http.post(f"{self.url}/api/states/{entity}", json=body)
        except httpx.HTTPError as e:
            return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        if r.status_code in (200, 201):
            return None
        hint = " (the token is refused: make a new long-lived one)" if r.status_code == 401 else ""
        return f"HTTP {r.status_code}{hint}"
