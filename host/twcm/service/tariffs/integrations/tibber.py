"""`type = "tibber"`: a Tibber home's prices, over Tibber's GraphQL API.

POST https://api.tibber.com/v1-beta/gql with the personal token as a Bearer token asks
for priceInfo (today and tomorrow, quarter-hourly or hourly); `total` is the price per
kWh with tax, in the currency it names. Tomorrow's list is empty until the prices come
out in the afternoon. A slot ends where the next begins (the last one after its
resolution). The token: `token_env` names the environment variable that holds it
(better), or `token` gives it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from twcm.service.sources.http import Http, check_url
from twcm.service.sources.secrets import EnvName, Secret, SecretOptions
from twcm.service.sources.values import dig, number
from twcm.service.tariffs.base import Slot, TariffError, register

URL = "https://api.tibber.com"
PATH = "/v1-beta/gql"
STEP_S = {"QUARTER_HOURLY": 900, "HOURLY": 3600}
QUERY = """{ viewer { %s { currentSubscription { priceInfo(resolution: %s) {
  today { total startsAt currency } tomorrow { total startsAt currency } } } } } }"""


class TibberOptions(SecretOptions):
    secrets: ClassVar = (Secret("token", "your Tibber personal access token"),)
    token: str | None = None
    token_env: EnvName = None
    home_id: str | None = None  # which home, if the account has several; default: the first
    resolution: Literal["QUARTER_HOURLY", "HOURLY"] = "QUARTER_HOURLY"
    export_per_kwh: float = Field(0.0, ge=-1, le=10)
    url: str = URL
    timeout_s: float = Field(10.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)


def parse(doc: Any, o: TibberOptions) -> list[Slot]:
    """The slots of a priceInfo answer; TariffError for GraphQL errors or no prices."""
    if doc.get("errors"):
        first = doc["errors"][0]
        text = first.get("message") if isinstance(first, dict) else first
        raise TariffError(f"Tibber refuses the query: {text}")
    viewer = dig(doc, "data.viewer")
    home = viewer.get("home") or (viewer.get("homes") or [None])[0]
    if not home:
        raise TariffError("Tibber lists no home for this token (fix: check home_id)")
    info = dig(home, "currentSubscription.priceInfo")
    rows = [r for part in ("today", "tomorrow") for r in info.get(part) or []]
    if not rows:
        raise TariffError("Tibber has no prices for this home (no current subscription?)")
    starts = [datetime.fromisoformat(r["startsAt"]).timestamp() for r in rows]
    step = STEP_S[o.resolution]
    out = []
    for i, r in enumerate(rows):
        end = starts[i + 1] if i + 1 < len(rows) else starts[i] + step
        total = number(r.get("total"), "priceInfo.total")
        if total is None:
            raise TariffError("Tibber's answer has a slot without its price")
        out.append(Slot(starts[i], end, total, o.export_per_kwh, r.get("currency") or "EUR"))
    return out


class Tibber:
    def __init__(self, o: TibberOptions) -> None:
        self.o = o
        self.http = Http(o.url, o.timeout_s, headers={
            "Authorization": f"Bearer {o.secret('token')}"})

    async def prices(self, now: datetime) -> list[Slot]:
        home = f'home(id: "{self.o.home_id}")' if self.o.home_id else "homes"
        r = await self.http.request("POST", PATH, json={
            "query": QUERY % (home, self.o.resolution)})
        try:
            doc = r.json()
        except ValueError:
            raise TariffError(f"{self.o.url}{PATH}: the answer is not JSON") from None
        return parse(doc, self.o)

    async def close(self) -> None:
        await self.http.close()


register("tibber", TibberOptions, Tibber, interval_s=900.0, min_interval_s=300.0)
