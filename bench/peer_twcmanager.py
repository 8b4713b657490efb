"""Side by side: TWCManager (the original, from PyPI) and twcm over the same day.

    .venv/bin/python bench/peer_twcmanager.py --day cloudy [--seed 1] [--start 5 --hours 16]
        [--speedup 20] [--policy-s 30] [--subtract-charger-load on|off] [--plot day.png]
    .venv/bin/python bench/peer_twcmanager.py --trace my-day.csv --hours 2

The peer: TWCManager (PyPI package `twcmanager`, installed by `--setup` or on first use
into bench/.peer-venv, for this bench only) is the master of twcm's own simulated slave
TWC (twcm.sim) on a pty, with the car `twcm replay` uses (replay_car). Its HASS module
reads a fake Home Assistant (bench/peer_rig.py) that serves the trace's generation and
consumption at the fake time; the consumption meter includes the car's draw, unless
`--subtract-charger-load off`, which uses a meter that leaves the charger out. All of it
runs under libfaketime (`faketime`, Debian package) at `--speedup`, on one fake clock
(FAKETIME_DONT_RESET), inside a private network namespace (`unshare -n`, loopback only)
so that TWCManager's calls out go nowhere. The bench checks the warp from the slave's
side (the heartbeats' cadence in fake time, link drops) and refuses to report a run
whose link broke. twcm: the same trace (same window) through `twcm replay` with its
shipped green defaults and the same car. Figures per system, then twcm ÷ peer.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from twcm.replay import DAYS, replay, replay_settings
from twcm.replay.engine import _unix
from twcm.service.policy import GreenSettings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_rig import STEP_S, load  # noqa: E402 (the bench's own module, beside this one)

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".peer-venv"
PEER_PYTHON = VENV / "bin" / "python"
WARMUP_S = 90.0  # fake seconds for TWCManager to start and link before the window ...
WARMUP_REAL_S = 6.0  # ... and at least this long in real time (its start takes ~2 s)
GAP_LIMIT_MS = 10_000  # a heartbeat gap this long unmasters the slave: the link broke
P99_LIMIT_MS = 1_500  # heartbeats due each second: a p99 above this strains the warp


@dataclass
class Figures:
    car_kwh: float = 0.0
    surplus_kwh: float = 0.0  # into the car, covered by the surplus
    grid_kwh: float = 0.0  # into the car, from the grid
    exported_kwh: float = 0.0
    offer_changes: int = 0
    starts: int = 0  # start/stop cycles: the offer going from 0 to above 0

    @property
    def grid_share(self) -> float:
        return self.grid_kwh / self.car_kwh if self.car_kwh else 0.0


def setup() -> None:
    """The peer's venv and faketime, if missing."""
    if subprocess.run(["which", "faketime"], capture_output=True).returncode:
        print("peer: installing faketime (apt)", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "faketime"], check=True,
                       stdout=subprocess.DEVNULL)
    if not PEER_PYTHON.exists() or subprocess.run(
            [str(PEER_PYTHON), "-c", "import TWCManager"], capture_output=True).returncode:
        print(f"peer: installing twcmanager from PyPI into {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        # growattServer 2 (a dependency of TWCManager's Growatt module, imported at
        # start) is written for Python 3.12: an older one loads on 3.11.
        subprocess.run([str(PEER_PYTHON), "-m", "pip", "install", "-q", "twcmanager",
                        "growattServer<2"], check=True)


def peer_version() -> str:
    out = subprocess.run([str(PEER_PYTHON), "-m", "pip", "show", "twcmanager"],
                         capture_output=True, text=True).stdout
    return next((line.split()[1] for line in out.splitlines()
                 if line.startswith("Version:")), "?")


def run_peer(args: argparse.Namespace, start_s: float, end_s: float,
             rundir: Path) -> dict:
    trace = load(vars(args))
    offset = trace.start.utcoffset() or timedelta(0)
    zone = timezone(offset)
    begin = datetime.fromtimestamp(_unix(trace.start) + start_s - warmup_s(args), zone)
    minutes = int(offset.total_seconds() // 60)
    hh, mm = divmod(abs(minutes), 60)  # POSIX TZ counts west of UTC as positive
    tz = f"<{'-' if minutes < 0 else '+'}{hh:02d}{mm:02d}>{'+' if minutes < 0 else '-'}{hh}:{mm:02d}"
    spec = {"day": args.day, "seed": args.seed, "trace": args.trace, "start_s": start_s,
            "end_s": end_s, "dir": str(rundir), "peer_python": str(PEER_PYTHON),
            "max_amps": args.max_amps, "policy_s": args.policy_s,
            "subtract_charger_load": args.subtract_charger_load == "on",
            "speedup": args.speedup}
    path = rundir / "run.json"
    path.write_text(json.dumps(spec))
    inner = (f"ip link set lo up && exec faketime -f '@{begin:%Y-%m-%d %H:%M:%S} "
             f"x{args.speedup:g}' {sys.executable} {BENCH / 'peer_rig.py'} {path}")
    env = {**os.environ, "FAKETIME_DONT_RESET": "1", "TZ": tz if minutes else "UTC"}
    began = time.monotonic()
    subprocess.run(["unshare", "-n", "--", "sh", "-c", inner], env=env, check=True)
    result = json.loads(path.with_suffix(".result.json").read_text())
    result["wall_s"] = time.monotonic() - began  # the rig's own clocks are fake
    return result


def warmup_s(args: argparse.Namespace) -> float:
    return max(WARMUP_S, WARMUP_REAL_S * args.speedup)


def warp(result: dict) -> tuple[list[str], bool]:
    """The link's health in fake time, from the slave: lines to print, and whether the
    run can be scored."""
    hb = result["heartbeats_ms"]
    gaps = sorted(b - a for a, b in zip(hb, hb[1:]))
    problems = []
    if not result["mastered_at_start"]:
        problems.append("TWCManager had not mastered the slave when the window began")
    if result["drops_s"]:
        problems.append(f"the slave lost its master {len(result['drops_s'])} time(s)")
    if gaps and gaps[-1] >= GAP_LIMIT_MS:
        problems.append(f"a heartbeat gap of {gaps[-1] / 1000:.1f} s")
    if result.get("hass_lost", 0) > 0.01 * max(1, result["hass_requests"]):
        problems.append("over 1 % of the HA requests timed out (2 s fake): the speed-up "
                        "starves the fake Home Assistant")
    if not result["complete"]:
        problems.append("the run ended early (TWCManager exited?)")
    lines = []
    if gaps:
        p99 = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]
        lines.append(f"warp check    {len(hb)} heartbeats; gap median "
                     f"{statistics.median(gaps) / 1000:.2f} s, p99 {p99 / 1000:.2f} s, max "
                     f"{gaps[-1] / 1000:.2f} s (fake time); link drops "
                     f"{len(result['drops_s'])}; {result['hass_requests']} HA requests, "
                     f"{result.get('hass_lost', 0)} timed out; "
                     f"{result['wall_s']:.0f} s wall")
    if gaps and gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))] > P99_LIMIT_MS:
        problems.append(f"heartbeat gaps p99 above {P99_LIMIT_MS / 1000:g} s: too fast a "
                        "speed-up for this machine's load")
    lines += [f"WARP BROKEN   {p}" for p in problems]
    return lines, not problems


