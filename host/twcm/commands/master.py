"""`twcm master`: the firmware's bus master under CPython, on a serial port.

For a Raspberry Pi or PC with a USB RS-485 adapter, and for tests on a pty.
"""
from __future__ import annotations

import argparse
import sys

from twc.share import Limits, check_limits


def _amps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of amps")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} A is negative; give 0 or more")
    return value


def _twc_id(text: str) -> int:
    try:
        value = int(text, 16) if len(text) == 4 else -1
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a 4-digit hex TWC id such as 7777")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "master", help="run the TWC bus master on a serial port",
        description="Run the bus master on an RS-485 serial port: discover up to 3 slave "
                    "TWCs, heartbeat them and share the circuit among the cars.")
    p.add_argument("--port", required=True, help="serial device, e.g. /dev/ttyUSB0")
    p.add_argument("--wiring-max-amps-all", type=_amps, required=True, metavar="A",
                   help="rating of the circuit shared by all TWCs (e.g. 80%% of its breaker)")
    p.add_argument("--wiring-max-amps-per-twc", type=_amps, required=True, metavar="B",
                   help="rating of the wiring to each TWC, 5-80 A")
    p.add_argument("--fallback-amps", type=_amps, required=True, metavar="F",
                   help="total current to share when no other limit is set")
    p.add_argument("--min-amps", type=_amps, default=0, metavar="M",
                   help="lowest current to offer a car (default: 5 A protocol 1, 6 A protocol 2)")
    p.add_argument("--master-id", type=_twc_id, default=0x7777, metavar="HEX",
                   help="the master's TWC id (default 7777)")
    p.add_argument("--status-every", type=float, default=5.0, metavar="S",
                   help="print each slave's status every S seconds (0: never)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        check_limits(args.wiring_max_amps_all, args.wiring_max_amps_per_twc,
                     args.fallback_amps, args.min_amps)
    except ValueError as e:
        flag = str(e).split(" ", 1)[0].replace("_", "-")
        print(f"twcm master: error: --{flag}: {e}", file=sys.stderr)
        return 2
    limits = Limits(args.wiring_max_amps_all, args.wiring_max_amps_per_twc,
                    args.fallback_amps, args.min_amps)
    from twcm.serial_master import SerialMaster, PortError
    try:
        runner = SerialMaster(args.port, limits, master_id=args.master_id,
                              status_every=args.status_every)
    except PortError as e:
        print(f"twcm master: error: {e}", file=sys.stderr)
        return 2
    with runner:
        return runner.run_forever()
