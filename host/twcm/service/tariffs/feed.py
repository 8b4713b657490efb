"""The site's prices: each configured tariff fetched on its own schedule, with back-off
on errors, and the slots in force chosen among them.

A fetched slot stays good until it ends, so a tariff that fails keeps its last prices
(their age is shown) and the planner goes on with them; with several tariffs, each slot
comes from the first tariff listed that has a price for it (e.g. aWATTar, with a static
tariff behind it for the hours aWATTar has not published).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from twcm.service.tariffs.base import Slot, Tariff, upcoming

log = logging.getLogger("twcm.tariffs")

RETRY_S = 60.0  # the first wait after a failure; doubled per failure in a row
BACKOFF_MAX_S = 3600.0
NEXT_SLOTS = 8  # slots after the current one that status() shows


class PriceFeed:
    """One tariff: fetched every interval_s, and after failures after RETRY_S doubling up
    to BACKOFF_MAX_S; keeps the last good slots, when they came, and the last error."""

    def __init__(self, name: str, type_: str, tariff: Tariff, interval_s: float,
                 min_interval_s: float = 0.0) -> None:
        self.name, self.type, self.tariff, self.interval_s = name, type_, tariff, interval_s
        self.min_interval_s = min_interval_s
        self.slots: list[Any] = []  # Slot, or SolarSlot for a forecast
        self.fetched_at: float | None = None  # wall clock of the last good fetch
        self.error: str | None = None
        self.failures = 0
        self.version = 0  # counts the fetches that changed the slots (the planner re-plans)

    async def fetch(self, now: datetime) -> bool:
        """One attempt; True if it gave prices."""
        try:
            slots = upcoming(await self._get(now), now.timestamp())
            if not slots:
                raise ValueError("no price from now on in the answer")
        except asyncio.CancelledError:
            raise
        except Exception as e:  # TariffError, SourceError (HTTP), a parsing bug
            self.failures += 1
            text = str(e) or type(e).__name__
            if text != self.error:
                log.warning("tariff %s: %s; keeping the prices fetched before, next try "
                            "in %g s", self.name, text, self.wait_s())
            self.error = text
            return False
        if self.error is not None:
            log.info("tariff %s: prices again after %d failures", self.name, self.failures)
        if slots != self.slots:
            self.version += 1
        self.slots, self.fetched_at = slots, now.timestamp()
        self.error, self.failures = None, 0
        return True

    async def _get(self, now: datetime) -> list[Any]:
        return await self.tariff.prices(now)

    def wait_s(self) -> float:
        if self.failures == 0:
            return self.interval_s
        return max(self.min_interval_s,
                   min(BACKOFF_MAX_S, RETRY_S * 2 ** (self.failures - 1)))

    async def run(self, now: Callable[[], datetime]) -> None:
        """Fetch until cancelled; `now` gives the time in the home's zone."""
        try:
            while True:
                started = time.monotonic()
                await self.fetch(now())
                await asyncio.sleep(max(0.0, self.wait_s() - (time.monotonic() - started)))
        finally:
            close = getattr(self.tariff, "close", None)
            if close is not None:
                await close()


class ForecastFeed(PriceFeed):
    """A solar forecast (twcm.service.forecast), fetched as a tariff is."""

    async def _get(self, now: datetime) -> list[Any]:
        return await self.tariff.solar(now)  # type: ignore[attr-defined]


class Prices:
    """The site's tariffs, first listed first."""

    def __init__(self, feeds: list[PriceFeed]) -> None:
        self.feeds = feeds

    def version(self) -> tuple[int, ...]:
        return tuple(f.version for f in self.feeds)

    def slots(self, now: float) -> list[Slot]:
        """The slots from `now` on, each from the first tariff that has a price for it."""
        out: list[Slot] = []
        for feed in self.feeds:
            for s in upcoming(feed.slots, now):
                if not any(s.start < o.end and o.start < s.end for o in out):
                    out.append(s)
        return sorted(out, key=lambda s: s.start)

    def status(self, now: float) -> dict[str, Any] | None:
        """The `prices` block of SiteLoop.status(); None without tariffs."""
        if not self.feeds:
            return None
        ahead = self.slots(now)
        current = ahead[0] if ahead and ahead[0].covers(now) else None
        source = next((f for f in self.feeds if current in f.slots), None)
        return {
            "current": None if current is None else _slot(current),
            "source": None if source is None else source.name,
            "next": [_slot(s) for s in ahead[1 if current else 0:][:NEXT_SLOTS]],
            "tariffs": [{"name": f.name, "type": f.type,
                         "age_s": None if f.fetched_at is None else round(now - f.fetched_at),
                         "slots": len(upcoming(f.slots, now)), "error": f.error}
                        for f in self.feeds],
        }


def _slot(s: Slot) -> dict[str, Any]:
    return {"start": s.start, "end": s.end, "import": s.import_price,
            "export": s.export_price, "currency": s.currency}
