"""The commands of TWCManager's WebIPC (docs/webipc.md) on one twcm site: each text command
of a legacy PHP page or openWB 1.x, carried out through SiteLoop's public methods only.

`handle(site, command)` returns the reply text, or raises ValueError (Refused, or the
site's own ConfigError / ValueError) with a reason a user can act on; nothing changes then.
The queue and its framing are webipc.py's.
"""
from __future__ import annotations

import json
import re
from datetime import time, timedelta
from typing import Any

from twc.proto import STATE_NAMES
from twcm.service.policy import Decision
from twcm.service.policy.schedule import DAY_NAMES
from twcm.service.site import SiteLoop

# What the original's chargeNow means: the whole site's wiring limit for one day.
CHARGE_NOW_FOR = timedelta(hours=24)
NEVER = "-1:00"  # the original's "no time" (no schedule, never resume green tracking)
QUERIES = ("getStatus", "dumpState", "getLastTWCMsgResponse")  # answered even to id 0
_RAW = ("twcm never puts a message of its own on the RS-485 bus: every current goes "
        "through the policy's claims and the device's sharing")
REFUSED = {
    "sendTWCMsg": _RAW,
    "getLastTWCMsgResponse": _RAW + ", so there is no response to show",
    "setMasterHeartbeatData": _RAW + " (use Charge Now or setNonScheduledAmps instead)",
    "carApiEmailPassword": "twcm has no Tesla account login; the device starts and stops "
                           "charging by the current it offers",
    "setDebugLevel": "the log level is the service's: set [log] level in twcm.toml or "
                     "start twcm run with --log-level",
}
_CODES = {name: code for code, name in STATE_NAMES.items()}
_TIME = re.compile(r"(-?\d{1,2}):(\d{2})")
_WHOLE = re.compile(r"-?\d+")


class Refused(ValueError):
    """A command that does not map onto twcm, or a bad argument; str() is the reason."""


def verb(command: str) -> str:
    """The command's name: what comes before "=" (the arguments may be secret)."""
    return command.partition("=")[0].strip()


def handle(site: SiteLoop, command: str) -> str:
    """Carry out one command on `site`; the reply text."""
    name, _, arg = command.partition("=")
    name = name.strip()
    if name in REFUSED:
        raise Refused(f"{name}: not done: {REFUSED[name]}")
    if name == "getStatus":
        return status_text(site.status(), site.config.max_amps)
    if name == "dumpState":
        return dump(site.status())
    if name == "chargeNow":
        return _ok(site.charge_now(site.config.max_amps, CHARGE_NOW_FOR))
    if name == "chargeNowCancel":
        return _ok(site.cancel_charge_now())
    if name == "setNonScheduledAmps":
        return _change(site, _non_scheduled(_whole(name, arg)))
    if name == "setScheduledAmps":
        return _change(site, _schedule(site, arg))
    if name == "setResumeTrackGreenEnergyTime":
        if _clock(name, arg.strip()) != NEVER:
            raise Refused(f"{name}: twcm has no time at which Track Green Energy resumes; "
                          f'give {NEVER} ("never"), or use a weekly window')
        return "OK: unchanged"
    raise Refused(f"unknown command {name[:40]!r}: give one of getStatus, dumpState, "
                  "chargeNow, chargeNowCancel, setNonScheduledAmps=N, setScheduledAmps=..., "
                  "setResumeTrackGreenEnergyTime=-1:00")


def _ok(decision: Decision) -> str:
    return f"OK: {decision.amps} A: {decision.reason}"


def _change(site: SiteLoop, changes: dict[str, Any]) -> str:
    """change_settings, unless every value is in force already: a legacy page sends all of
    its form on each Save, and openWB repeats its current; those need no runtime change."""
    shown = site.status()["settings"]
    if all(shown.get(k, {}).get("value") == v for k, v in changes.items()):
        return "OK: unchanged"
    return _ok(site.change_settings(changes))


def _whole(name: str, arg: str) -> int:
    if not _WHOLE.fullmatch(arg.strip()):
        raise Refused(f"{name}: {arg.strip()[:20]!r} is not a whole number of amps")
    return int(arg)


def _non_scheduled(amps: int) -> dict[str, Any]:
    """The original's nonScheduledAmpsMax: -1 tracks green energy, 0 does not charge, N
    charges at N A (checked by change_settings: 1 to max_amps)."""
    if amps == -1:
        return {"non_scheduled": "track_green"}
    if amps == 0:
        return {"non_scheduled": "do_not_charge"}
    if amps < 0:
        raise Refused(f"setNonScheduledAmps: {amps} is not allowed: give -1 (track green "
                      "energy), 0 (do not charge) or the amps to charge at")
    return {"non_scheduled": "fixed", "non_scheduled_amps": amps}


