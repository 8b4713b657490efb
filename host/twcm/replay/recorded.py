"""A day the service recorded, read back from its database (`twcm history`, `twcm replay
--from-db`): the samples of one local day, what the chargers drew at each (from the Wall
Connectors' status rows) and the charge sessions as plug and unplug events; written as a
trace in the format `twcm replay --trace` reads (trace.py), and read back by that loader.

The trace's consumption is the house without the chargers: where the site's consumption
meter includes them (`subtract_charger_load`), their draw is taken off. A sample with an
unknown generation or consumption cannot be replayed and is left out (and counted).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TextIO

from twcm.replay.device import VOLTS
from twcm.replay.trace import MAX_TWCS, Trace, parse_trace
from twcm.service.store import Store

PAGE = 5000  # samples read per query
Progress = Callable[[float, float], None]
"""Called with (seconds of the day read, seconds in the day)."""


@dataclass(frozen=True)
class Turn:
    """One recorded turn: the meters (None: unknown then), the chargers' draw, the lease."""

    at: float
    generation_w: float | None
    consumption_w: float | None  # as the meter gave it
    charging_w: float
    house_w: float | None  # consumption without the chargers
    limit_amps: int | None


@dataclass(frozen=True)
class Event:
    at: float
    kind: str  # "plug" or "unplug"
    twc: int  # index into RecordedDay.twcs


@dataclass(frozen=True)
class RecordedDay:
    site: str
    day: date
    tz: tzinfo | None  # None: the machine's local time
    turns: tuple[Turn, ...]
    events: tuple[Event, ...]
    twcs: tuple[str, ...]  # the Wall Connectors of the day's sessions, by event index
    dropped_twcs: tuple[str, ...] = ()  # sessions on more TWCs than a trace can hold

    @property
    def unknown(self) -> int:
        """Turns left out of the trace: generation or consumption unknown."""
        return sum(t.generation_w is None or t.house_w is None for t in self.turns)


def span(day: date, tz: tzinfo | None) -> tuple[float, float]:
    """The local day as Unix seconds [start, end): 23 or 25 hours on a DST change."""
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    return start.timestamp(), end.timestamp()


def days_with_samples(store: Store, site: str, around: date, tz: tzinfo | None,
                      days: int = 30) -> list[date]:
    """The days within `days` of `around` that hold samples of the site."""
    found = []
    for k in range(-days, days + 1):
        d = around + timedelta(days=k)
        if store.samples(site, *span(d, tz), 1):
            found.append(d)
    return found


def _samples(store: Store, site: str, start: float, end: float,
             progress: Progress | None) -> list[dict]:
    rows: list[dict] = []
    at = start
    while True:
        page = store.samples(site, at, end, PAGE)
        rows += page
        if progress is not None and page:
            progress(page[-1]["at"] - start, end - start)
        if len(page) < PAGE:
            return rows
        at = float(page[-1]["at"]) + 1e-6  # turns are 0.2 s apart at the least


class _Draw:
    """What the chargers drew at a time: each TWC's latest status row, if fresh enough.
    Asked at times that go up, it reads each row once."""

    def __init__(self, rows: list[dict], stale_s: float) -> None:
        self.rows = rows
        self.next = 0
        self.latest: dict[str, dict] = {}
        self.stale_s = stale_s

    def at(self, t: float) -> float:
        while self.next < len(self.rows) and self.rows[self.next]["at"] <= t:
            row = self.rows[self.next]
            self.latest[row["twc"]] = row
            self.next += 1
        watts = 0.0
        for r in self.latest.values():
            if t - r["at"] <= self.stale_s:
                volts = sum(v for v in r["volts"] if v) or VOLTS  # volts × phases
                watts += (r["actual_amps"] or 0.0) * volts
        return watts


def _events(store: Store, site: str, start: float, end: float,
            first: float) -> tuple[list[Event], tuple[str, ...], tuple[str, ...]]:
    """The day's charge sessions as plug and unplug events (a session begun before the
    day's first turn plugs in at it)."""
    sessions = [s for s in store.sessions() if s["site"] == site and s["start"] < end
                and (s["end"] is None or s["end"] > start)]
    twcs = tuple(sorted({s["twc"] for s in sessions}))
    kept, dropped = twcs[:MAX_TWCS], twcs[MAX_TWCS:]
    events = []
    for s in sessions:
        if s["twc"] in dropped:
            continue
        i = kept.index(s["twc"])
        events.append(Event(max(s["start"], first), "plug", i))
        if s["end"] is not None and s["end"] < end:
            events.append(Event(max(s["end"], first), "unplug", i))
    return sorted(events, key=lambda e: (e.at, e.kind != "unplug")), kept, dropped


def read_day(store: Store, site: str, day: date, tz: tzinfo | None, includes_chargers: bool,
             stale_s: float = 180.0, progress: Progress | None = None) -> RecordedDay:
    """The site's recorded day. `includes_chargers`: the consumption meter measures the
    chargers too; `stale_s`: a TWC status row older than this no longer tells its draw."""
    start, end = span(day, tz)
    samples = _samples(store, site, start, end, progress)
    draw = _Draw(store.twc_status(site, start - stale_s, end), stale_s)
    turns = []
    for s in samples:
        charging = draw.at(s["at"])
        use = s["consumption_w"]
        house = None if use is None else max(0.0, use - charging) if includes_chargers \
            else use
        turns.append(Turn(s["at"], s["generation_w"], use, charging, house, s["limit_amps"]))
    first = turns[0].at if turns else start
    events, twcs, dropped = _events(store, site, start, end, first)
    return RecordedDay(site, day, tz, tuple(turns), tuple(events), twcs, dropped)


def write_trace(day: RecordedDay, out: TextIO) -> int:
    """The day as a replay trace (time with its UTC offset, generation_w, consumption_w:
    the house, event); the number of readings written."""
    rows: list[tuple[float, int, list[str]]] = []
    for e in day.events:
        rows.append((e.at, 0, ["", "", "", f"{e.kind}:{e.twc}" if e.twc else e.kind]))
    for t in day.turns:
        if t.generation_w is not None and t.house_w is not None:
            rows.append((t.at, 1, ["", f"{t.generation_w:.1f}", f"{t.house_w:.1f}", ""]))
    rows.sort(key=lambda r: r[:2])
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["time", "generation_w", "consumption_w", "event"])
    readings, last = 0, ""
    for at, reading, row in rows:
        when = datetime.fromtimestamp(at, day.tz).astimezone(day.tz)  # with its UTC offset
        stamp = when.isoformat(timespec="milliseconds")
        if reading and stamp == last:
            continue  # a second turn within the same millisecond: one reading is enough
        row[0] = stamp
        writer.writerow(row)
        readings += reading
        last = stamp if reading else last
    return readings


def to_trace(day: RecordedDay) -> Trace:
    """The day as `twcm replay --trace` would load its CSV (the same loader)."""
    out = io.StringIO()
    write_trace(day, out)
    return parse_trace(out.getvalue().splitlines())
