"""`twcm replay`: run the site loop and the simulated device over a day of readings.

The trace (CSV: time,generation_w,consumption_w[,event]), a built-in day or a
day the service recorded (--from-db, with the site's own settings) is replayed
at full speed; the figures say how much of the cars' energy
came from the surplus and from the grid, what was exported, how often the
current changed and how close the charging came to an oracle that knew the
whole day.
"""
from __future__ import annotations

import argparse
import sys
import time
import tomllib
from collections.abc import Callable
from typing import TextIO

from pydantic import ValidationError

from twcm.commands.master import amps_arg
from twcm.commands.recorded import Refused, add_arguments, day_arg, recorded
from twcm.service.config import CarConfig, ConfigError, SiteConfig
from twcm.service.config_load import check_site
from twcm.service.policy import GreenSettings, Settings
from twcm.replay import (DAYS, MODES, Trace, TraceError, day, figures, load_trace, oracle,
                         plot, replay, replay_settings)
from twcm.replay.engine import CAR_VIN, VOLTS
from twcm.replay.own import own_site
from twcm.replay.recorded import to_trace


def _hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours") from None
    if not 0 <= value <= 24 * 366:
        raise argparse.ArgumentTypeError(f"{value:g} h is out of range; give 0 or more")
    return value


def _car(text: str) -> dict[str, object]:
    when, _, kwh = text.partition(",")
    try:
        car = CarConfig.model_validate({"vin": CAR_VIN, "departure": when,
                                        "target_kwh": float(kwh)})
    except (ValueError, ValidationError):
        raise argparse.ArgumentTypeError(f"{text!r}: give the departure and the kWh, e.g. "
                                         "07:00,20") from None
    return {"departure": car.departure, "target_kwh": car.target_kwh}


def _tariff(path: str) -> dict[str, object]:
    """The [tariff] table of a TOML file, checked as a [site.tariff] (ValueError)."""
    with open(path, "rb") as f:
        table = tomllib.load(f).get("tariff")
    if not isinstance(table, dict):
        raise ValueError(f"{path}: no [tariff] table (see examples/tariff-night.toml)")
    config = {"name": "replay", "max_amps": 32, "source": {"type": "static"}, "tariff": table}
    try:
        check_site(config)
    except ConfigError as e:
        raise ValueError(f"{path}: {e}") from None
    return table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="replay a day of meter readings through the policy",
                       description=__doc__.splitlines()[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--trace", metavar="FILE.csv",
                     help="CSV: time (ISO or seconds),generation_w,consumption_w (house "
                     "without the charger)[,event: plug or unplug, :N for TWC N]")
    src.add_argument("--day", choices=DAYS, help="a built-in day")
    src.add_argument("--from-db", type=day_arg, metavar="YYYY-MM-DD",
                     help="a day the service recorded, with the site's own settings from "
                     "--config; the options below change them")
    add_arguments(p)
    p.add_argument("--seed", type=int, default=1, help="the built-in day's house load (default 1)")
    p.add_argument("--mode", choices=tuple(MODES),
                   help="green: track the surplus; fixed: max amps; off (default green)")
    p.add_argument("--max-amps", type=amps_arg, metavar="A", help="(default 32)")
    p.add_argument("--flex-w", type=float, metavar="W",
                   help="grid import allowed to hold the minimum (default 0)")
    p.add_argument("--deadband-amps", type=float, metavar="A",
                   help="surplus kept in reserve when charging starts (default 1)")
    p.add_argument("--start", type=_hours, default=0.0, metavar="H",
                   help="begin H hours into the trace (default 0)")
    p.add_argument("--hours", type=_hours, default=None, metavar="H",
                   help="replay only H hours (default: to the end)")
    p.add_argument("--decide-s", type=float, metavar="S", help="seconds between policy "
                   "decisions (default 5; with --from-db the site's interval_s)")
    p.add_argument("--plot", metavar="OUT.png", help="draw the day (needs matplotlib)")
    p.add_argument("--tariff", metavar="FILE.toml", help="score the day's cost with the "
                   "[tariff] table in FILE (as a [site.tariff], e.g. static; fetched once; "
                   "examples/tariff-night.toml)")
    p.add_argument("--car", type=_car, metavar="HH:MM,KWH", help="the car's departure and "
                   "the kWh it needs by then: the planner charges for it")
    p.set_defaults(run=run)


