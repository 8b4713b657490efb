"""TWCManager's wiring limits, green settings, schedule and non-scheduled action (config.json
`config`, settings.json) as a twcm site's `max_amps` and `[site.policy]`."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from twcm.twcmanager_import.reading import Section
from twcm.twcmanager_import.report import Report

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # bit 0 of the bitmap is Monday
DAY_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ACTIONS = {1: "fixed", 2: "do_not_charge", 3: "track_green"}


@dataclass
class Limits:
    max_amps: int
    device_all: int | None  # the device config's wiring_max_amps_all
    device_per_twc: int | None  # and wiring_max_amps_per_twc
    volts: float
    phases: int


@dataclass
class PolicyOut:
    policy: dict[str, Any] = field(default_factory=dict)  # [site.policy] keys
    green: dict[str, Any] = field(default_factory=dict)  # [site.policy.green] keys
    windows: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # key -> its comment


def whole_amps(sec: Section, name: str, low: int, high: int, report: Report, what: str,
          default: float | None = None) -> int | None:
    """Whole amps within low..high: rounded down (less current is the safe side) and
    clamped, each change reported."""
    value = sec.number(name, default)
    if value is None:
        return None
    amps = math.floor(value)
    if amps != value:
        report.change(f"{sec.label(name)}: {value:g} A rounded down to {amps} A ({what} takes "
                      "whole amps)")
    if not low <= amps <= high:
        clamped = min(max(amps, low), high)
        report.change(f"{sec.label(name)}: {amps} A is outside {what}'s {low}-{high} A: "
                      f"{clamped} A")
        amps = clamped
    return amps


def limits(cfg: Section, report: Report) -> Limits:
    if not cfg.has("wiringMaxAmpsAllTWCs"):
        raise cfg.error("wiringMaxAmpsAllTWCs", "is missing: TWCManager does not start "
                        "without it", "give the shared wiring's rating in amps")
    max_amps = whole_amps(cfg, "wiringMaxAmpsAllTWCs", 1, 240, report, "a site's max_amps")
    assert max_amps is not None
    all_raw = cfg.number("wiringMaxAmpsAllTWCs")
    per_raw = cfg.number("wiringMaxAmpsPerTWC")
    device_all = min(max(math.floor(all_raw or 0), 5), 240)
    device_per = None if per_raw is None else min(max(math.floor(per_raw), 5), 80)
    if device_all != math.floor(all_raw or 0) or (
            per_raw is not None and device_per != math.floor(per_raw)):
        report.change("the device config takes wiring_max_amps_all 5-240 A and "
                      "wiring_max_amps_per_twc 5-80 A: the values shown for it are clamped")
    volts = cfg.number("defaultVoltage", 240.0)  # TWCManager's own default: 240 V
    assert volts is not None
    if not 90 <= volts <= 300:
        report.change(f"{cfg.key('defaultVoltage')}: {volts:g} V is outside twcm's 90-300 V: "
                      "230 V is used until the Wall Connectors report their voltage")
        volts = 230.0
    phases = cfg.number("numberOfPhases", 1)
    if phases not in (1, 2, 3):
        report.change(f"{cfg.key('numberOfPhases')}: {phases!r} is not 1, 2 or 3: 1 is used")
        phases = 1
    return Limits(max_amps, device_all, device_per, volts, int(phases or 1))


def green(cfg: Section, settings: Section | None, lim: Limits, out: PolicyOut,
          report: Report) -> None:
    """subtractChargerLoad, offsets, flex and the start/stop delay."""
    g = out.green
    g["subtract_charger_load"] = cfg.flag("subtractChargerLoad")
    offset_a = cfg.number("greenEnergyAmpsOffset", 0.0) or 0.0
    offset_w = 0.0
    names = []
    offsets = settings.section("consumptionOffset") if settings else None
    for name in offsets.names() if offsets else []:
        entry = offsets.section(name)
        unit = entry.text("unit", "W")
        amount = entry.number("value", 0.0) or 0.0
        if unit not in ("W", "A"):
            raise entry.error("unit", 'is not "W" or "A"', 'give "W" or "A"')
        if unit == "A":
            offset_a += amount
        else:
            offset_w += amount
        names.append(name)
    if offset_w:
        g["offset_w"] = offset_w
    if offset_a:
        g["offset_amps"] = offset_a
    if names:
        out.notes["offset_w" if offset_w else "offset_amps"] = (
            "consumption offsets " + ", ".join(names) + " added up")
    flex = cfg.number("greenEnergyFlexAmps", 0.0) or 0.0
    if flex < 0:
        raise cfg.error("greenEnergyFlexAmps", "is below 0", "give 0 or more amps")
    if flex:
        g["flex_w"] = round(flex * lim.volts * lim.phases, 1)
        out.notes["flex_w"] = (f"greenEnergyFlexAmps {flex:g} A x {lim.volts:g} V x "
                               f"{lim.phases} phase(s)")
        if not cfg.flag("useFlexAmpsToStartCharge"):
            report.change("config.greenEnergyFlexAmps: twcm also uses flex_w to start "
                          "charging at the minimum (TWCManager only with "
                          "useFlexAmpsToStartCharge)")
    delay = cfg.number("startStopDelay")
    if delay is not None:
        if delay < 0:
            raise cfg.error("startStopDelay", "is below 0", "give 0 or more seconds")
        g["start_delay_s"] = g["stop_delay_s"] = delay
        out.notes["start_delay_s"] = out.notes["stop_delay_s"] = "startStopDelay"


def _hhmm(hours: float) -> str:
    minutes = round(hours * 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _clock(sec: Section, name: str) -> str | None:
    """An "HH:MM" time of the schedule page; None if not set."""
    text = sec.text(name)
    if text is None:
        return None
    try:
        t = time.fromisoformat(text)
    except ValueError:
        raise sec.error(name, "is not a time of day", 'give "HH:MM", e.g. "22:00"') from None
    return f"{t.hour:02d}:{t.minute:02d}"


def _window(days: list[str], start: str, end: str, amps: int, where: str,
            report: Report) -> dict[str, Any] | None:
    if start == end:
        report.change(f"{where}: starts and ends at {start}: TWCManager never charged in "
                      "it (twcm would read it as 24 hours), so it is left out")
        return None
    return {"days": days, "start": start, "end": end, "amps": amps}


def schedule(settings: Section, lim: Limits, out: PolicyOut, report: Report) -> None:
    """scheduledAmps* (or the per-day schedule when its page chose one) as windows."""
    amps = whole_amps(settings, "scheduledAmpsMax", 0, lim.max_amps, report, "a window", 0)
    sched = settings.section("Schedule")
    per_day = sched.section("Settings").text("schedulePerDay") == "1"
    if per_day:
        groups: dict[tuple[str, str], list[str]] = {}
        for word, day in zip(DAY_WORDS, DAYS):
            entry = sched.section(word)
            start, end = _clock(entry, "start"), _clock(entry, "end")
            if entry.flag("enabled") and start is not None and end is not None:
                groups.setdefault((start, end), []).append(day)
        if amps and groups:
            report.change("settings.json: Schedule: TWCManager's engine ran the common "
                          "schedule only; twcm runs each day's own times from its schedule "
                          "page")
            for (start, end), days in groups.items():
                w = _window(days, start, end, amps, "settings.json: Schedule", report)
                if w:
                    out.windows.append(w)
            return
    start = settings.number("scheduledAmpsStartHour", -1)
    end = settings.number("scheduledAmpsEndHour", -1)
    bitmap = settings.number("scheduledAmpsDaysBitmap", 0x7F)
    for name, v in (("scheduledAmpsStartHour", start), ("scheduledAmpsEndHour", end)):
        if v is not None and v != -1 and not 0 <= v <= 24:
            raise settings.error(name, "is not an hour of the day",
                                 "give 0 to 24 (fractions are minutes), or -1 for none")
    if bitmap is None or not float(bitmap).is_integer() or not 0 <= bitmap <= 127:
        raise settings.error("scheduledAmpsDaysBitmap", "is not a days bitmap",
                             "give 0-127: 1 Monday, 2 Tuesday, 4 Wednesday ... 64 Sunday")
    assert start is not None and end is not None
    days = [d for i, d in enumerate(DAYS) if int(bitmap) & (1 << i)]
    if not (amps and start >= 0 and end >= 0 and days):
        return
    if start == end:
        report.change("settings.json: scheduledAmpsStartHour equals scheduledAmpsEndHour: "
                      "TWCManager never charged in it, so no window is written")
        return
    w = _window(days, _hhmm(start), _hhmm(end), amps, "settings.json: scheduledAmps*", report)
    if w:
        out.windows.append(w)


def non_scheduled(settings: Section, lim: Limits, out: PolicyOut, report: Report) -> None:
    """nonScheduledAction and nonScheduledAmpsMax (TWCManager's defaults: 1 and 0 A)."""
    action = settings.number("nonScheduledAction", 1)
    if action not in ACTIONS:
        raise settings.error("nonScheduledAction", "is not 1, 2 or 3",
                             "give 1 (charge at a fixed rate), 2 (do not charge) or 3 "
                             "(track green energy)")
    out.policy["non_scheduled"] = ACTIONS[int(action or 1)]
    if action == 1:
        amps = whole_amps(settings, "nonScheduledAmpsMax", 0, lim.max_amps, report,
                     "non_scheduled_amps", 0)
        out.policy["non_scheduled_amps"] = amps
        report.change("settings.json: nonScheduledAction 1 (fixed rate): TWCManager still "
                      "tracked green energy between sunrise and sunset; twcm's \"fixed\" "
                      f"charges at {amps} A all day. For the sun by day, set non_scheduled = "
                      "\"track_green\" and add a window for the night hours")
