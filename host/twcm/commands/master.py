"""`twcm master`: the firmware's bus master under CPython, on a serial port.

For a Raspberry Pi or PC with a USB RS-485 adapter, and for tests on a pty.
With --broker it serves the MQTT contract (docs/mqtt.md) as the ESP32 does.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from twc.contract import SITE_RULE, site_ok
from twc.master import MASTER_ID
from twc.share import Limits, check_limits

if TYPE_CHECKING:
    from twcm.mqtt import Broker


def amps_arg(text: str) -> int:
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
    p.add_argument("--wiring-max-amps-all", type=amps_arg, required=True, metavar="A",
                   help="rating of the circuit shared by all TWCs (e.g. 80%% of its breaker)")
    p.add_argument("--wiring-max-amps-per-twc", type=amps_arg, required=True, metavar="B",
                   help="rating of the wiring to each TWC, 5-80 A")
    p.add_argument("--fallback-amps", type=amps_arg, required=True, metavar="F",
                   help="total current to share when no other limit is set")
    p.add_argument("--min-amps", type=amps_arg, default=0, metavar="M",
                   help="lowest current to offer a car (default: 5 A protocol 1, 6 A protocol 2)")
    p.add_argument("--master-id", type=_twc_id, default=MASTER_ID, metavar="HEX",
                   help=f"the master's TWC id (default {MASTER_ID:04X})")
    p.add_argument("--status-every", type=float, default=5.0, metavar="S",
                   help="print each slave's status every S seconds (0: never)")
    p.add_argument("--broker", metavar="URL",
                   help="serve the MQTT contract (docs/mqtt.md) on this broker: "
                        "mqtt://[user[:password]@]host[:port] or mqtts://... (TLS, checked "
                        "against the system's CAs, or mqtts://host?ca=FILE against the CA "
                        "in FILE); the password may come from $TWCM_MQTT_PASSWORD instead")
    p.add_argument("--site", metavar="NAME",
                   help=f"with --broker: the site in the topics twcm/<site>/..., {SITE_RULE}")
    p.add_argument("--state-dir", type=Path, metavar="DIR",
                   help="with --broker: where the schedule is kept "
                        "(default $XDG_STATE_HOME/twcm/<site>)")
    p.add_argument("--twc-start-stop", action="store_true",
                   help="accept twc/<id>/charging/set (FC B1/B2 start/stop); off by default: "
                        "a stop can leave a car refusing to charge until re-plugged "
                        "(docs/load-sharing.md)")
    p.set_defaults(run=run)


def _error(message: str) -> int:
    print(f"twcm master: error: {message}", file=sys.stderr)
    return 2


def _mqtt(args: argparse.Namespace) -> tuple[Broker, str, Path] | None:
    """(broker, site, state dir) from --broker, --site and --state-dir, None
    without --broker; ValueError names the flag and the fix."""
    if args.broker is None:
        for flag, value in (("--site", args.site), ("--state-dir", args.state_dir)):
            if value is not None:
                raise ValueError(f"{flag} only applies with --broker URL; add it or drop {flag}")
        return None
    from twcm import mqtt
    try:
        broker = mqtt.parse_broker(args.broker, os.environ.get(mqtt.PASSWORD_ENV))
    except ValueError as e:
        raise ValueError(f"--broker: {e}") from None
    site = args.site
    if site is None:
        raise ValueError("--site NAME is required with --broker: the site names the topics "
                         "twcm/<site>/..., e.g. --site home")
    if not site_ok(site):
        raise ValueError(f"--site: {site!r} is not a site name: give {SITE_RULE} (it names "
                         "the topics twcm/<site>/...)")
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return broker, site, args.state_dir or Path(base) / "twcm" / site


def run(args: argparse.Namespace) -> int:
    try:
        check_limits(args.wiring_max_amps_all, args.wiring_max_amps_per_twc,
                     args.fallback_amps, args.min_amps)
    except ValueError as e:
        flag = str(e).split(" ", 1)[0].replace("_", "-")
        return _error(f"--{flag}: {e}")
    limits = Limits(args.wiring_max_amps_all, args.wiring_max_amps_per_twc,
                    args.fallback_amps, args.min_amps)
    try:
        mqtt = _mqtt(args)
    except ValueError as e:
        return _error(str(e))
    from twcm.master.serial import SerialMaster, PortError
    try:
        runner = SerialMaster(args.port, limits, master_id=args.master_id,
                              status_every=args.status_every)
    except PortError as e:
        return _error(str(e))
    runner.master.start_stop_enabled = args.twc_start_stop
    with runner:
        if mqtt is not None:
            runner.use_broker(*mqtt)
        return runner.run_forever()
