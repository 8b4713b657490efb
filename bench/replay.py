"""Green charging over whole days: `twcm replay` on the built-in days.

    .venv/bin/python bench/replay.py [--deadband-amps 1] [--change-interval-s 30]
                                     [--flex-w 0] [--stop-delay-s 300] [--seed 1]
                                     [--lower-wh 10] [--raise-wh 40]
                                     [--grid-share 0.015] [--grid-allowance-wh 150]

For the clear, cloudy and measured (NREL SERF East, from pvanalytics) days,
the site loop of `twcm run` in green-only mode leases to the master on the
simulated bus with one car plugged in all day (32 A max, 230 V single phase,
decisions every 5 s, bus steps of 20 ms; docs/replay.md). Prints per day the capture (kWh into the
car from the surplus / the oracle's), the grid's share of the car's energy
and the offer changes per hour of charging, against the targets:
capture >= 97 %, grid <= 2 %, changes <= 6 per hour. The policy settings
are the GreenSettings defaults except those given.
"""
from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

from twcm.service.policy import GreenSettings
from twcm.replay import DAYS, capture, day, oracle, replay, replay_settings
from twcm.replay.engine import VOLTS

DECIDE_S = 5.0
TARGETS = {"capture": 0.97, "grid": 0.02, "changes": 6.0}


def one_day(name: str, seed: int, green: GreenSettings) -> tuple[str, float, float, float,
                                                                  float, float, float, int]:
    settings = replay_settings("green", 32, green)
    steps = day(name, seed).resample(DECIDE_S)
    r = replay(steps, settings, DECIDE_S)
    best = oracle(steps, VOLTS, settings.min_amps, settings.max_amps, green.flex_w)
    return (name, capture(r, best), r.grid_share, r.changes_per_hour, r.car_kwh, r.wall_s,
            r.car_surplus_kwh, r.car_grid_kwh, r.offer_starts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--deadband-amps", type=float, default=GreenSettings.deadband_amps)
    p.add_argument("--change-interval-s", type=float,
                   default=GreenSettings.change_interval_s)
    p.add_argument("--stop-delay-s", type=float, default=GreenSettings.stop_delay_s)
    p.add_argument("--flex-w", type=float, default=GreenSettings.flex_w)
    p.add_argument("--lower-wh", type=float, default=GreenSettings.lower_wh)
    p.add_argument("--raise-wh", type=float, default=GreenSettings.raise_wh)
    p.add_argument("--grid-share", type=float, default=GreenSettings.grid_share)
    p.add_argument("--grid-allowance-wh", type=float, default=GreenSettings.grid_allowance_wh)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    green = GreenSettings(subtract_charger_load=True, deadband_amps=args.deadband_amps,
                          change_interval_s=args.change_interval_s,
                          stop_delay_s=args.stop_delay_s, flex_w=args.flex_w,
                          lower_wh=args.lower_wh, raise_wh=args.raise_wh,
                          grid_share=args.grid_share,
                          grid_allowance_wh=args.grid_allowance_wh)
    print(f"green settings: deadband {args.deadband_amps:g} A, change interval "
          f"{args.change_interval_s:g} s, stop delay {args.stop_delay_s:g} s, "
          f"flex {args.flex_w:g} W, lower {args.lower_wh:g} Wh, raise {args.raise_wh:g} Wh, "
          f"grid share {100 * args.grid_share:g} % up to {args.grid_allowance_wh:g} Wh; "
          f"seed {args.seed}")
    began = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(one_day, DAYS, [args.seed] * len(DAYS), [green] * len(DAYS)))
    print(f"{'day':9} {'capture':>8} {'grid':>6} {'changes/h':>10} {'car kWh':>8} "
          f"{'surplus':>8} {'grid kWh':>8} {'starts':>6} {'wall s':>7}")
    for name, cap, grid, changes, kwh, wall, green_kwh, grid_kwh, starts in rows:
        ok = (cap >= TARGETS["capture"], grid <= TARGETS["grid"],
              changes <= TARGETS["changes"])
        marks = " ".join(f"{k}:{'ok' if good else 'MISS'}" for k, good in zip(TARGETS, ok))
        print(f"{name:9} {100 * cap:7.1f}% {100 * grid:5.1f}% {changes:10.1f} {kwh:8.1f} "
              f"{green_kwh:8.2f} {grid_kwh:8.2f} {starts:6d} {wall:7.1f}  {marks}")
    print(f"targets: capture >= {100 * TARGETS['capture']:.0f} %, grid <= "
          f"{100 * TARGETS['grid']:.0f} %, changes <= {TARGETS['changes']:g}/h; "
          f"{time.perf_counter() - began:.0f} s in all")


if __name__ == "__main__":
    main()
