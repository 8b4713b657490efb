"""`type = "powerwall"`: a Tesla Powerwall 2 Backup Gateway's local API.

Since gateway firmware 20.49 every request needs a login: POST /api/login/Basic as the
"customer" user sets the AuthCookie cookie, which the client sends back from then on.
The gateway forgets logins (restarts, updates, after a while) and then answers 401 or
403 "User does not have adequate access rights": that is met with one new login and one
retry, no more per read, as failed logins lock the account out for a while.

/api/meters/aggregates has the site (grid, positive importing), solar, load and battery
(positive discharging) meters; /api/system_status/soe the battery's raw charge, which
the Tesla app shows rescaled, as the lowest 5 % are kept in reserve: app = (raw - 5) /
0.95; /api/system_status/grid_status whether the house is on the grid or islanded.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from twcm.service.sources import Reading, SourceError, register
from twcm.service.sources.http import Http, HttpOptions, HttpStatusError, parse_json
from twcm.service.sources.secrets import EnvName, Secret, SecretOptions
from twcm.service.sources.values import dig, number

LOGIN = "/api/login/Basic"
AGGREGATES = "/api/meters/aggregates"
SOE = "/api/system_status/soe"
GRID_STATUS = "/api/system_status/grid_status"

ON_GRID = {"SystemGridConnected"}
OFF_GRID = {"SystemIslandedActive", "SystemIslandedReady", "SystemTransitionToGrid",
            "SystemTransitionToIsland", "SystemMicroGridFaulted", "SystemWaitForUser"}


class PowerwallOptions(HttpOptions, SecretOptions):
    """url: the gateway, e.g. "https://192.168.1.40"; password: the customer password (by
    default the last 5 characters of the one on the gateway's label); email: any, the
    gateway does not check it."""

    secrets = (Secret("password", "the gateway's customer password"),)
    verify_tls: bool = False  # the gateway's certificate is self-signed
    password: str | None = Field(None, min_length=1)
    password_env: EnvName = None
    email: str = ""


def parse_aggregates(doc: Any) -> Reading:
    """The power readings in a /api/meters/aggregates answer; a meter it lacks (no solar
    connected, say) stays unknown."""
    if not isinstance(doc, dict):
        raise SourceError("the meters answer is not an object")

    def watts(meter: str) -> float | None:
        if meter not in doc:
            return None
        return number(dig(doc, (meter, "instant_power")), f"{meter}.instant_power")

    solar, load = watts("solar"), watts("load")
    site, battery = watts("site"), watts("battery")
    if solar is None and load is None and site is None and battery is None:
        raise SourceError("the meters answer has no site, solar, load or battery meter")
    return Reading(
        # The solar meter reads a few W below 0 at night (the inverter's standby draw).
        generation_w=None if solar is None else max(0.0, solar),
        consumption_w=None if load is None else abs(load),
        grid_import_w=site, battery_w=battery)


def app_soc(doc: Any) -> float | None:
    """The battery charge as the Tesla app shows it, from a soe answer."""
    raw = number(dig(doc, "percentage"), "percentage")
    return None if raw is None else min(100.0, max(0.0, (raw - 5.0) / 0.95))


def grid_connected(doc: Any) -> bool | None:
    """From a grid_status answer: True on the grid, False islanded, None if not known."""
    status = dig(doc, "grid_status")
    return True if status in ON_GRID else False if status in OFF_GRID else None


class Powerwall:
    def __init__(self, o: PowerwallOptions) -> None:
        self.o = o
        self.http = Http(o.url, o.timeout_s, o.verify_tls)
        self.logged_in = False

    async def read(self) -> Reading:
        fresh = False  # logged in during this read: a refusal now is not an old login's
        if not self.logged_in:
            await self._login()
            fresh = True
        answers = []
        for path in (AGGREGATES, SOE, GRID_STATUS):
            try:
                answers.append(await self.http.get_json(path))
            except HttpStatusError as e:
                if e.status not in (401, 403):
                    raise
                self.logged_in = False
                if fresh:
                    raise SourceError(f"the gateway refuses {path} (HTTP {e.status}) right "
                                      "after a login: is the customer login enough on this "
                                      "gateway's firmware?") from None
                await self._login()
                fresh = True
                answers.append(await self.http.get_json(path))
        aggregates, soe, grid = answers
        reading = parse_aggregates(aggregates)
        return Reading(generation_w=reading.generation_w,
                       consumption_w=reading.consumption_w,
                       grid_import_w=reading.grid_import_w, battery_w=reading.battery_w,
                       battery_soc=app_soc(soe), grid_connected=grid_connected(grid))

    async def _login(self) -> None:
        self.http.client.cookies.clear()  # a refused login must not leave the old one
        try:
            r = await self.http.request("POST", LOGIN, json={
                "username": "customer", "email": self.o.email,
                "password": self.o.secret("password"),
                "force_sm_off": False})
        except HttpStatusError as e:
            if e.status == 429:
                raise SourceError("the gateway refuses logins for now (HTTP 429, too many "
                                  "failed attempts): wait, and check `password`") from None
            if e.status in (400, 401, 403):
                raise SourceError(f"the gateway refuses the login (HTTP {e.status}): check "
                                  "`password` (the customer password; by default the last "
                                  "5 characters of the password on the gateway's "
                                  "label)") from None
            raise
        token = dig(parse_json(r.text, f"{self.http.base_url}{LOGIN}"), "token")
        if not isinstance(token, str) or not token:
            raise SourceError("the gateway's login answer has no token")
        if "AuthCookie" not in self.http.client.cookies:
            # The gateway sets the cookie to the token; should an answer not, it is set here.
            self.http.client.cookies.set("AuthCookie", token)
        self.logged_in = True

    async def close(self) -> None:
        await self.http.close()


register("powerwall", PowerwallOptions, Powerwall, interval_s=5.0, min_interval_s=1.0)