def _clock(name: str, text: str) -> str:
    """An original time of day ("H:MM", "HH:MM", or -1:00 for none) as "HH:MM"."""
    m = _TIME.fullmatch(text)
    if m is None or not (int(m[1]) == -1 and m[2] == "00"
                         or 0 <= int(m[1]) <= 23 and int(m[2]) <= 59):
        raise Refused(f"{name}: {text[:20]!r} is not a time of day: give HH:MM, e.g. 22:00")
    return NEVER if int(m[1]) == -1 else f"{int(m[1]):02d}:{m[2]}"


def _schedule(site: SiteLoop, arg: str) -> dict[str, Any]:
    """setScheduledAmps=N\\nstartTime=HH:MM\\nendTime=HH:MM\\ndays=BITMAP as the site's
    weekly windows: N = -1 none, else one window replacing them all, unless it is the one
    getStatus shows (a page's Save of an unchanged form keeps every window)."""
    first, *rest = arg.split("\n")
    fields = dict(line.partition("=")[::2] for line in rest if line.strip())
    amps = _whole("setScheduledAmps", first)
    if amps == -1:
        return {"windows": []}
    if amps < 0:
        raise Refused(f"setScheduledAmps: {amps} is not allowed: give -1 (no schedule) or "
                      "the amps to charge at")
    missing = [k for k in ("startTime", "endTime", "days") if k not in fields]
    if missing:
        raise Refused(f"setScheduledAmps: {', '.join(missing)} missing: give startTime=HH:MM, "
                      "endTime=HH:MM and days=BITMAP on lines of their own")
    start = _clock("startTime", fields["startTime"].strip())
    end = _clock("endTime", fields["endTime"].strip())
    bits = fields["days"].strip()
    if not bits.isdigit() or not 0 < int(bits) < 128 or NEVER in (start, end):
        raise Refused(f"setScheduledAmps: days={bits[:20]} startTime={start} endTime={end} is "
                      "not a window: give days 1-127 (bit 0 Monday ... bit 6 Sunday) and "
                      "times 00:00-23:59, or setScheduledAmps=-1 for none")
    if (amps, start, end, int(bits)) == legacy_schedule(site.status()):
        return {"windows": site.status()["settings"]["windows"]["value"]}
    days = [d for i, d in enumerate(DAY_NAMES) if int(bits) >> i & 1]
    return {"windows": [{"days": days, "start": start, "end": end, "amps": amps}]}


def legacy_schedule(status: dict[str, Any]) -> tuple[int, str, str, int]:
    """The site's windows as the original's one schedule (amps, start, end, days bitmap):
    the first window, with the days of every window of the same times and amps; (-1,
    -1:00, -1:00, 0) without windows."""
    windows = status["settings"]["windows"]["value"]
    if not windows:
        return -1, NEVER, NEVER, 0
    def key(w: dict[str, Any]) -> tuple[int, str, str]:
        return w["amps"], _hhmm(w["start"]), _hhmm(w["end"])

    same = [x for x in windows if key(x) == key(windows[0])]
    bits = sum(1 << DAY_NAMES.index(d) for d in {d for x in same for d in x["days"]})
    return (*key(windows[0]), bits)


def _hhmm(text: str) -> str:
    return time.fromisoformat(text).strftime("%H:%M")


def _f(amps: float | None) -> str:
    return f"{amps or 0:.2f}"


def status_text(status: dict[str, Any], max_amps: int) -> str:
    """getStatus in the original's format: fields split by "`", one per Wall Connector at
    the end ("~" between its id, max amps, actual amps, offered amps and state code)."""
    settings = {k: v["value"] for k, v in status["settings"].items()}
    state = status["device"]["state"] or {}
    lease = status["lease_amps"]
    if lease is None:  # no lease: the device decides on its own
        lease = state.get("limit_amps", 0)
    action = settings["non_scheduled"]
    non_scheduled = {"track_green": -1, "do_not_charge": 0}.get(
        action, settings["non_scheduled_amps"])
    amps, start, end, days = legacy_schedule(status)
    charge_now = status["charge_now"]["amps"] if status["charge_now"] else 0
    slaves = state.get("slaves", [])
    fields = [_f(lease), _f(max_amps), _f(settings["min_amps"]), _f(charge_now),
              str(non_scheduled), str(amps), start, end, str(days), NEVER, "0", str(len(slaves))]
    for s in slaves:
        most = s.get("max_amps") or state.get("wiring_max_amps_per_twc", max_amps)
        fields.append("~".join((s["id"].upper(), f"{most:g}", _f(s["actual_amps"]),
                                str(s["offered_amps"]), str(_state_code(s["state"])))))
    return "`".join(fields)


def _state_code(name: str) -> int:
    """The slave's state byte back from its name in the device's state ("0x.." unnamed)."""
    if name in _CODES:
        return _CODES[name]
    try:
        return int(name, 16)
    except ValueError:
        return -1


def dump(status: dict[str, Any]) -> str:
    """dumpState: the site's status, one top-level key a line."""
    return "".join(f"{k}={json.dumps(v, separators=(',', ':'))}\n" for k, v in status.items())
