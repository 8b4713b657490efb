"""`type = "octopus"`: Octopus Energy's Agile (UK) half-hourly rates.

GET <url>/v1/products/<product>/electricity-tariffs/<tariff>/standard-unit-rates/ lists
{"results": [{"value_inc_vat", "valid_from", "valid_to"}], "next": <url or null>} in pence
per kWh, newest first, a page at a time: twcm follows `next` (at most MAX_PAGES) and
gives the rates in GBP per kWh, VAT included. Public rates need no key. The tariff code
is "E-1R-<product>-<region letter>", e.g. "E-1R-AGILE-24-10-01-C" for London; give
`tariff`, or `region` and twcm writes it.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from twcm.service.sources.http import Http, check_url
from twcm.service.sources.values import dig, number
from twcm.service.tariffs.base import Options, Slot, TariffError, register

URL = "https://api.octopus.energy"
MAX_PAGES = 5
REGIONS = "ABCDEFGHJKLMNP"  # the 14 GSP groups


class OctopusOptions(Options):
    product: str = Field(min_length=3, max_length=40)  # e.g. "AGILE-24-10-01"
    tariff: str | None = None  # e.g. "E-1R-AGILE-24-10-01-C"
    region: str | None = None  # the region letter, A to P, instead of tariff
    export_per_kwh: float = Field(0.0, ge=-1, le=10)  # GBP/kWh your export pays
    url: str = URL
    timeout_s: float = Field(10.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)

    @model_validator(mode="after")
    def _one_code(self) -> OctopusOptions:
        if (self.tariff is None) == (self.region is None):
            raise ValueError('give either tariff (e.g. "E-1R-AGILE-24-10-01-C") or region '
                             '(its letter, e.g. "C"), not both')
        if self.region is not None and (len(self.region) != 1 or self.region not in REGIONS):
            raise ValueError(f"region {self.region!r} is not a region letter: give one of "
                             + ", ".join(REGIONS))
        return self

    def tariff_code(self) -> str:
        return self.tariff or f"E-1R-{self.product}-{self.region}"


def parse(doc: Any) -> tuple[list[Slot], str | None]:
    """The slots of one page, and the next page's URL (None: the last page)."""
    results = dig(doc, "results")
    if not isinstance(results, list):
        raise TariffError("Octopus's answer has no list of results")
    out = []
    for r in results:
        value = number(r.get("value_inc_vat"), "results.value_inc_vat")
        if value is None or not r.get("valid_from") or not r.get("valid_to"):
            continue  # an open-ended rate (valid_to null) is no half-hour slot
        out.append(Slot(datetime.fromisoformat(r["valid_from"]).timestamp(),
                        datetime.fromisoformat(r["valid_to"]).timestamp(),
                        round(value / 100, 6), 0.0, "GBP"))
    return out, doc.get("next")


class Octopus:
    def __init__(self, o: OctopusOptions) -> None:
        self.o = o
        self.http = Http(o.url, o.timeout_s)
        self.path = (f"/v1/products/{o.product}/electricity-tariffs/{o.tariff_code()}"
                     "/standard-unit-rates/")

    async def prices(self, now: datetime) -> list[Slot]:
        since = (now.astimezone(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")
        doc = await self.http.get_json(self.path, params={"period_from": since})
        slots, more = parse(doc)
        for _ in range(MAX_PAGES - 1):
            if not more:
                break
            u = urlsplit(more)
            doc = await self.http.get_json(u.path + (f"?{u.query}" if u.query else ""))
            page, more = parse(doc)
            slots += page
        if not slots:
            raise TariffError(f"Octopus has no rates for {self.o.tariff_code()} from now on "
                              "(check product and tariff; new rates come out around 16:00)")
        return [Slot(s.start, s.end, s.import_price, self.o.export_per_kwh, s.currency)
                for s in sorted(slots, key=lambda s: s.start)]

    async def close(self) -> None:
        await self.http.close()


register("octopus", OctopusOptions, Octopus, interval_s=1800.0, min_interval_s=300.0)
