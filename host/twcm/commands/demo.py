"""`twcm demo`: the master and simulated Wall Connectors with cars, no hardware.

The firmware's master core and 1-3 simulated slaves share the circuit on a
simulated RS-485 bus; cars arrive one after the other, charge and leave,
and the site limit changes now and then, as a host would set it. A status
view shows each TWC's offer and the car's draw.
"""
from __future__ import annotations

import argparse
import sys
import time

from twc.master import Master
from twc.share import Limits, check_limits
from twcm.commands.master import amps_arg
from twcm.sim.bus import Bus
from twcm.sim.car import Car
from twcm.status import format_slot, slot_summary

VINS = ("5YJ3E7EB3KF000001", "5YJYGDEE2LF000002", "LRW3E7EK9NC000003")
STEP_MS = 5


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="watch the master share a circuit among simulated cars",
                       description=__doc__.splitlines()[0])
    p.add_argument("--slaves", type=int, choices=(1, 2, 3), default=3)
    p.add_argument("--wiring-max-amps-all", type=amps_arg, default=40, metavar="A")
    p.add_argument("--wiring-max-amps-per-twc", type=amps_arg, default=32, metavar="B")
    p.add_argument("--speed", type=float, default=1.0, metavar="X",
                   help="simulated seconds per real second (default 1)")
    p.add_argument("--duration", type=float, default=0, metavar="S",
                   help="stop after S simulated seconds (default: run until Ctrl-C)")
    p.add_argument("--every", type=float, default=5.0, metavar="S",
                   help="print the status every S simulated seconds (default 5)")
    p.set_defaults(run=run)


# (simulated second, what happens): cars arrive, the host lowers and raises
# the site limit, a car leaves.
def _script(n: int, wiring_all: int) -> list[tuple[int, str, int]]:
    events = [(5 + 20 * i, "plug", i) for i in range(n)]
    events += [(90, "site", wiring_all // 2), (150, "site", wiring_all), (200, "unplug", 0)]
    return sorted(events)


def run(args: argparse.Namespace) -> int:
    try:
        check_limits(args.wiring_max_amps_all, args.wiring_max_amps_per_twc,
                     args.wiring_max_amps_all, 0)
    except ValueError as e:
        print(f"twcm demo: error: {e}", file=sys.stderr)
        return 2
    if args.speed <= 0:
        print("twcm demo: error: --speed must be above 0", file=sys.stderr)
        return 2
    bus = Bus(step_ms=STEP_MS)
    limits = Limits(args.wiring_max_amps_all, args.wiring_max_amps_per_twc,
                    args.wiring_max_amps_all)
    master = Master(bus.master_send, limits, now=bus.master_now,
                    on_event=lambda kind, twc_id, _: print(
                        f"{bus.now / 1000:7.1f} s  event: {kind} TWC {twc_id:04X}"))
    bus.attach_master(master)
    slaves = [bus.add_slave(seed=i, kwh=1200.0 * (i + 1), car=Car(vin=VINS[i], soc=0.4))
              for i in range(args.slaves)]
    script = _script(args.slaves, args.wiring_max_amps_all)
    print(f"twcm demo: {args.slaves} TWC(s) on a {args.wiring_max_amps_all} A circuit "
          f"({args.wiring_max_amps_per_twc} A each), speed x{args.speed:g}. Ctrl-C to stop.")
    start = time.monotonic()
    next_print = 0.0
    try:
        while not args.duration or bus.now / 1000 < args.duration:
            t = bus.now / 1000
            while script and script[0][0] <= t:
                _, what, arg = script.pop(0)
                if what == "plug":
                    slaves[arg].car.plug()
                    print(f"{t:7.1f} s  a car is plugged into TWC {slaves[arg].id:04X}")
                elif what == "unplug":
                    slaves[arg].car.unplug()
                    print(f"{t:7.1f} s  the car at TWC {slaves[arg].id:04X} leaves")
                else:
                    limits.set_site(arg)
                    print(f"{t:7.1f} s  the site limit is now {arg} A")
            if t >= next_print:
                next_print += args.every
                total = sum(s.offer for s in master.slots)
                print(f"{t:7.1f} s  limit {limits.total()} A, offered {total} A in all")
                for s in master.slots:
                    if s.status:
                        print("           " + format_slot(slot_summary(s)))
            bus.advance(STEP_MS)
            lag = (bus.now / 1000) / args.speed - (time.monotonic() - start)
            if lag > 0:
                time.sleep(lag)
    except KeyboardInterrupt:
        pass
    print("twcm demo: stopped")
    return 0
