"""`type = "awattar"`: the aWATTar day-ahead spot prices of Austria or Germany.

GET <url>/v1/marketdata?start=<ms>&end=<ms> answers {"data": [{"start_timestamp",
"end_timestamp", "marketprice", "unit": "Eur/MWh"}]}: raw EPEX spot prices (they can be
negative), without VAT, grid fees or the supplier's markup. twcm turns them into EUR/kWh
and adds what the config gives: (market + fees_per_kwh) * (1 + vat_percent / 100). Each
slot's own start and end are used, so 15-minute slots work as hourly ones do. aWATTar
asks for at most 100 requests a day: twcm asks every 15 minutes (96).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from twcm.service.sources.http import Http, check_url
from twcm.service.sources.values import dig, number
from twcm.service.tariffs.base import Options, Slot, TariffError, register

URLS = {"AT": "https://api.awattar.at", "DE": "https://api.awattar.de"}
PATH = "/v1/marketdata"
BEFORE_S = 3600  # ask from an hour back, so the slot in force is in the answer
AHEAD_S = 48 * 3600  # aWATTar does not mind being asked for more than it has


class AwattarOptions(Options):
    country: Literal["AT", "DE"] = "AT"
    url: str | None = None  # instead of the country's API (a proxy, a test server)
    fees_per_kwh: float = Field(0.0, ge=-1, le=10)  # grid fees and markup, EUR/kWh
    vat_percent: float = Field(0.0, ge=0, le=50)
    export_per_kwh: float = Field(0.0, ge=-1, le=10)  # what your feed-in pays, EUR/kWh
    timeout_s: float = Field(10.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else check_url(v)


def parse(doc: Any, o: AwattarOptions) -> list[Slot]:
    """The slots of a marketdata answer; TariffError if it holds none or odd units."""
    data = dig(doc, "data")
    if not isinstance(data, list) or not data:
        raise TariffError("aWATTar has no prices for now and later (its answer's data is "
                          "empty; the next day's prices come out around 14:00)")
    slots = []
    for row in data:
        unit = row.get("unit") if isinstance(row, dict) else None
        if unit != "Eur/MWh":
            raise TariffError(f"aWATTar gives prices in {unit!r}, not Eur/MWh: twcm cannot "
                              "read them")
        market = number(row.get("marketprice"), "data.marketprice")
        start = number(row.get("start_timestamp"), "data.start_timestamp")
        end = number(row.get("end_timestamp"), "data.end_timestamp")
        if market is None or start is None or end is None:
            raise TariffError("aWATTar's answer has a slot without its price or times")
        price = (market / 1000 + o.fees_per_kwh) * (1 + o.vat_percent / 100)
        slots.append(Slot(start / 1000, end / 1000, round(price, 6), o.export_per_kwh, "EUR"))
    return slots


class Awattar:
    def __init__(self, o: AwattarOptions) -> None:
        self.o = o
        self.http = Http(o.url or URLS[o.country], o.timeout_s)

    async def prices(self, now: datetime) -> list[Slot]:
        t = int(now.timestamp())
        doc = await self.http.get_json(PATH, params={"start": (t - BEFORE_S) * 1000,
                                                     "end": (t + AHEAD_S) * 1000})
        return parse(doc, self.o)

    async def close(self) -> None:
        await self.http.close()


register("awattar", AwattarOptions, Awattar, interval_s=900.0, min_interval_s=900.0)
