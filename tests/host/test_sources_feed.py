"""A feed: polling, back-off while a source fails, errors named once, readings aging out."""
from __future__ import annotations

import asyncio
import logging

from twcm.service.sources import Reading, SourceError
from twcm.service.sources.feed import BACKOFF_MAX_S, Feed


class Flaky:
    """Answers from a script: a Reading, an exception to raise, or "hang"."""

    def __init__(self, *script: object) -> None:
        self.script = list(script)
        self.calls = 0
        self.closed = False

    async def read(self) -> Reading:
        self.calls += 1
        step = self.script.pop(0) if self.script else Reading(generation_w=1.0)
        if step == "hang":
            await asyncio.sleep(3600)
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, Reading)
        return step

    async def close(self) -> None:
        self.closed = True


def make(source: Flaky, interval_s: float = 2.0, **kw: float) -> Feed:
    return Feed("roof", "fronius", source, ("generation",), interval_s, 30.0, **kw)


def test_failures_double_the_wait_up_to_the_cap_and_a_reading_resets_it(caplog):
    src = Flaky(SourceError("HTTP 500"), SourceError("HTTP 500"), SourceError("HTTP 500"),
                Reading(generation_w=5.0))
    f = make(src)
    waits = []
    with caplog.at_level(logging.INFO, "twcm.sources"):
        for _ in range(4):
            asyncio.run(f.poll_once())
            waits.append(f.wait_s())
    assert waits == [4.0, 8.0, 16.0, 2.0]
    assert f.latest is not None and f.latest.generation_w == 5.0 and f.error is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["source roof (fronius): HTTP 500; next try in 4 s"]  # once, not 3x
    assert any("reads again after 3 failures" in r.getMessage() for r in caplog.records)
    f.failures = 30
    assert f.wait_s() == BACKOFF_MAX_S


def test_a_hanging_source_times_out_and_a_bug_is_reported_not_raised():
    f = make(Flaky("hang", ZeroDivisionError("division by zero")), timeout_s=0.05)
    assert asyncio.run(f.poll_once()) is False and f.error == "no reading within 0.05 s"
    assert asyncio.run(f.poll_once()) is False
    assert f.error == "ZeroDivisionError: division by zero"


def test_a_reading_is_used_until_it_is_older_than_max_age():
    f = make(Flaky(Reading(generation_w=700.0, at=1000.0)))
    asyncio.run(f.poll_once())
    f.received = 1000.0
    assert f.fresh(1029.0) is not None and f.status(1029.0).ok
    f.error = "HTTP 500"
    assert f.fresh(1031.0) is None
    status = f.status(1031.0)
    assert not status.ok and status.stale == ("last reading 31 s old, more than max_age_s 30: "
                                              "HTTP 500")


def test_never_read_is_stale_with_the_error_and_the_source_is_closed_on_cancel():
    src = Flaky(SourceError("cannot connect"))
    f = make(src, interval_s=0.01)

    async def go() -> None:
        task = asyncio.create_task(f.run())
        await asyncio.wait_for(f.tried.wait(), 1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    asyncio.run(go())
    assert f.status(0.0).stale == "no reading yet (cannot connect)"
    assert src.closed
