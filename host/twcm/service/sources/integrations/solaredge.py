"""`type = "solaredge"`: a SolarEdge site through the monitoring API (cloud).

`/site/<id>/currentPowerFlow` gives every node's power as a magnitude, in W or kW; only
`connections` tell the direction: a connection into GRID is export, into STORAGE is
charging (node names come in any case). A site without a meter the API can see answers
without PV, LOAD and GRID: that is an error, and `endpoint = "overview"` reads the
solar output alone from `/site/<id>/overview` (currentPower.power, W).

The API allows 300 requests a day per site and key, hence the long interval.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from twcm.service.sources import ROLES, Reading, SourceError, register
from twcm.service.sources.http import Http, HttpOptions, HttpStatusError
from twcm.service.sources.secrets import EnvName, Secret, SecretOptions
from twcm.service.sources.values import dig, number, unit_factor

API = "https://monitoringapi.solaredge.com"
MIN_INTERVAL_S = 360.0  # 240 requests a day: 60 to spare of the 300 for restarts and retries


class SolarEdgeOptions(HttpOptions, SecretOptions):
    """url: the API (changed only for tests)."""

    secrets = (Secret("api_key", "the site's API key, from the monitoring portal's "
                      "site admin"),)
    url: str = API
    timeout_s: float = Field(15.0, gt=0, le=60)
    site_id: int = Field(gt=0)
    api_key: str | None = Field(None, min_length=1)
    api_key_env: EnvName = None
    endpoint: Literal["powerflow", "overview"] = "powerflow"


def parse_power_flow(doc: Any) -> Reading:
    """The readings in a currentPowerFlow answer; SourceError for a site without meter."""
    flow = dig(doc, "siteCurrentPowerFlow")
    if not isinstance(flow, dict):
        raise SourceError(f"siteCurrentPowerFlow is {flow!r}, not an object")
    nodes = {k.upper(): v for k, v in flow.items() if isinstance(v, dict)}
    if not nodes.keys() & {"PV", "LOAD", "GRID"}:
        raise SourceError('the site\'s power flow has no PV, load or grid: SolarEdge sees '
                          'no meter there; set endpoint = "overview" to read the solar '
                          'output alone')
    factor = unit_factor(str(flow.get("unit", "W")), "siteCurrentPowerFlow.unit")
    links = [(str(c.get("from", "")).upper(), str(c.get("to", "")).upper())
             for c in flow.get("connections") or [] if isinstance(c, dict)]

    def power(name: str) -> float | None:
        node = nodes.get(name)
        if node is None:
            return None
        value = number(node.get("currentPower"), f"{name}.currentPower")
        return None if value is None else abs(value) * factor

    def signed(name: str, status: str = "") -> float | None:
        """Positive flowing out of `name` (import, discharge), negative into it; None
        when it carries power but neither the connections nor its status say which way."""
        p = power(name)
        if not p:
            return p
        into = any(to == name for _, to in links)
        out = any(frm == name for frm, _ in links)
        if into != out:
            return -p if into else p
        return {"CHARGING": -p, "DISCHARGING": p}.get(status.upper())

    storage = nodes.get("STORAGE", {})
    soc = number(storage.get("chargeLevel"), "STORAGE.chargeLevel")
    return Reading(generation_w=power("PV"), consumption_w=power("LOAD"),
                   grid_import_w=signed("GRID"),
                   battery_w=signed("STORAGE", str(storage.get("status", ""))),
                   battery_soc=soc)


def parse_overview(doc: Any) -> Reading:
    """The solar output in an overview answer."""
    power = number(dig(doc, "overview.currentPower.power"), "overview.currentPower.power")
    if power is None:
        raise SourceError("the overview gives no current power")
    return Reading(generation_w=power)


class SolarEdge:
    def __init__(self, o: SolarEdgeOptions) -> None:
        self.http = Http(o.url, o.timeout_s, o.verify_tls)
        self.site_id = o.site_id
        self.key = str(o.secret("api_key"))
        self.endpoint = o.endpoint

    async def read(self) -> Reading:
        name = "currentPowerFlow" if self.endpoint == "powerflow" else "overview"
        # The key goes in the query (never in the path), so error messages do not show it.
        try:
            doc = await self.http.get_json(f"/site/{self.site_id}/{name}",
                                           params={"api_key": self.key})
        except HttpStatusError as e:
            if e.status in (401, 403):
                raise SourceError(f"SolarEdge refuses the API key for site {self.site_id} "
                                  f"(HTTP {e.status}): check api_key and site_id") from None
            if e.status == 429:
                raise SourceError("SolarEdge refuses more requests today (HTTP 429): the "
                                  "300 a day are used up; is another program using this "
                                  "key? Give interval_s a larger value") from None
            raise
        return parse_power_flow(doc) if self.endpoint == "powerflow" else parse_overview(doc)

    async def close(self) -> None:
        await self.http.close()


register("solaredge", SolarEdgeOptions, SolarEdge, interval_s=MIN_INTERVAL_S,
         min_interval_s=MIN_INTERVAL_S,
         roles=lambda o: ROLES if o.endpoint == "powerflow" else ("generation",))
