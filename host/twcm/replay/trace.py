"""A day of meter readings: load and check the CSV, resample it.

    time,generation_w,consumption_w,event
    2026-06-21T06:00:00,0,350,plug
    2026-06-21T06:01:00,12,340,
    2026-06-21T12:00:00,5200,410,unplug:1

`time` is an ISO date-time or seconds from any origin, all rows alike;
times go up. `consumption_w` is the house without the charger (the replay
adds what the cars draw). `event` (optional column) is `plug` or `unplug`,
with `:N` for TWC N (0-2, default 0); on an event row the two power fields
may be left empty.
"""
from __future__ import annotations

import bisect
import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

HEADER = ("time", "generation_w", "consumption_w")
EVENTS = ("plug", "unplug")
MAX_TWCS = 3
# Where a trace given in plain seconds starts (the policy wants a date).
SECONDS_ORIGIN = datetime(2026, 6, 21)


class TraceError(ValueError):
    """A bad trace: where (line, column) and how to fix it."""

    def __init__(self, line: int, column: str, problem: str, fix: str) -> None:
        super().__init__(f"line {line}, column {column}: {problem}; {fix}")
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Event:
    t_s: float
    kind: str  # "plug" or "unplug"
    twc: int  # index of the Wall Connector, 0-2


@dataclass(frozen=True)
class Trace:
    """Readings at times t_s (seconds after `start`), and the car events."""

    start: datetime
    t_s: tuple[float, ...]
    generation_w: tuple[float, ...]
    consumption_w: tuple[float, ...]
    events: tuple[Event, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.t_s[-1] if self.t_s else 0.0

    def at(self, t: float) -> tuple[float, float]:
        """Generation and consumption at t, linear between readings."""
        i = bisect.bisect_right(self.t_s, t)
        if i == 0:
            return self.generation_w[0], self.consumption_w[0]
        if i == len(self.t_s):
            return self.generation_w[-1], self.consumption_w[-1]
        t0, t1 = self.t_s[i - 1], self.t_s[i]
        f = (t - t0) / (t1 - t0)
        g, c = self.generation_w, self.consumption_w
        return g[i - 1] + f * (g[i] - g[i - 1]), c[i - 1] + f * (c[i] - c[i - 1])

    def resample(self, step_s: float, start_s: float = 0.0,
                 end_s: float | None = None) -> Trace:
        """Readings every step_s from start_s to end_s (default: the end),
        re-timed so that start_s is 0; events outside are dropped."""
        end = self.duration_s if end_s is None else min(end_s, self.duration_s)
        n = int((end - start_s) // step_s) + 1 if step_s > 0 else 0
        if n < 2:
            raise ValueError(f"window {start_s:g}-{end:g} s holds fewer than two "
                             f"steps of {step_s:g} s")
        times = [k * float(step_s) for k in range(n)]
        pairs = [self.at(start_s + t) for t in times]
        events = tuple(Event(e.t_s - start_s, e.kind, e.twc) for e in self.events
                       if start_s <= e.t_s <= start_s + times[-1])
        return Trace(self.start + timedelta(seconds=start_s), tuple(times),
                     tuple(p[0] for p in pairs), tuple(p[1] for p in pairs), events)


def _number(text: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise TraceError(line, column, f"{text!r} is not a number",
                         "write watts as a plain number such as 1234.5")
    return value


def _event(text: str, line: int) -> tuple[str, int]:
    kind, _, twc = text.partition(":")
    if kind not in EVENTS or (twc and not (twc.isdigit() and int(twc) < MAX_TWCS)):
        raise TraceError(line, "event", f"{text!r} is not an event",
                         "write plug or unplug, optionally :N for TWC N (0-2), e.g. plug:1")
    return kind, int(twc or 0)


def _time(text: str, line: int) -> float | datetime:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise TraceError(line, "time", f"{text!r} is neither seconds nor an ISO time",
                         "write e.g. 2026-06-21T12:00:00 or 43200") from None


def _seconds(t: float | datetime, origin: float | datetime, line: int) -> float:
    """t as seconds after origin (the first row's time)."""
    if isinstance(t, float) and isinstance(origin, float):
        return t - origin
    if isinstance(t, datetime) and isinstance(origin, datetime):
        if (t.tzinfo is None) != (origin.tzinfo is None):
            raise TraceError(line, "time", "times with and without a UTC offset are mixed",
                             "give every time an offset (e.g. +02:00) or none")
        return (t - origin).total_seconds()
    raise TraceError(line, "time", "seconds and ISO times are mixed",
                     "use one style for every row")


def parse_trace(lines: Iterable[str]) -> Trace:
    """A Trace from CSV text lines; TraceError for the first problem."""
    rows = ((n, r) for n, r in enumerate(csv.reader(lines), 1)
            if r and any(r) and not r[0].lstrip().startswith("#"))
    first = next(rows, None)
    if first is None:
        raise TraceError(1, "time", "the file holds no header", "start with "
                         "the line time,generation_w,consumption_w[,event]")
    n, header = first
    header = [h.strip() for h in header]
    if tuple(header[:3]) != HEADER or header[3:] not in ([], ["event"]):
        raise TraceError(n, "header", f"{','.join(header)!r} is not the header",
                         "use time,generation_w,consumption_w or add ,event")
    origin: float | datetime | None = None
    secs: list[float] = []
    gen: list[float] = []
    cons: list[float] = []
    events: list[Event] = []
    last = 0.0
    for n, row in rows:
        row = [c.strip() for c in row]
        if len(row) != len(header):
            raise TraceError(n, "-", f"{len(row)} fields, the header has {len(header)}",
                             "give every row one value per header column")
        stamp = _time(row[0], n)
        origin = stamp if origin is None else origin
        t = _seconds(stamp, origin, n)
        if t < last:
            raise TraceError(n, "time", f"{row[0]} is before the row above",
                             "sort the rows by time")
        last = t
        if len(row) == 4 and row[3]:
            events.append(Event(t, *_event(row[3], n)))
            if not row[1] and not row[2]:
                continue
        if secs and t == secs[-1]:
            raise TraceError(n, "time", f"{row[0]} repeats the reading above",
                             "give each reading its own time")
        gen.append(_number(row[1], n, "generation_w"))
        cons.append(_number(row[2], n, "consumption_w"))
        secs.append(t)
    if len(secs) < 2:
        raise TraceError(n, "time", "fewer than two readings", "give at least two rows")
    start = origin if isinstance(origin, datetime) \
        else SECONDS_ORIGIN + timedelta(seconds=float(origin or 0.0))
    return Trace(start, tuple(secs), tuple(gen), tuple(cons), tuple(events))


def load_trace(path: str | Path) -> Trace:
    """Read a trace file; TraceError names the line and column at fault."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        try:
            return parse_trace(f)
        except (UnicodeDecodeError, csv.Error) as e:
            raise TraceError(0, "-", f"not a CSV text file ({e})",
                             "save the trace as UTF-8 CSV") from None
