"""`type = "fronius"`: a Fronius inverter's Solar API v1 power flow (GetPowerFlowRealtimeData).

Site.P_PV is the solar output (null while the inverter sleeps at night: 0 W then),
P_Load the house load (negative), P_Grid the grid (positive importing), P_Akku the
battery (positive discharging); the state of charge is under Inverters.<n>.SOC. Without
a Fronius Smart Meter, P_Load and P_Grid are null: consumption and grid stay unknown.
A Head.Status.Code other than 0 (e.g. 12, device not available) is an error.
"""
from __future__ import annotations

from typing import Any

from twcm.service.sources import Reading, SourceError, register
from twcm.service.sources.http import Http, HttpOptions
from twcm.service.sources.values import dig, number

PATH = "/solar_api/v1/GetPowerFlowRealtimeData.fcgi"


class FroniusOptions(HttpOptions):
    """url: the inverter (or its Datamanager), e.g. "http://192.168.1.20"."""


def parse(doc: Any) -> Reading:
    """The readings in a power-flow answer; SourceError if it reports a failure."""
    status = dig(doc, "Head.Status")
    code = number(status.get("Code"), "Head.Status.Code")
    if code != 0:
        reason = status.get("Reason") or status.get("UserMessage") or "no reason given"
        raise SourceError(f"the inverter reports error {code:g}: {reason}")
    site = dig(doc, "Body.Data.Site")
    pv = number(site.get("P_PV"), "Site.P_PV")
    load = number(site.get("P_Load"), "Site.P_Load")
    grid = number(site.get("P_Grid"), "Site.P_Grid")
    battery = number(site.get("P_Akku"), "Site.P_Akku")
    soc = None
    for inverter in (dig(doc, "Body.Data").get("Inverters") or {}).values():
        if isinstance(inverter, dict) and inverter.get("SOC") is not None:
            soc = number(inverter["SOC"], "Inverters.SOC")
            break
    return Reading(generation_w=0.0 if pv is None else pv,
                   consumption_w=None if load is None else abs(load),
                   grid_import_w=grid, battery_w=battery, battery_soc=soc)


class Fronius:
    def __init__(self, o: FroniusOptions) -> None:
        self.http = Http(o.url, o.timeout_s, o.verify_tls)

    async def read(self) -> Reading:
        return parse(await self.http.get_json(PATH))

    async def close(self) -> None:
        await self.http.close()


register("fronius", FroniusOptions, Fronius, interval_s=2.0, min_interval_s=1.0)
