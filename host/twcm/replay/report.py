"""The replay's figures as text, and a plot of the day (matplotlib)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from twcm.replay.engine import Result
from twcm.replay.oracle import OracleResult


def capture(result: Result, best: OracleResult) -> float:
    """The replay's kWh from surplus as a fraction of the oracle's."""
    return result.car_surplus_kwh / best.surplus_kwh if best.surplus_kwh else 1.0


def figures(result: Result, best: OracleResult) -> list[str]:
    """The printed report, one figure a line."""
    r = result
    return [
        f"replayed        {r.hours:.1f} h in {r.wall_s:.1f} s",
        f"generation      {r.generation_kwh:7.2f} kWh",
        f"house           {r.house_kwh:7.2f} kWh",
        f"surplus         {r.surplus_kwh:7.2f} kWh (generation above the house load)",
        f"into cars       {r.car_kwh:7.2f} kWh",
        f"  from surplus  {r.car_surplus_kwh:7.2f} kWh",
        f"  from grid     {r.car_grid_kwh:7.2f} kWh ({100 * r.grid_share:.1f} % of the cars' energy)",
        f"exported        {r.exported_kwh:7.2f} kWh (surplus the cars did not take)",
        f"oracle          {best.surplus_kwh:7.2f} kWh from surplus "
        f"({best.grid_kwh:.2f} kWh from grid)",
        f"capture         {100 * capture(r, best):5.1f} % of the oracle",
        f"changes         {r.offer_changes} of a car's offer, {r.site_changes} of the "
        f"site limit; {r.changes_per_hour:.1f} per hour of charging "
        f"({r.charging_hours:.1f} h)",
        f"start/stops     {r.offer_starts} (a car's offer going from 0 to above 0)",
    ] + costs(r)


def costs(r: Result) -> list[str]:
    """The day's cost against the cheapest known afterwards, and the deadline, if the
    replay had a tariff and a car's departure."""
    out = []
    if r.cost is not None and r.best_cost is not None:
        cur = r.currency or ""
        out.append(f"cost          {r.cost:9.2f} {cur} (import x grid kWh - export, house "
                   f"and cars); cheapest known afterwards {r.best_cost:.2f} {cur} "
                   f"(+{r.cost - r.best_cost:.2f})")
    if r.deadline is not None:
        when = datetime.fromtimestamp(r.deadline.at, timezone.utc).strftime("%H:%M UTC")
        out.append(f"deadline      {'met' if r.deadline_met else 'MISSED'}: "
                   f"{r.by_deadline_kwh:.2f} of {r.deadline.kwh:g} kWh by {when}")
    return out


def plot(result: Result, path: str | Path, title: str) -> None:
    """Draw figure() into an image file (PNG, SVG, PDF: by its suffix).

    ImportError if matplotlib (pip install twcm[replay]) is not installed.
    """
    fig = figure(result, title)
    fig.savefig(path, dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)


def figure(result: Result, title: str) -> Any:
    """A matplotlib Figure: generation, house load, the cars' draw and the site limit over
    the time of day (HH:MM; with the date when the replay spans days)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    s = result.samples
    start = result.start  # the trace's own wall clock, as matplotlib would show UTC
    when = [start.replace(tzinfo=None) + timedelta(seconds=x.t_s) for x in s]
    fig, watts = plt.subplots(figsize=(11, 5))
    watts.plot(when, [x.generation_w for x in s], label="generation", color="orange")
    watts.plot(when, [x.house_w for x in s], label="house", color="grey")
    watts.plot(when, [x.car_w for x in s], label="cars' draw", color="green")
    days = (when[-1] - when[0]).days if when else 0
    watts.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %H:%M" if days else "%H:%M"))
    watts.set_xlabel("time of day" + (f" ({start:%Z})" if start.tzinfo else ""))
    watts.set_ylabel("W")
    amps = watts.twinx()
    amps.step(when, [x.site_amps for x in s], where="post", label="site limit",
              color="blue", linewidth=0.8)
    amps.set_ylabel("site limit (A)")
    lines = watts.get_legend_handles_labels()
    more = amps.get_legend_handles_labels()
    watts.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left")
    watts.set_title(title)
    fig.tight_layout()
    return fig
