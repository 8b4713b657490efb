"""`type = "static"`: fixed prices, with time-of-use windows (a cheap night, a dear
evening peak, other prices at the weekend) in the home's time zone.

A window names its days (default: every day) and its start and end as "HH:MM"; one that
ends at or before its start runs past midnight and belongs to the day it starts on, as
schedule windows do. Where windows overlap, the one listed first wins; outside every
window the table's own prices hold. The slots cover the next 48 hours, cut where a
window begins or ends (a daylight-saving change moves them as it moves the clocks).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal

from pydantic import Field, field_validator

from twcm.service.tariffs.base import Options, Slot, register

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
AHEAD_S = 48 * 3600
Price = float


class PriceWindow(Options):
    days: list[Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]] = \
        Field(list(DAYS), min_length=1)
    start: str
    end: str
    import_price: Price
    export_price: Price | None = None  # default: the table's export_price

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        try:
            time.fromisoformat(v)
        except ValueError:
            raise ValueError('not a time of day: give "HH:MM", e.g. "22:30"') from None
        return v

    def _times(self) -> tuple[time, time]:
        return time.fromisoformat(self.start), time.fromisoformat(self.end)

    def active(self, local: datetime) -> bool:
        start, end = self._times()
        t, day = local.time().replace(tzinfo=None), DAYS[local.weekday()]
        before = DAYS[(local.weekday() - 1) % 7]
        if start < end:
            return day in self.days and start <= t < end
        return (day in self.days and t >= start) or (before in self.days and t < end)


class StaticOptions(Options):
    currency: str = Field("EUR", min_length=1, max_length=8)
    import_price: Price
    export_price: Price = 0.0
    window: list[PriceWindow] = []

    def prices_at(self, local: datetime) -> tuple[float, float]:
        for w in self.window:
            if w.active(local):
                return w.import_price, (self.export_price if w.export_price is None
                                        else w.export_price)
        return self.import_price, self.export_price


def _cuts(o: StaticOptions, now: datetime) -> list[float]:
    """Every instant where a price may change around [now, now + 48 h], in Unix seconds."""
    zone = now.tzinfo
    cuts = set()
    for back in range(-1, 4):
        day = (now + timedelta(days=back)).date()
        cuts.add(datetime.combine(day, time(0), zone).timestamp())
        for w in o.window:
            for t in w._times():
                cuts.add(datetime.combine(day, t, zone).timestamp())
    return sorted(cuts)


def slots(o: StaticOptions, now: datetime) -> list[Slot]:
    """The slots from the one covering `now` (which carries the home's zone) for 48 h,
    neighbours of the same prices joined."""
    t0 = now.timestamp()
    cuts = _cuts(o, now)
    out: list[Slot] = []
    for a, b in zip(cuts, cuts[1:]):
        if b <= t0 or a >= t0 + AHEAD_S:
            continue
        imp, exp = o.prices_at(datetime.fromtimestamp((a + b) / 2, now.tzinfo))
        if out and (out[-1].import_price, out[-1].export_price) == (imp, exp):
            out[-1] = Slot(out[-1].start, b, imp, exp, o.currency)
        else:
            out.append(Slot(a, b, imp, exp, o.currency))
    return out


class Static:
    def __init__(self, o: StaticOptions) -> None:
        self.o = o

    async def prices(self, now: datetime) -> list[Slot]:
        return slots(self.o, now)


register("static", StaticOptions, Static, interval_s=600.0, min_interval_s=1.0)
