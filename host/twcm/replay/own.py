"""The replay's site from a user's own [[site]] table (`twcm replay --from-db`): their
policy, windows, offsets and time zone, with the changes asked for, fitted to what the
replay simulates. SiteLoop runs it exactly as for `replay_settings`' site.

What is fitted, and said in `notes`: the replay's Wall Connectors are single phase at
230 V and its consumption meter includes them (so `subtract_charger_load` is on: the
policy sees the house as the user's did), and a trace has no home battery (so no
battery gate).
"""
from __future__ import annotations

from typing import Any

from twcm.replay.device import VOLTS
from twcm.replay.engine import SITE
from twcm.service.config import SiteConfig
from twcm.service.policy import Settings

NON_SCHEDULED = {"green": "track_green", "fixed": "fixed", "off": "do_not_charge"}


def own_site(site: SiteConfig, decide_s: float, mode: str | None = None,
             max_amps: int | None = None, flex_w: float | None = None,
             deadband_amps: float | None = None) -> tuple[SiteConfig, Settings, list[str]]:
    """The replay's site config and its Settings, and a line per value fitted. Changes
    given as None keep the user's value; ValueError as the config's checks raise it."""
    data: dict[str, Any] = site.model_dump(exclude_none=True)
    policy, green = data["policy"], data["policy"]["green"]
    notes = []
    if (policy["volts"], policy["phases"]) != (VOLTS, 1):
        notes.append(f"volts × phases {policy['volts']:g} × {policy['phases']} replayed as "
                     f"{VOLTS} × 1 (the replay's Wall Connectors)")
    if policy.pop("battery_min_soc", None) is not None:
        notes.append("battery_min_soc left out (a trace has no home battery)")
    policy.update(volts=float(VOLTS), phases=1)
    green["subtract_charger_load"] = True
    if max_amps is not None:
        data["max_amps"] = max_amps
    if mode is not None:
        policy["non_scheduled"] = NON_SCHEDULED[mode]
        if mode == "fixed":
            policy["non_scheduled_amps"] = data["max_amps"]
    if flex_w is not None:
        green["flex_w"] = flex_w
    if deadband_amps is not None:
        green["deadband_amps"] = deadband_amps
    data.update(name=SITE, interval_s=decide_s, source={"type": "static"}, combine={})
    config = SiteConfig.model_validate(data)
    return config, config.settings(), notes
