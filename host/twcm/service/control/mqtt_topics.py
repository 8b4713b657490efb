"""The host's setting topics (docs/mqtt.md, "Host topics"): which paths there are, how a
`twcm/<site>/host/<path>/set` payload becomes a call of the site's public interface, and
the retained value published under `twcm/<site>/host/<path>`.

A path is `charge_now`; a `[site.policy]` key (`non_scheduled`, `non_scheduled_amps`,
`windows`, `min_amps` ...); `green/<key>` for `[site.policy.green]`; and per Wall
Connector `twc/<id>/cap` and `twc/<id>/charging`. The policy paths come from the config's
own model, so a key added there gets its topic without a change here.

Payloads are plain where natural (`16`, `fixed`, `true`), JSON for lists and objects; an
empty payload (or `null`) sets a policy key back to the config file's value.
"""
from __future__ import annotations

import json
import types
import typing
from functools import cache
from typing import Any

from pydantic import BaseModel

from twcm.service.config import PolicyConfig
from twcm.service.control.requests import Control, Rejected
from twcm.service.site import SiteLoop

CHARGE_NOW = "charge_now"
SET = "/set"
# Subscriptions after twcm/<site>/host/: top-level keys and charge_now, a table's keys,
# a TWC's.
SET_FILTERS = ("+/set", "+/+/set", "twc/+/+/set")
# A TWC's states (docs/mqtt.md, the state's slaves) while a car charges on it.
CHARGING = ("charging", "starting", "raising", "lowering")
_WORDS = {"true": True, "on": True, "false": False, "off": False}


@cache
def setting_paths() -> dict[str, tuple[tuple[str, ...], Any]]:
    """Each policy path with its place in the [site.policy] table and its type:
    {"min_amps": (("min_amps",), int), "green/flex_w": (("green", "flex_w"), float), ...}."""
    paths: dict[str, tuple[tuple[str, ...], Any]] = {}
    tables = []
    for key, field in PolicyConfig.model_fields.items():
        table = field.annotation
        if isinstance(table, type) and issubclass(table, BaseModel):
            tables.append((key, table))
        else:
            paths[key] = ((key,), table)
    for key, table in tables:  # after the plain keys
        for sub, inner in table.model_fields.items():
            paths[f"{key}/{sub}"] = ((key, sub), inner.annotation)
    return paths


def _types(annotation: Any) -> tuple[Any, ...]:
    """The plain types a field takes: int | None -> (int, NoneType)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return typing.get_args(annotation)
    return (annotation,)


def _refuse_constant(name: str) -> Any:
    raise Rejected(f"{name} is not a number: give a finite number")


def parse(raw: bytes, annotation: Any = None) -> Any:
    """A payload's value: None if empty or `null`, JSON if it is JSON, else the text
    itself (`fixed`). `on`/`off` for a bool, `16.0` for a whole number, as HA sends them."""
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Rejected("the payload is not UTF-8 text") from None
    if not text:
        return None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as e:
        if isinstance(e, Rejected):
            raise
        if text[0] in "[{":
            raise Rejected(f"the payload is not valid JSON: {e}") from None
        value = text
    kinds = _types(annotation)
    if bool in kinds and isinstance(value, str) and value.lower() in _WORDS:
        value = _WORDS[value.lower()]
    if int in kinds and float not in kinds and isinstance(value, float) and value.is_integer():
        value = int(value)
    return value


def _why(e: ValueError) -> str:
    """A ConfigError's lines (each naming the key and the fix) as one reason."""
    return "; ".join(getattr(e, "lines", None) or [str(e)])


def apply(control: Control, site: str, path: str, raw: bytes) -> str:
    """Carry out one `<path>/set` for `site`; what was done, for the log. Rejected with
    a reason a user can act on, and nothing changed, if it is not allowed."""
    if path == CHARGE_NOW:
        return _charge_now(control, site, raw)
    loop = control.site(site)
    parts = path.split("/")
    if len(parts) == 3 and parts[0] == "twc":
        return _twc(loop, parts[1], parts[2], raw)
    try:
        (key, *sub), annotation = setting_paths()[path]
    except KeyError:
        raise Rejected(f"no setting {path!r}: give one of {CHARGE_NOW}, "
                       f"{', '.join(setting_paths())}, twc/<id>/cap, "
                       "twc/<id>/charging") from None
    value = parse(raw, annotation)
    try:
        loop.change_settings({key: {sub[0]: value} if sub else value})
    except ValueError as e:
        raise Rejected(_why(e)) from None
    return f"{path} = {'the config file value' if value is None else json.dumps(value)}"


def _charge_now(control: Control, site: str, raw: bytes) -> str:
    """{"amps": 16, "minutes": 60} starts Charge Now; {"amps": null} or empty ends it."""
    body = parse(raw, dict)
    if body is None or isinstance(body, dict) and "amps" in body and body["amps"] is None:
        control.cancel_charge_now(site)
        return "Charge Now ended"
    if isinstance(body, str):
        raise Rejected('the payload is not JSON: give {"amps": 16, "minutes": 60}')
    control.charge_now(site, body)
    return f"Charge Now {json.dumps(body)}"


def _twc(loop: SiteLoop, twc: str, what: str, raw: bytes) -> str:
    """twc/<id>/cap: whole amps, or empty to remove the cap; twc/<id>/charging: true or
    false (start or stop that Wall Connector)."""
    if what == "cap":
        amps = parse(raw, int)
        if amps is not None and (isinstance(amps, bool) or not isinstance(amps, int)):
            raise Rejected(f"twc/{twc}/cap must be a whole number of amps, or empty to "
                           f"remove the cap, not {amps!r}")
        call = lambda: loop.set_twc_cap(twc, amps)  # noqa: E731
        done = f"TWC {twc} cap {'removed' if amps is None else f'{amps} A'}"
    elif what == "charging":
        on = parse(raw, bool)
        if not isinstance(on, bool):
            raise Rejected(f"twc/{twc}/charging must be true or false, not {on!r}")
        call = lambda: loop.set_twc_charging(twc, on)  # noqa: E731
        done = f"TWC {twc} {'started' if on else 'stopped'}"
    else:
        raise Rejected(f"no setting twc/{twc}/{what}: give twc/{twc}/cap or "
                       f"twc/{twc}/charging")
    try:
        call()
    except ValueError as e:
        raise Rejected(_why(e)) from None
    return done


def text(value: Any) -> str:
    """A value as its payload: plain text for a string, JSON for anything else (`16`,
    `true`, `null`, `[...]`)."""
    return value if isinstance(value, str) else json.dumps(value)


def values(status: dict[str, Any]) -> dict[str, str]:
    """The retained payload of each path, from the site's status (SiteLoop.status()):
    the settings; and for each TWC the device lists or the host caps, its cap (`null`:
    none) and whether it charges (`null` while not listed)."""
    out = {CHARGE_NOW: json.dumps(status["charge_now"])}
    for key, shown in status["settings"].items():
        out[key.replace(".", "/")] = text(shown["value"])
    caps = status["twc_caps"]
    state = status["device"]["state"]
    slaves = {s["id"]: s for s in state["slaves"]} if state else {}
    for twc in sorted({*caps, *slaves}):
        out[f"twc/{twc}/cap"] = text(caps.get(twc, {}).get("amps"))
        slave = slaves.get(twc)
        out[f"twc/{twc}/charging"] = text(None if slave is None
                                          else slave["state"] in CHARGING)
    return out
