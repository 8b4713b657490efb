"""`twcm sim`: 1-3 simulated slave TWCs, each with a car, on a serial port.

Point `twcm master` at the other end of the link (a USB RS-485 adapter
wired to another, or a pty pair) to try it without Wall Connectors.
"""
from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable

import serial

from twc import proto

from twcm.master.serial import PortError, open_port
from twcm.sim.car import Car
from twcm.sim.serial_port import PtyLink, SerialSlaves
from twcm.sim.slave import SimSlave


def _number(kind: Callable[[str], float], lo: float, hi: float | None = None) -> Callable[[str], float]:
    """An argparse type: a number of the given kind within [lo, hi]."""
    def parse(text: str) -> float:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if v < lo or (hi is not None and v > hi):
            span = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: it must be {span}")
        return v
    return parse


def _vin(text: str) -> str:
    if len(text) != 17 or not text.isascii() or not text.isalnum():
        raise argparse.ArgumentTypeError(f"{text!r} is not a VIN: give 17 letters and digits")
    return text.upper()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sim", help="simulate 1-3 slave TWCs with cars on a serial port",
        description="Simulate slave Wall Connectors (rotary switch F), each with a car "
                    "plugged in, on a serial port, for trying `twcm master` without hardware.")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="serial device, e.g. /dev/ttyUSB1 or a pty path")
    where.add_argument("--pty", action="store_true",
                       help="make a virtual serial link and print the device to give "
                            "`twcm master --port`")
    p.add_argument("--slaves", type=_number(int, 1, 3), default=1, metavar="N",
                   help="how many slave TWCs (1-3, default 1)")
    p.add_argument("--protocol", type=int, choices=(1, 2), default=2,
                   help="1 = original firmware, 2 = newer (default)")
    p.add_argument("--max-amps", type=_number(int, 6, 80), default=32, metavar="A",
                   help="each TWC's rating: 32 (EU, default) or 80 (US)")
    p.add_argument("--phases", type=int, choices=(1, 3), default=1, help="supply phases (default 1)")
    p.add_argument("--volts", type=_number(int, 100, 480), default=230, metavar="V",
                   help="volts per phase (default 230)")
    p.add_argument("--plug-after", type=_number(float, 0), default=0.0, metavar="S",
                   help="plug the cars in after S seconds (default 0)")
    p.add_argument("--car-max-amps", type=_number(float, 1, 80), default=32.0, metavar="A",
                   help="the most each car's charger takes (default 32)")
    p.add_argument("--vin", type=_vin, action="append", default=[], metavar="VIN",
                   help="VIN of the next car (repeat for each); cars without one do not tell it")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="seed for IDs and timing, to repeat a run (default: random)")
    p.add_argument("--status-every", type=_number(float, 0.1), default=5.0, metavar="S",
                   help="print each slave's status every S seconds (default 5)")
    p.set_defaults(run=run)


def _status(t: float, s: SimSlave) -> str:
    state = s.state()
    link = "mastered" if s.mastered else "no master"
    return (f"{t:7.1f} s  slave {s.id:04X}  {link:9}  {proto.STATE_NAMES[state]:>8} ({state:02X})"
            f"  limit {s.applied_amps:6.2f} A  car {s.car.amps:5.2f} A  {s.kwh:8.3f} kWh")


def run(args: argparse.Namespace) -> int:
    if len(args.vin) > args.slaves:
        print(f"twcm sim: error: --vin given {len(args.vin)} times for {args.slaves} "
              "slave(s); give at most one per slave", file=sys.stderr)
        return 2
    link = None
    if args.pty:
        link = PtyLink()
        args.port = link.a
    try:
        port = open_port(args.port)
    except PortError as e:
        print(f"twcm sim: error: {e}", file=sys.stderr)
        return 2
    if link is not None:
        print(f"twcm sim: virtual serial link ready; run the master on its other end:\n"
              f"  twcm master --port {link.b} --wiring-max-amps-all 40 "
              f"--wiring-max-amps-per-twc 32 --fallback-amps 40", flush=True)
    rng = random.Random(args.seed)
    sim = SerialSlaves(port)
    ids: set[int] = set()
    while len(ids) < args.slaves:
        ids.add(rng.randrange(0x10000))
    vins = args.vin + [None] * (args.slaves - len(args.vin))
    for twc_id, vin in zip(sorted(ids), vins):
        sim.add_slave(twc_id=twc_id, protocol=args.protocol, max_amps=args.max_amps,
                      phases=args.phases, volts=args.volts, seed=rng.randrange(2**32),
                      car=Car(max_amps=args.car_max_amps, vin=vin))
    print(f"twcm sim: {args.slaves} slave(s) on {args.port}: "
          + ", ".join(f"{s.id:04X}" for s in sim.slaves)
          + f"; protocol {args.protocol}, {args.max_amps} A, {args.phases} x {args.volts} V."
          " Ctrl-C to stop.", flush=True)
    plug_at = args.plug_after
    next_status = 0.0
    try:
        while True:
            sim.poll()
            t = sim.now() / 1000
            if plug_at is not None and t >= plug_at:
                plug_at = None
                for s in sim.slaves:
                    s.car.plug()
            if t >= next_status:
                next_status = t + args.status_every
                for s in sim.slaves:
                    print(_status(t, s), flush=True)
    except KeyboardInterrupt:
        print("twcm sim: stopped", flush=True)
        return 0
    except serial.SerialException as e:
        print(f"twcm sim: serial port {args.port} failed: {e}", file=sys.stderr)
        return 1
    finally:
        port.close()
        if link is not None:
            link.close()
