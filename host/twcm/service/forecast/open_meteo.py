"""`type = "open_meteo"`: Open-Meteo's irradiance on the panels' plane, as watts.

GET https://api.open-meteo.com/v1/forecast?latitude=..&longitude=..&hourly=
global_tilted_irradiance&tilt=..&azimuth=..&forecast_days=2&timezone=UTC answers
{"hourly": {"time": ["YYYY-MM-DDTHH:MM", ...], "global_tilted_irradiance": [W/m², ...]}};
each value is the mean of the hour before its time. The panels give about
kwp × irradiance / 1000 W × performance (losses of the inverter, heat, wiring: 0.85 by
default). Azimuth: 0 = south, -90 = east, 90 = west.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import Field

from twcm.service.forecast.base import ForecastError, PlantOptions, register
from twcm.service.policy.planner import SolarSlot
from twcm.service.sources.http import Http
from twcm.service.sources.values import dig, number

URL = "https://api.open-meteo.com"
VARIABLE = "global_tilted_irradiance"


class OpenMeteoOptions(PlantOptions):
    tilt: float = Field(30.0, ge=0, le=90)
    azimuth: float = Field(0.0, ge=-180, le=180)
    performance: float = Field(0.85, gt=0, le=1)
    url: str = URL


def parse(doc: Any, o: OpenMeteoOptions) -> list[SolarSlot]:
    if isinstance(doc, dict) and doc.get("error"):
        raise ForecastError(f"Open-Meteo refuses: {doc.get('reason') or 'no reason'}")
    times, values = dig(doc, "hourly.time"), dig(doc, f"hourly.{VARIABLE}")
    if not times or len(times) != len(values):
        raise ForecastError("Open-Meteo's answer has no hourly irradiance")
    offset = number(doc.get("utc_offset_seconds", 0), "utc_offset_seconds") or 0.0
    out = []
    for t, v in zip(times, values):
        end = datetime.fromisoformat(t).replace(tzinfo=timezone.utc).timestamp() - offset
        w = number(v, VARIABLE)
        if w is not None:
            out.append(SolarSlot(end - 3600, end, max(0.0, w) * o.kwp * o.performance))
    return out


class OpenMeteo:
    def __init__(self, o: OpenMeteoOptions) -> None:
        self.o = o
        self.http = Http(o.url, o.timeout_s)

    async def solar(self, now: datetime) -> list[SolarSlot]:
        o = self.o
        doc = await self.http.get_json("/v1/forecast", params={
            "latitude": o.latitude, "longitude": o.longitude, "hourly": VARIABLE,
            "tilt": o.tilt, "azimuth": o.azimuth, "forecast_days": 2, "timezone": "UTC"})
        return parse(doc, o)

    async def close(self) -> None:
        await self.http.close()


register("open_meteo", OpenMeteoOptions, OpenMeteo, interval_s=3600.0)