class Progress:
    """How far the replay has come, on `stream` (stderr): on a terminal one line redrawn
    in place (from half a second in, a few times a second, wiped at the end); else a
    line every `every_s` seconds, so a short run prints nothing and a piped one little."""

    def __init__(self, stream: TextIO, every_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic,
                 what: str = "twcm replay: {done} of {total} h replayed") -> None:
        self.stream, self.clock, self.what = stream, clock, what
        self.tty = stream.isatty()
        self.every_s = 0.2 if self.tty else every_s
        self.began = clock()
        self.due = self.began + (0.5 if self.tty else every_s)
        self.shown = False

    def __call__(self, done_s: float, total_s: float) -> None:
        now = self.clock()
        if now < self.due or done_s <= 0:
            return
        self.due = now + self.every_s
        left = (now - self.began) * (total_s - done_s) / done_s
        text = (self.what.format(done=f"{done_s / 3600:.1f}", total=f"{total_s / 3600:.1f}")
                + f" ({100 * done_s / total_s:.0f} %), about {left:.0f} s left")
        self.stream.write(f"\r{text}\x1b[K" if self.tty else text + "\n")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _fail(message: str) -> int:
    for line in message.splitlines():
        print(f"twcm replay: error: {line}", file=sys.stderr)
    return 2


def _from_db(args: argparse.Namespace) -> tuple[Trace, Settings, SiteConfig, str]:
    """The recorded day's trace and the site's own settings, changed as asked (Refused,
    TraceError, ValueError); notes on what the replay fits go to stderr."""
    got = recorded(args.config, args.site, args.from_db)
    trace = to_trace(got.day)
    decide_s = args.decide_s if args.decide_s is not None else \
        min(300.0, max(1.0, got.site.interval_s))
    config, settings, notes = own_site(got.site, decide_s, args.mode, args.max_amps,
                                       args.flex_w, args.deadband_amps)
    if not trace.events:
        notes.append("no charge session that day: a car is plugged into TWC 0 all day")
    for note in notes:
        print(f"twcm replay: note: {note}", file=sys.stderr)
    args.decide_s = decide_s
    return trace, settings, config, f"site {got.site.name} on {args.from_db}"


def run(args: argparse.Namespace) -> int:
    config = None
    try:
        if args.from_db:
            trace, settings, config, name = _from_db(args)
        else:
            trace = load_trace(args.trace) if args.trace else day(args.day, args.seed)
            name = args.trace or f"{args.day} day"
    except Refused as e:
        return _fail(str(e))
    except TraceError as e:
        return _fail(f"{args.trace or args.from_db}: {e}")
    except OSError as e:
        return _fail(f"cannot read the trace: {e}")
    except ImportError:
        return _fail("the measured day needs pvanalytics: pip install 'twcm[replay]'")
    except ValueError as e:
        return _fail(str(e))
    try:
        if config is None:
            given = {k: v for k, v in (("flex_w", args.flex_w),
                                       ("deadband_amps", args.deadband_amps)) if v is not None}
            green = GreenSettings(subtract_charger_load=True, **given)
            settings = replay_settings(args.mode or "green",
                                       32 if args.max_amps is None else args.max_amps, green)
            args.decide_s = 5.0 if args.decide_s is None else args.decide_s
        start = args.start * 3600.0
        end = None if args.hours is None else start + args.hours * 3600.0
        if not 1 <= args.decide_s <= 300:
            raise ValueError(f"--decide-s: {args.decide_s:g} must be 1 to 300 s")
        steps = trace.resample(args.decide_s, start, end)
        tariff = _tariff(args.tariff) if args.tariff else None
    except ValueError as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(f"cannot read the tariff: {e}")
    progress = Progress(sys.stderr)
    try:
        result = replay(steps, settings, args.decide_s, progress=progress, tariff=tariff,
                        car=args.car, config=config)
    finally:
        progress.close()
    best = oracle(steps, VOLTS, settings.min_amps, settings.max_amps, settings.green.flex_w)
    mode = next(m for m, v in MODES.items() if v == settings.non_scheduled)
    print(f"twcm replay: {name}, {mode} mode, {settings.max_amps} A max, "
          f"decisions every {args.decide_s:g} s")
    print("\n".join(figures(result, best)))
    if args.plot:
        try:
            plot(result, args.plot, f"{name}: {mode}, {settings.max_amps} A")
        except ImportError:
            return _fail("--plot needs matplotlib: pip install 'twcm[replay]'")
        print(f"plot          {args.plot}")
    return 0
