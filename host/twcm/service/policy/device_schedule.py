"""The weekly windows as the device's schedule (docs/mqtt.md, schedule/set): what it
follows when no lease is live, e.g. while the host is down.

The device knows no time zones and no weeks: it takes absolute UTC windows for the next
48 hours that do not overlap. So the weekly windows are laid out on the calendar in the
home's zone (a DST change moves them as it moves the clocks), cut where they overlap
(the most amps win, as in schedule_claim) and joined where they touch with equal amps.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from twc.payloads import MAX_WINDOWS
from twcm.service.policy.schedule import Window

HORIZON_S = 47 * 3600  # the device takes 48 h; an hour spare for clock skew


def occurrences(windows: tuple[Window, ...], now: datetime,
                horizon_s: float) -> list[tuple[int, int, int]]:
    """(start, end, amps) in Unix seconds of every window that overlaps
    [now, now + horizon_s); `now` must carry the home's time zone."""
    zone: tzinfo | None = now.tzinfo
    if zone is None:
        raise ValueError("now must carry the home's time zone")
    t0 = now.timestamp()
    out = []
    for back in range(-1, int(horizon_s // 86400) + 2):
        day = (now + timedelta(days=back)).date()
        for w in windows:
            if day.weekday() not in w.days:
                continue
            start = datetime.combine(day, w.start, zone)
            end_day = day if w.end > w.start else day + timedelta(days=1)
            end = datetime.combine(end_day, w.end, zone)
            s, e = int(start.timestamp()), int(end.timestamp())
            if e > t0 and s < t0 + horizon_s:
                out.append((s, min(e, int(t0 + horizon_s)), w.amps))
    return out


def device_schedule(windows: tuple[Window, ...], now: datetime,
                    horizon_s: float = HORIZON_S,
                    extra: Sequence[tuple[int, int, int]] = ()) -> list[dict[str, int]]:
    """The schedule/set payload for the next horizon_s: windows that neither overlap nor
    touch with the same amps, at most MAX_WINDOWS (the earliest). `extra`: more (start,
    end, amps) spans in Unix seconds, merged in the same way (the cars' plans)."""
    t0 = now.timestamp()
    spans = occurrences(windows, now, horizon_s) + [
        (s, min(e, int(t0 + horizon_s)), a) for s, e, a in extra
        if e > t0 and s < t0 + horizon_s]
    cuts = sorted({t for s, e, _ in spans for t in (s, e)})
    merged: list[dict[str, int]] = []
    for a, b in zip(cuts, cuts[1:]):
        amps = [x for s, e, x in spans if s <= a and b <= e]
        if not amps:
            continue
        best = max(amps)
        if merged and merged[-1]["end"] == a and merged[-1]["amps"] == best:
            merged[-1]["end"] = b
        else:
            merged.append({"start": a, "end": b, "amps": best})
    return merged[:MAX_WINDOWS]
