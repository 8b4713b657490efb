"""The trade-off frontier of sun captured, grid energy and start/stop cycles, with foresight.

    .venv/bin/python bench/frontier.py [--day cloudy] [--points peer.json] [--plot out.png]

The dynamic programme of bench/foresight.py (one offer every 5 s: 0 or 6..32 A, the car
draws what the simulated car draws at once, the whole day known in advance), with a
price on start/stop cycles as well: it minimises
    - kWh from the surplus + mu * kWh from the grid + lam * changes + kappa * starts
for a grid of (lam, mu, kappa). The plans no other plan beats on all three measures (kWh
from the surplus, kWh from the grid, start/stops) are the frontier: what any policy that
cannot see the future lives under. `--points` adds real systems' figures to the picture:
a JSON list of {"label", "surplus_kwh", "grid_kwh", "starts"}.
"""
from __future__ import annotations

import argparse
import itertools
import json

import numpy as np

from foresight import DRAW_W
from twcm.replay import DAYS, day


def best_plan(surplus_w: np.ndarray, step_s: float, lam: float, mu: float,
              kappa: float) -> np.ndarray:
    """Level index per step (0: no offer) minimising the cost above, in Wh."""
    h = step_s / 3600
    captured = np.minimum(DRAW_W[None, :], np.maximum(0.0, surplus_w)[:, None]) * h
    cost_of = mu * (DRAW_W[None, :] * h - captured) - captured
    steps, levels = cost_of.shape
    cost = cost_of[0].copy()
    came = np.zeros((steps, levels), np.int8)
    keep = np.arange(levels)
    for t in range(1, steps):
        on = 1 + int(cost[1:].argmin())  # the best level that charges
        best = on if cost[on] <= cost[0] else 0
        # To stop (level 0): from the best level. To charge: from the best charging
        # level, or from 0 paying for a start, whichever is cheaper.
        src = np.full(levels, on)
        src[0] = best
        via = cost[on] + lam
        if cost[0] + lam + kappa < via:
            src[1:], via = 0, cost[0] + lam + kappa
        via_all = np.full(levels, via)
        via_all[0] = cost[best] + lam
        switch = via_all < cost
        came[t] = np.where(switch, src, keep)
        cost = np.where(switch, via_all, cost) + cost_of[t]
    plan = np.empty(steps, int)
    plan[-1] = int(cost.argmin())
    for t in range(steps - 1, 0, -1):
        plan[t - 1] = came[t, plan[t]]
    return plan


def figures(surplus: np.ndarray, plan: np.ndarray, step_s: float) -> tuple[float, float, int]:
    """(kWh from the surplus, kWh from the grid, start/stops) of a plan."""
    draw = DRAW_W[plan] * step_s / 3600
    captured = np.minimum(draw, np.maximum(0.0, surplus) * step_s / 3600).sum()
    starts = int(np.count_nonzero((plan[1:] > 0) & (plan[:-1] == 0)) + (plan[0] > 0))
    return captured / 1000, (draw.sum() - captured) / 1000, starts


def frontier(name: str, step_s: float = 5.0) -> list[tuple[float, float, int]]:
    trace = day(name, 1).resample(step_s)
    surplus = np.array(trace.generation_w) - np.array(trace.consumption_w)
    points = set()
    for lam, mu, kappa in itertools.product((0.0, 5.0, 30.0), (1.2, 2.0, 4.0, 10.0),
                                            (0.0, 50.0, 200.0, 1000.0)):
        c, g, s = figures(surplus, best_plan(surplus, step_s, lam, mu, kappa), step_s)
        points.add((round(c, 3), round(g, 3), s))
    return sorted(p for p in points if not any(
        q != p and q[0] >= p[0] and q[1] <= p[1] and q[2] <= p[2] for q in points))


def plot(path: str, name: str, points: list[tuple[float, float, int]],
         others: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5))
    sc = ax.scatter([p[1] for p in points], [p[0] for p in points],
                    c=[p[2] for p in points], cmap="viridis", s=40,
                    label="frontier (foresight, car follows at once)")
    fig.colorbar(sc, label="start/stop cycles")
    for o in others:
        ax.scatter(o["grid_kwh"], o["surplus_kwh"], marker=o.get("marker", "^"), s=90,
                   edgecolor="black", color=o.get("color", "red"))
        ax.annotate(f"{o['label']} ({o['starts']})", (o["grid_kwh"], o["surplus_kwh"]),
                    textcoords="offset points", xytext=(6, -4), fontsize=8)
    ax.set_xlabel("kWh into the car from the grid")
    ax.set_ylabel("kWh into the car from the surplus")
    ax.set_title(f"{name} day: sun captured vs grid vs start/stops (in brackets)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--day", choices=DAYS, default="cloudy")
    p.add_argument("--points", help="JSON list of real systems' figures to draw too")
    p.add_argument("--plot", metavar="FILE.png")
    args = p.parse_args()
    points = frontier(args.day)
    print(f"{args.day}: the frontier ({len(points)} plans)")
    print(f"{'surplus kWh':>11} {'grid kWh':>9} {'starts':>7}")
    for c, g, s in points:
        print(f"{c:11.2f} {g:9.3f} {s:7d}")
    if args.plot:
        others = json.load(open(args.points)) if args.points else []
        plot(args.plot, args.day, points, others)
        print(f"plot {args.plot}")


if __name__ == "__main__":
    main()
