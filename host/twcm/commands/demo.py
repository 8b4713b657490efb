"""`twcm demo`: the whole system on this computer, no hardware.

An embedded MQTT broker (or --broker's), the firmware's master core as a simulated device with 1-3
simulated Wall Connectors and cars, and the host service's site loop, which tracks a
simulated solar day and leases the site limit to the device. A live view shows the day,
the leases and each Wall Connector; without a terminal, plain lines.
"""
from __future__ import annotations

import argparse
import math
import sys
from datetime import datetime

from twc.share import check_limits
from twcm.commands.master import amps_arg
from twcm.mqtt import parse_broker

MAX_SPEED = 86_400


def _hhmm(text: str) -> str:
    try:
        datetime.strptime(text, "%H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time of day: give HH:MM, "
                                         "e.g. 07:30") from None
    return text


def _number(text: str, zero_ok: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 <= value if zero_ok else 0 < value) or not math.isfinite(value):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number {'of 0 or more' if zero_ok else 'above 0'}")
    return value


def _positive(text: str) -> float:
    return _number(text, zero_ok=False)


def _seconds(text: str) -> float:
    return _number(text, zero_ok=True)


def _broker(text: str) -> str:
    try:
        parse_broker(text, None)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the whole system with simulated TWCs, cars and sun",
                       description=__doc__.splitlines()[0])
    p.add_argument("--slaves", type=int, choices=(1, 2, 3), default=3)
    p.add_argument("--wiring-max-amps-all", type=amps_arg, default=40, metavar="A")
    p.add_argument("--wiring-max-amps-per-twc", type=amps_arg, default=32, metavar="B")
    p.add_argument("--speed", type=_positive, default=60.0, metavar="X",
                   help="simulated seconds of the solar day per real second (default 60: "
                        "an hour a minute); the bus and the cars run in real time")
    p.add_argument("--start", type=_hhmm, default="10:00", metavar="HH:MM",
                   help="simulated time of day at the start (default 10:00: the sun is up)")
    p.add_argument("--duration", type=_seconds, default=0.0, metavar="S",
                   help="stop after S real seconds (default 0: run until Ctrl-C)")
    p.add_argument("--every", type=_positive, default=1.0, metavar="S",
                   help="without a terminal: print a line every S seconds (default 1)")
    p.add_argument("--broker", type=_broker, metavar="URL",
                   help="use this MQTT broker (mqtt://[user@]host[:port], the password in "
                        "$TWCM_MQTT_PASSWORD) instead of an embedded one, e.g. Home "
                        "Assistant's, which then discovers the demo's entities")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        check_limits(args.wiring_max_amps_all, args.wiring_max_amps_per_twc, 0)
    except ValueError as e:
        flag = str(e).split(" ", 1)[0].replace("_", "-")
        print(f"twcm demo: error: --{flag}: {e}", file=sys.stderr)
        return 2
    if args.speed > MAX_SPEED:
        print(f"twcm demo: error: --speed: {args.speed:g} is above {MAX_SPEED} (a day a "
              "second)", file=sys.stderr)
        return 2
    from twcm.demo import app
    return app.main(app.Options(
        slaves=args.slaves, wiring_max_amps_all=args.wiring_max_amps_all,
        wiring_max_amps_per_twc=args.wiring_max_amps_per_twc, speed=args.speed,
        start=args.start, duration_s=args.duration, every_s=args.every,
        live=sys.stdout.isatty(), broker=args.broker))
