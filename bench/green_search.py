"""Green settings against the three days: kWh from the surplus, from the grid, start/stops.

    .venv/bin/python bench/green_search.py "grid_share=0.005,grid_allowance_wh=50" ...
    .venv/bin/python bench/green_search.py --style no_grid --style balanced

Each candidate (GreenSettings keys, or a green.style preset) runs `twcm replay` (the site
loop over the simulated device, bench/replay.py's one_day) on the clear, cloudy and
measured days, two days at a time. How the shipped defaults were chosen against
TWCManager (docs/policy.md, "Choosing the defaults").
"""
from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from twcm.replay import DAYS
from twcm.service.policy import GreenSettings
from twcm.service.policy.green_styles import STYLES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replay import one_day  # noqa: E402 (the bench's own module, beside this one)


def parse(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in filter(None, text.split(",")):
        key, _, value = part.partition("=")
        out[key.strip()] = float(value)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("candidate", nargs="*", help="key=value,... of GreenSettings")
    p.add_argument("--style", action="append", default=[], choices=sorted(STYLES))
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    named = [(f"style {s}", dict(STYLES[s])) for s in args.style]
    named += [(c or "defaults", parse(c)) for c in args.candidate]
    jobs = [(label, d, GreenSettings(subtract_charger_load=True, **keys))
            for label, keys in named for d in DAYS]
    with ProcessPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(one_day, [d for _, d, _ in jobs], [args.seed] * len(jobs),
                             [g for _, _, g in jobs]))
    print(f"{'candidate':48} {'day':9} {'surplus':>8} {'grid':>6} {'starts':>6} "
          f"{'changes/h':>9}")
    for (label, _, _), row in zip(jobs, rows):
        name, _, _, changes, _, _, green_kwh, grid_kwh, starts = row
        print(f"{label:48} {name:9} {green_kwh:8.2f} {grid_kwh:6.2f} {starts:6d} "
              f"{changes:9.1f}", flush=True)


if __name__ == "__main__":
    main()
