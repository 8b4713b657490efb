"""`twcm history`: one local day of a site's records, from the database of `twcm run`:
a summary, a trace CSV that `twcm replay --trace` reads, or a plot."""
from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from datetime import datetime

from twcm.commands.recorded import Refused, add_arguments, day_arg, recorded
from twcm.commands.replay import Progress
from twcm.replay.recorded import RecordedDay, Turn, write_trace

MAX_GAP_S = 600.0  # a longer gap between turns (twcm was off) adds no energy


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="export or plot a recorded day of a site",
                       description="One local day of a site's records from the database of "
                       "`twcm run`: a summary, a trace for `twcm replay --trace` (--csv) or "
                       "a plot (--plot).")
    add_arguments(p)
    p.add_argument("--day", type=day_arg, required=True, metavar="YYYY-MM-DD",
                   help="the day, in the site's time zone")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", metavar="FILE", help="write the day as a replay trace "
                     "(time,generation_w,consumption_w,event; - for the terminal)")
    out.add_argument("--plot", metavar="FILE.png", help="draw generation, consumption, "
                     "charging and the limit over the day (needs matplotlib)")
    p.set_defaults(run=run)


def _kwh(turns: tuple[Turn, ...], value: str) -> float:
    wh = 0.0
    for a, b in zip(turns, turns[1:]):
        v, gap = getattr(a, value), b.at - a.at
        if v is not None and gap <= MAX_GAP_S:
            wh += v * gap / 3600
    return wh / 1000


def summary(day: RecordedDay) -> list[str]:
    t = day.turns
    clock = [datetime.fromtimestamp(x.at, day.tz).strftime("%H:%M") for x in (t[0], t[-1])]
    leases = [x.limit_amps for x in t if x.limit_amps is not None]
    lines = [f"site {day.site}, {day.day}: {len(t)} samples from {clock[0]} to {clock[1]}"]
    for label, field in (("generation", "generation_w"), ("consumption", "consumption_w"),
                         ("charging", "charging_w"), ("house", "house_w")):
        lines.append(f"{label:<12} {_kwh(t, field):7.2f} kWh")
    lines.append(f"lease        {'max ' + str(max(leases)) + ' A' if leases else 'none'}; "
                 f"{len(t) - len(leases)} turns without one")
    lines.append(f"sessions     {sum(e.kind == 'plug' for e in day.events)} on "
                 f"{len(day.twcs)} Wall Connector(s)")
    return lines


def _plot(day: RecordedDay, path: str) -> None:
    from twcm.replay.engine import Result, Sample
    from twcm.replay.report import plot

    turns = [x for x in day.turns if x.generation_w is not None and x.house_w is not None]
    start = datetime.fromtimestamp(turns[0].at, day.tz).astimezone(day.tz)
    result = Result(start, samples=[Sample(
        x.at - turns[0].at, x.generation_w or 0.0, x.house_w or 0.0, x.limit_amps or 0,
        x.charging_w) for x in turns])
    plot(result, path, f"site {day.site}, {day.day}: recorded")


def fail(message: str) -> int:
    for line in message.splitlines():
        print(f"twcm history: error: {line}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    progress = Progress(sys.stderr, 5.0, what="twcm history: {done} of {total} h read")
    try:
        got = recorded(args.config, args.site, args.day, progress)
    except Refused as e:
        return fail(str(e))
    finally:
        progress.close()
    day = got.day
    left_out = f"; {day.unknown} samples with an unknown meter left out" if day.unknown \
        else ""
    if day.dropped_twcs:
        left_out += f"; sessions of {', '.join(day.dropped_twcs)} left out (a trace " \
            "holds 3 Wall Connectors)"
    if args.csv:
        to_file = args.csv != "-"
        try:
            with open(args.csv, "w", newline="", encoding="utf-8") if to_file \
                    else nullcontext(sys.stdout) as f:
                readings = write_trace(day, f)
        except OSError as e:
            return fail(f"cannot write {args.csv}: {e.strerror or e}")
        if to_file:
            print(f"{args.csv}: {readings} readings and {len(day.events)} events of site "
                  f"{day.site} on {day.day}{left_out}; replay it with "
                  f"twcm replay --trace {args.csv}")
        return 0
    if args.plot:
        if day.unknown == len(day.turns):
            return fail(f"every sample of {day.day} has an unknown meter: nothing to draw")
        try:
            _plot(day, args.plot)
        except ImportError:
            return fail("--plot needs matplotlib: pip install 'twcm[replay]'")
        except OSError as e:
            return fail(f"cannot write {args.plot}: {e.strerror or e}")
        print(f"{args.plot}: site {day.site} on {day.day}{left_out}")
        return 0
    print("\n".join(summary(day)) + (f"\n{left_out[2:]}" if left_out else ""))
    return 0
