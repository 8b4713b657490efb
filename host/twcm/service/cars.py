"""The [[site.car]] rules (docs/cars.md) as the device keeps them, and what each Wall
Connector's car gets.

The rules are enforced on the device (firmware/twc/cars.py), by the VIN its Wall
Connector reports, so that they hold with the host down: SiteLoop pushes them with
SiteLink.cars (twcm/<site>/cars/set, docs/mqtt.md) and the device's sharing applies
them. The host only words them here: the payload, the config checks, and the status.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twcm.service.config_problems import Problem, bad

if TYPE_CHECKING:
    from twcm.service.config import CarConfig, SiteConfig
    from twcm.service.devicelink.site import DeviceState


def device_rules(cars: list[CarConfig]) -> list[dict[str, Any]]:
    """The cars/set payload: one rule per car, only the keys it sets."""
    out = []
    for c in cars:
        rule: dict[str, Any] = {"vin": c.vin}
        if not c.allow:
            rule["allow"] = False
        if c.max_amps is not None:
            rule["max_amps"] = c.max_amps
        if c.min_amps is not None:
            rule["min_amps"] = c.min_amps
        if c.priority:
            rule["priority"] = c.priority
        out.append(rule)
    return out


def car_problems(i: int, site: SiteConfig) -> list[Problem]:
    """What the CarConfig model alone cannot see: a minimum above the car's or the site's
    maximum (the car could never charge)."""
    problems = []
    for k, c in enumerate(site.car):
        if c.min_amps is None:
            continue
        where = ("site", i, "car", k, "min_amps")
        if c.max_amps is not None and c.min_amps > c.max_amps:
            problems.append(bad(where, c.min_amps, f"is above this car's max_amps "
                                f"{c.max_amps}", "lower it, or raise max_amps"))
        elif c.min_amps > site.max_amps:
            problems.append(bad(where, c.min_amps, f"is above the site's max_amps "
                                f"{site.max_amps}: the car could never charge",
                                "lower it to at most the site's max_amps"))
    return problems


def rule_words(c: CarConfig) -> str:
    """A car's rule in words, for the status and the log."""
    if not c.allow:
        return "not allowed to charge (0 A)"
    parts = []
    if c.max_amps is not None:
        parts.append(f"at most {c.max_amps} A")
    if c.min_amps is not None:
        parts.append(f"at least {c.min_amps} A")
    if c.priority:
        parts.append(f"priority {c.priority}")
    return ", ".join(parts) or "the site's ways"


def cars_status(cars: list[CarConfig], state: DeviceState | None) -> dict[str, Any]:
    """Per Wall Connector the device lists: its car (VIN and name, when known), the
    [[site.car]] rule for it ("rule", in words; null for a car no table names) and the
    rule the device applies now ("on_device": null while it applies none)."""
    by_vin = {c.vin: c for c in cars}
    out: dict[str, Any] = {}
    for s in state.slaves if state is not None else ():
        on_device = s.car_rule
        vin = s.vin or (on_device.vin if on_device is not None else None)
        car = by_vin.get(vin) if vin is not None else None
        out[s.id] = {
            "vin": vin, "name": car.name if car is not None else None,
            "rule": None if car is None else rule_words(car),
            "on_device": None if on_device is None else {
                "max_amps": on_device.max_amps, "min_amps": on_device.min_amps,
                "priority": on_device.priority}}
    return out
