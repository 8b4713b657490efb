"""`type = "forecast_solar"`: Forecast.Solar's estimate for one plane of panels.

GET https://api.forecast.solar/estimate/<lat>/<lon>/<dec>/<az>/<kwp> (declination 0-90°,
azimuth -180..180 with 0 = south, -90 = east; kWp) answers {"result": {"watt_hours_period":
{"YYYY-MM-DD HH:MM:SS": Wh, ...}, ...}, "message": {"info": {"timezone": ...}}}: the energy
of the period that ends at each time, local to the panels' zone. The free service allows
12 calls an hour: twcm asks once an hour.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from twcm.service.forecast.base import ForecastError, PlantOptions, register
from twcm.service.policy.planner import SolarSlot
from twcm.service.sources.http import Http
from twcm.service.sources.values import dig, number

URL = "https://api.forecast.solar"


class ForecastSolarOptions(PlantOptions):
    declination: float = Field(30.0, ge=0, le=90)
    azimuth: float = Field(0.0, ge=-180, le=180)
    url: str = URL


def parse(doc: Any) -> list[SolarSlot]:
    message = doc.get("message") if isinstance(doc, dict) else None
    if isinstance(message, dict) and message.get("type") == "error":
        raise ForecastError(f"Forecast.Solar refuses: {message.get('text') or 'no reason'}")
    periods = dig(doc, "result.watt_hours_period")
    zone = ZoneInfo(dig(doc, "message.info.timezone"))
    points = sorted((datetime.fromisoformat(k).replace(tzinfo=zone).timestamp(),
                     number(v, "watt_hours_period")) for k, v in periods.items())
    if len(points) < 2:
        raise ForecastError("Forecast.Solar's answer has no periods")
    out = []
    for (a, _), (b, wh) in zip(points, points[1:]):
        if b > a and wh is not None:
            out.append(SolarSlot(a, b, wh * 3600 / (b - a)))
    return out


class ForecastSolar:
    def __init__(self, o: ForecastSolarOptions) -> None:
        self.http = Http(o.url, o.timeout_s)
        self.path = (f"/estimate/{o.latitude:g}/{o.longitude:g}/{o.declination:g}/"
                     f"{o.azimuth:g}/{o.kwp:g}")

    async def solar(self, now: datetime) -> list[SolarSlot]:
        return parse(await self.http.get_json(self.path))

    async def close(self) -> None:
        await self.http.close()


register("forecast_solar", ForecastSolarOptions, ForecastSolar, interval_s=3600.0)
