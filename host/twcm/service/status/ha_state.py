"""The state JSON that Home Assistant's entities read (ha_entities.py's value_templates):
one flat object per site and one per Wall Connector, built from `SiteLoop.status()` and
the site's feeds. Published retained by ha_discovery.py under twcm/<site>/host/ha/.

A value twcm does not know is null, which a value_template renders as "None": HA shows
the entity as unknown, never as 0.
"""
from __future__ import annotations

from typing import Any

from twc.contract import prefix
from twcm.service.site import SiteLoop
from twcm.service.sources.feed import Feed

STATE = "host/ha/"  # after twcm/<site>/
HA_STATE_MAX = 255  # HA refuses a state longer than this
# A TWC's states (docs/mqtt.md, the state's slaves), as the enum sensor's options; "lost"
# for a TWC silent for 26 s, "other" for a state code without a name.
TWC_STATES = ("ready", "charging", "error", "plugged", "asking", "busy", "raising",
              "lowering", "starting", "setting", "adjusted", "unknown-0f", "lost", "other")
DEVICE_HEALTH = ("online", "offline", "silent", "unknown")  # SiteLink.health
# Reading fields per source role (twcm.service.sources ROLES), with what HA calls them.
ROLE_VALUES: dict[str, tuple[str, ...]] = {
    "generation": ("generation_w",), "consumption": ("consumption_w",),
    "grid": ("grid_import_w", "volts"), "battery": ("battery_w", "battery_soc")}
PHASES = 3


def site_topic(site: str) -> str:
    return prefix(site) + STATE + "site"


def twc_topic(site: str, twc: str) -> str:
    return prefix(site) + STATE + "twc/" + twc


def online_topic(site: str) -> str:
    """The host's own availability for this site: retained true, its will false."""
    return prefix(site) + "host/online"


def _round(v: float | None, digits: int = 1) -> float | None:
    return None if v is None else round(v, digits)


def slave_power_w(slave: dict[str, Any]) -> float | None:
    """A TWC's draw in W: its amps on each phase that has a voltage; None before its
    first voltage reading."""
    volts = [v for v in slave["volts"] if v > 0]
    return round(slave["actual_amps"] * sum(volts), 1) if volts else None


def twc_state(slave: dict[str, Any] | None) -> dict[str, Any]:
    """The state of one TWC, from the status's slave (None: the device does not list it)."""
    if slave is None:
        return {"listed": False}
    volts = list(slave["volts"])[:PHASES] + [0] * (PHASES - len(slave["volts"]))
    known = any(v > 0 for v in volts)
    state = "lost" if slave["link"] == "lost" else slave["state"]
    out = {
        "listed": True, "link": slave["link"],
        "state": state if state in TWC_STATES else "other", "raw_state": slave["state"],
        "amps": slave["actual_amps"], "offered_amps": slave["offered_amps"],
        "power_w": slave_power_w(slave), "lifetime_kwh": slave["lifetime_kwh"],
        "vin": slave["vin"], "cap_amps": slave["cap_amps"], "max_amps": slave["max_amps"],
        "protocol": slave["protocol"], "wanting": slave["wanting"]}
    for i, v in enumerate(volts, 1):
        out[f"voltage_l{i}"] = v if known else None
        out[f"current_l{i}"] = (slave["actual_amps"] if v > 0 else 0.0) if known else None
    return out


def _feed_state(feed: Feed, status: dict[str, Any]) -> dict[str, Any]:
    """One source: what it reads (its roles' values) and its health."""
    latest = feed.latest
    out: dict[str, Any] = {"ok": status["ok"] and status["stale"] is None,
                           "stale": status["stale"], "error": status["error"]}
    for role in feed.roles:
        for key in ROLE_VALUES.get(role, ()):
            out[key] = None if latest is None else _round(getattr(latest, key))
    return out


def site_state(site: SiteLoop, status: dict[str, Any]) -> dict[str, Any]:
    """The state of the site: what the chargers draw, the lease and the claim behind it,
    the device's health, the combined readings and each source's."""
    device = status["device"]["state"]
    slaves = device["slaves"] if device else []
    powers = [slave_power_w(s) for s in slaves]
    d = status["decision"]
    readings = status["readings"] or {}
    feeds = {s["name"]: s for s in status["sources"]}
    return {
        "power_w": (None if device is None or None in powers
                    else round(sum(p for p in powers if p is not None), 1)),
        "amps": None if device is None else round(sum(s["actual_amps"] for s in slaves), 2),
        "lease_amps": status["lease_amps"],
        "limit_amps": None if device is None else device["limit_amps"],
        "limit_source": None if device is None else device["source"],
        "claim": None if d is None else d["set_by"] or "none",
        "reason": None if d is None else d["reason"][:HA_STATE_MAX],
        "capped_by": None if d is None else d["capped_by"],
        "claims": [] if d is None else d["claims"],
        "device_health": status["device"]["health"],
        "version": None if device is None else device["version"],
        **{key: _round(readings.get(key)) for keys in ROLE_VALUES.values() for key in keys},
        "sources": {f.name: _feed_state(f, feeds[f.name]) for f in site.meters.feeds
                    if f.name in feeds},
    }
