"""Days to replay: synthetic clear and cloudy days, and one measured day.

The synthetic days are minute by minute, the same for the same seed: a
bell of solar generation from 06:00 to 20:00 (cloudy: passing clouds let
through 15-60 %) and a house load (base, morning and evening peaks, and
appliances switching on at random). The measured day is 2022-03-19 at
NREL's SERF site (Golden, Colorado): 1-minute AC power of the SERF East
array as the pvanalytics package ships it, scaled to a house-size array,
with the synthetic house load.
"""
from __future__ import annotations

import csv
import math
import random
from datetime import datetime
from importlib import resources

from twcm.replay.trace import Trace

DAYS = ("clear", "cloudy", "measured")
MINUTES = 24 * 60
SUNRISE_H, SUNSET_H = 6.0, 20.0
PEAK_W = 7000.0  # the array's peak output: a house-size roof
DATE = datetime(2026, 6, 21)
MEASURED_FILE = "serf_east_1min_ac_power.csv"
MEASURED_DATE = "2022-03-19"
# (start hour, end hour, watts) the house uses on top of its base load.
PEAKS = ((6.5, 8.0, 900.0), (12.0, 13.0, 600.0), (18.0, 21.5, 1200.0))
# Appliances: (watts, minutes) for a kettle, an oven, a washing machine.
APPLIANCES = ((2000.0, 4), (2500.0, 45), (600.0, 90))


def clear_sky_w(minute: float, peak_w: float = PEAK_W) -> float:
    """A clear day's generation at this minute of the day."""
    x = (minute / 60.0 - SUNRISE_H) / (SUNSET_H - SUNRISE_H)
    return peak_w * math.sin(math.pi * x) ** 1.4 if 0.0 < x < 1.0 else 0.0


def house_load(seed: int) -> list[float]:
    """Watts for every minute of the day: base, peaks and a few appliances."""
    rng = random.Random(seed)
    load = [250.0 + 60.0 * rng.random() for _ in range(MINUTES)]
    for start, end, watts in PEAKS:
        for m in range(int(start * 60), int(end * 60)):
            load[m] += watts
    for _ in range(6):
        watts, length = rng.choice(APPLIANCES)
        at = rng.randrange(7 * 60, 22 * 60)
        for m in range(at, min(MINUTES, at + length)):
            load[m] += watts
    return load


def _clouds(seed: int) -> list[float]:
    """Fraction of the clear-sky output let through, minute by minute."""
    rng = random.Random(seed)
    out: list[float] = []
    cloudy, level = False, 1.0
    for _ in range(MINUTES):
        if rng.random() < (0.12 if cloudy else 0.06):  # clouds of ~8 min, gaps of ~16
            cloudy = not cloudy
            level = 0.15 + 0.45 * rng.random() if cloudy else 1.0
        target = level if cloudy else 1.0
        out.append(target if not out else 0.5 * (out[-1] + target))
    return out


def _trace(gen: list[float], house: list[float], start: datetime = DATE) -> Trace:
    times = tuple(60.0 * m for m in range(len(gen)))
    return Trace(start, times, tuple(gen), tuple(house))


def clear_day(seed: int = 1) -> Trace:
    return _trace([clear_sky_w(m) for m in range(MINUTES)], house_load(seed))


def cloudy_day(seed: int = 1) -> Trace:
    clouds = _clouds(seed)
    gen = [clear_sky_w(m) * c for m, c in zip(range(MINUTES), clouds)]
    return _trace(gen, house_load(seed))


def measured_day(seed: int = 1, peak_w: float = PEAK_W) -> Trace:
    """The SERF East array on 2022-03-19 scaled to peak_w, with a house load.

    ImportError if pvanalytics (pip install twcm[replay]) is not installed.
    """
    data = resources.files("pvanalytics") / "data" / MEASURED_FILE
    watts = [0.0] * MINUTES
    with data.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            stamp = row["measured_on"]
            if stamp.startswith(MEASURED_DATE) and row["ac_power__752"]:
                t = datetime.fromisoformat(stamp)
                watts[t.hour * 60 + t.minute] = max(0.0, float(row["ac_power__752"]))
    top = max(watts)
    gen = [w * peak_w / top for w in watts]
    return _trace(gen, house_load(seed), datetime.fromisoformat(MEASURED_DATE))


def day(name: str, seed: int = 1) -> Trace:
    """One of DAYS by name."""
    if name == "clear":
        return clear_day(seed)
    if name == "cloudy":
        return cloudy_day(seed)
    if name == "measured":
        return measured_day(seed)
    raise ValueError(f"day: {name!r} is not one of {', '.join(DAYS)}")
