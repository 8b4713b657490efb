"""A feed: one configured source read on its own schedule, with back-off on errors.

It keeps the last good reading and how old it is; the combination (combine.py) uses a
reading only while it is younger than the feed's max_age_s, so a meter that stops
answering turns into "unknown", never into 0 W or into yesterday's sun.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from twcm.service.sources import Reading, Source, SourceError

log = logging.getLogger("twcm.sources")

BACKOFF_MAX_S = 300.0  # the longest wait between attempts while a source keeps failing


@dataclass(frozen=True)
class FeedStatus:
    """What a feed is up to, for logs, views and the API."""

    name: str
    type: str
    ok: bool  # it has a reading younger than max_age_s
    age_s: float | None  # of the last good reading; None: never read
    error: str | None  # the last failure while it fails, else None
    stale: str | None  # why its reading is not used; None when it is


class Feed:
    """Reads `source` every `interval_s` (waiting longer after failures, doubling up to
    BACKOFF_MAX_S), keeps the latest good Reading and the latest error."""

    def __init__(self, name: str, type_: str, source: Source, roles: tuple[str, ...],
                 interval_s: float, max_age_s: float, timeout_s: float | None = None) -> None:
        self.name, self.type, self.source, self.roles = name, type_, source, roles
        self.interval_s = interval_s
        self.max_age_s = max_age_s
        self.timeout_s = timeout_s or max(1.0, min(interval_s, 30.0)) * 2
        self.latest: Reading | None = None
        self.received = 0.0  # time.time() the latest reading arrived
        self.error: str | None = None
        self.failures = 0
        self.tried = asyncio.Event()  # set after the first attempt, good or not

    def describe(self) -> str:
        return self.name if self.name == self.type else f"{self.name} ({self.type})"

    async def poll_once(self) -> bool:
        """One attempt; True if it gave a reading."""
        try:
            # Not wait_for: on Python 3.11 it can swallow a cancel that comes as the
            # read ends, and the feed would poll on after the service stopped it.
            async with asyncio.timeout(self.timeout_s):
                reading = await self.source.read()
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            self._failed(f"no reading within {self.timeout_s:g} s")
            return False
        except SourceError as e:
            self._failed(str(e))
            return False
        except Exception as e:  # an integration's bug must not stop the others
            self._failed(f"{type(e).__name__}: {e}")
            return False
        if self.error is not None:
            log.info("source %s reads again after %d failures", self.describe(),
                     self.failures)
        self.latest, self.received = reading, time.time()
        self.error, self.failures = None, 0
        return True

    def _failed(self, text: str) -> None:
        self.failures += 1
        if text != self.error:  # once per kind of failure, not on every attempt
            log.warning("source %s: %s; next try in %g s", self.describe(), text,
                        self.wait_s())
        self.error = text

    def wait_s(self) -> float:
        """The pause before the next attempt: the interval, doubled per failure in a row."""
        if self.failures == 0:
            return self.interval_s
        return min(BACKOFF_MAX_S, max(self.interval_s, self.interval_s * 2 ** self.failures))

    async def run(self) -> None:
        """Poll until cancelled."""
        try:
            while True:
                started = time.monotonic()
                await self.poll_once()
                self.tried.set()
                await asyncio.sleep(max(0.0, self.wait_s() - (time.monotonic() - started)))
        finally:
            close = getattr(self.source, "close", None)
            if close is not None:
                try:
                    await close()
                except Exception as e:
                    log.debug("source %s: closing: %s", self.describe(), e)

    def taken_at(self) -> float | None:
        """When the latest reading was taken: its own time, or when it arrived if that is
        earlier (a device clock ahead must not make it look fresh); None: never read."""
        r = self.latest
        return None if r is None else min(r.at, self.received)

    def fresh(self, now: float) -> Reading | None:
        """The latest reading while younger than max_age_s, else None."""
        at = self.taken_at()
        if at is None or now - at > self.max_age_s:
            return None
        return self.latest

    def status(self, now: float) -> FeedStatus:
        at = self.taken_at()
        age = None if at is None else max(0.0, now - at)
        if age is None:
            stale = f"no reading yet ({self.error})" if self.error else "no reading yet"
        elif age > self.max_age_s:
            why = f": {self.error}" if self.error else ""
            stale = f"last reading {age:.0f} s old, more than max_age_s {self.max_age_s:g}{why}"
        else:
            stale = None
        return FeedStatus(self.name, self.type, stale is None, age, self.error, stale)