def peer_figures(samples: list[list[float]]) -> Figures:
    f, before = Figures(), 0.0
    for _, gen, house, car_wh, offer, _ in samples:
        surplus = max(0.0, gen - house) * STEP_S / 3600 / 1000
        car = car_wh / 1000
        f.car_kwh += car
        f.surplus_kwh += min(car, surplus)
        f.grid_kwh += car - min(car, surplus)
        f.exported_kwh += max(0.0, surplus - car)
        f.offer_changes += offer != before
        f.starts += before == 0 < offer
        before = offer
    return f


def twcm_figures(args: argparse.Namespace, start_s: float, end_s: float):
    green = GreenSettings(subtract_charger_load=True)
    steps = load(vars(args)).resample(STEP_S, start_s, end_s)
    r = replay(steps, replay_settings("green", args.max_amps, green), STEP_S)
    return Figures(r.car_kwh, r.car_surplus_kwh, r.car_grid_kwh, r.exported_kwh,
                   r.offer_changes, r.offer_starts), r


def lines(name: str, f: Figures) -> list[str]:
    return [f"{name}",
            f"  into the car  {f.car_kwh:7.2f} kWh",
            f"  from surplus  {f.surplus_kwh:7.2f} kWh",
            f"  from grid     {f.grid_kwh:7.2f} kWh ({100 * f.grid_share:.1f} %)",
            f"  exported      {f.exported_kwh:7.2f} kWh",
            f"  offer changes {f.offer_changes:7d}",
            f"  start/stops   {f.starts:7d}"]


def ratios(ours: Figures, peer: Figures) -> str:
    def r(a: float, b: float) -> str:
        return f"{a / b:.3f}" if b else "-"
    return (f"twcm / peer   car {r(ours.car_kwh, peer.car_kwh)}, surplus "
            f"{r(ours.surplus_kwh, peer.surplus_kwh)}, grid {r(ours.grid_kwh, peer.grid_kwh)}, "
            f"exported {r(ours.exported_kwh, peer.exported_kwh)}, offer changes "
            f"{r(ours.offer_changes, peer.offer_changes)}, start/stops "
            f"{r(ours.starts, peer.starts)}")


def plot(path: str, title: str, replayed, samples: list[list[float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    origin = replayed.start.replace(tzinfo=None)
    when = [origin + timedelta(seconds=s.t_s) for s in replayed.samples]
    fig, ax = plt.subplots(figsize=(11, 5))
    ax.plot(when, [s.generation_w for s in replayed.samples], color="orange",
            label="generation")
    ax.plot(when, [s.house_w for s in replayed.samples], color="grey", label="house")
    ax.plot(when, [s.car_w for s in replayed.samples], color="green", label="twcm: car draw")
    ax.plot([origin + timedelta(seconds=s[0]) for s in samples],
            [s[3] * 3600 / STEP_S for s in samples], color="purple", linewidth=0.9,
            label="TWCManager: car draw")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.set_ylabel("W")
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = p.add_mutually_exclusive_group()
    src.add_argument("--day", choices=DAYS)
    src.add_argument("--trace", metavar="FILE.csv")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=float, default=0.0, metavar="H",
                   help="begin H hours into the trace (default 0)")
    p.add_argument("--hours", type=float, default=None, metavar="H",
                   help="run only H hours (default: to the trace's end)")
    p.add_argument("--speedup", type=float, default=20.0,
                   help="libfaketime's rate (default 20; the warp check says if it held)")
    p.add_argument("--policy-s", type=float, default=30.0,
                   help="TWCManager's policyCheckInterval (its default 30 s)")
    p.add_argument("--subtract-charger-load", choices=("on", "off"), default="on",
                   help="on: the meter includes the charger (default); off: it leaves "
                        "the charger out")
    p.add_argument("--max-amps", type=int, default=32)
    p.add_argument("--plot", metavar="FILE.png")
    p.add_argument("--keep", metavar="DIR", help="keep the run's files here (TWCManager's "
                   "config.json and log, the samples)")
    p.add_argument("--setup", action="store_true", help="install faketime and the peer only")
    args = p.parse_args()
    setup()
    if args.setup:
        return 0
    if not (args.day or args.trace):
        p.error("give --day or --trace")
    duration = load(vars(args)).duration_s
    start_s = args.start * 3600
    end_s = duration if args.hours is None else min(duration, start_s + args.hours * 3600)
    name = args.trace or f"{args.day} day (seed {args.seed})"
    print(f"peer: TWCManager {peer_version()}, policyCheckInterval {args.policy_s:g} s, "
          f"subtractChargerLoad {args.subtract_charger_load}; {name}, "
          f"{start_s / 3600:g}-{end_s / 3600:g} h, x{args.speedup:g} "
          f"(~{(end_s - start_s + warmup_s(args)) / args.speedup / 60:.0f} min)", flush=True)
    rundir = Path(args.keep or tempfile.mkdtemp(prefix="peer-twcmanager-"))
    rundir.mkdir(parents=True, exist_ok=True)
    result = run_peer(args, start_s, end_s, rundir)
    check, ok = warp(result)
    print("\n".join(check))
    if not ok:
        print(f"peer: the link broke: no figures from this run (files in {rundir})")
        return 1
    peer = peer_figures(result["samples"])
    ours, replayed = twcm_figures(args, start_s, end_s)
    (rundir / "figures.json").write_text(json.dumps({"peer": vars(peer), "twcm": vars(ours)}))
    print("\n".join(lines(f"TWCManager {peer_version()}", peer)
                    + lines("twcm (shipped green defaults)", ours)))
    print(ratios(ours, peer))
    if args.plot:
        plot(args.plot, f"{name}: twcm vs TWCManager", replayed, result["samples"])
        print(f"plot          {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
