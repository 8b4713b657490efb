"""Home Assistant's rules for MQTT discovery configs, as its MQTT integration's docs state
them (https://www.home-assistant.io/integrations/mqtt/ and each component's page: sensor,
binary_sensor, number, select, button, switch), for the components twcm announces; and
the templates rendered with Jinja2 as HA renders them (`value`, `value_json`).

Keys are checked against each component's documented set, so an abbreviation or a typo
is an error (twcm writes every key out in full).
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import jinja2

TOPIC = re.compile(r"(?P<prefix>.+?)/(?P<component>[a-z_]+)/(?:(?P<node>[a-zA-Z0-9_-]+)/)?"
                   r"(?P<object>[a-zA-Z0-9_-]+)/config")
COMMON = {"unique_id", "name", "availability", "availability_mode", "device", "origin",
          "icon", "entity_category", "qos", "json_attributes_topic",
          "json_attributes_template", "enabled_by_default", "encoding", "entity_picture"}
KEYS = {
    "sensor": {"state_topic", "value_template", "device_class", "state_class",
               "unit_of_measurement", "suggested_display_precision", "options",
               "expire_after", "force_update"},
    "binary_sensor": {"state_topic", "value_template", "device_class", "payload_on",
                      "payload_off", "expire_after", "force_update", "off_delay"},
    "number": {"command_topic", "command_template", "state_topic", "value_template", "min",
               "max", "step", "mode", "unit_of_measurement", "device_class", "optimistic",
               "payload_reset", "retain"},
    "select": {"command_topic", "command_template", "state_topic", "value_template",
               "options", "optimistic", "retain"},
    "button": {"command_topic", "command_template", "payload_press", "device_class",
               "retain"},
    "switch": {"command_topic", "state_topic", "value_template", "payload_on", "payload_off",
               "state_on", "state_off", "device_class", "optimistic", "retain"},
}
REQUIRED = {"sensor": {"state_topic"}, "binary_sensor": {"state_topic"},
            "number": {"command_topic"}, "select": {"command_topic", "options"},
            "button": {"command_topic"}, "switch": {"command_topic"}}
# Device classes twcm may use, with the units HA accepts for each (None: no unit).
UNITS: dict[str, dict[str, set[str | None]]] = {
    "sensor": {"power": {"W", "kW"}, "energy": {"Wh", "kWh"}, "current": {"A", "mA"},
               "voltage": {"V", "mV"}, "battery": {"%"}, "enum": {None},
               "timestamp": {None}},
    "number": {"current": {"A", "mA"}},
    "binary_sensor": {"problem": {None}, "connectivity": {None}},
    "button": {"restart": {None}, "identify": {None}, "update": {None}},
    "switch": {"switch": {None}, "outlet": {None}},
}
STATE_CLASSES = {"measurement", "total", "total_increasing"}
DEVICE_KEYS = {"identifiers", "connections", "name", "manufacturer", "model", "model_id",
               "sw_version", "hw_version", "serial_number", "suggested_area", "via_device",
               "configuration_url"}
ENV = jinja2.Environment(undefined=jinja2.ChainableUndefined)
NONE = "None"  # HA's payload for "unknown" (sensor, number, switch)


def render(template: str | None, payload: bytes) -> str:
    """The template's result for a received payload (or the payload itself), as HA's
    MQTT entities compute it; value_json is the payload's JSON if it is JSON."""
    text = payload.decode()
    if template is None:
        return text
    try:
        value_json = json.loads(text)
    except ValueError:
        value_json = None
    return ENV.from_string(template).render(value=text, value_json=value_json).strip()


def command(config: dict[str, Any], value: Any = None) -> str:
    """What HA publishes on command_topic for `value` (button: a press; switch: on if
    value)."""
    if "command_template" in config:
        return ENV.from_string(config["command_template"]).render(value=value)
    if "payload_press" in config:
        return config["payload_press"]
    if "payload_on" in config:
        return config["payload_on"] if value else config["payload_off"]
    return str(value)


def problems(topic: str, c: dict[str, Any]) -> list[str]:
    """What HA would refuse or misread in one config (empty: none)."""
    m = TOPIC.fullmatch(topic)
    if not m:
        return [f"{topic}: not <prefix>/<component>/[<node_id>/]<object_id>/config"]
    comp = m["component"]
    if comp not in KEYS:
        return [f"{topic}: component {comp} is not checked here"]
    out = [f"unknown key {k}" for k in c if k not in KEYS[comp] | COMMON]
    out += [f"{k} is required" for k in REQUIRED[comp] if k not in c]
    if not isinstance(c.get("unique_id"), str) or not c["unique_id"]:
        out.append("unique_id is needed for a device and for the UI")
    dc = c.get("device_class")
    if dc is not None:
        units = UNITS.get(comp, {}).get(dc)
        if units is None:
            out.append(f"device_class {dc} is not one of {comp}'s")
        elif c.get("unit_of_measurement") not in units:
            out.append(f"unit {c.get('unit_of_measurement')} is not one of {dc}'s {units}")
    sc = c.get("state_class")
    if sc is not None and sc not in STATE_CLASSES:
        out.append(f"state_class {sc}")
    if dc == "energy" and sc not in ("total", "total_increasing"):
        out.append("energy needs state_class total or total_increasing")
    if dc in ("enum", "timestamp") and (sc or "unit_of_measurement" in c):
        out.append(f"{dc} takes no state_class and no unit")
    if comp == "sensor" and ("options" in c) != (dc == "enum"):
        out.append("options go with device_class enum, and enum needs them")
    if "options" in c and (not isinstance(c["options"], list) or not c["options"]
                           or not all(isinstance(o, str) for o in c["options"])):
        out.append("options must be a list of strings")
    if c.get("entity_category") not in (None, "config", "diagnostic") or (
            comp in ("sensor", "binary_sensor") and c.get("entity_category") == "config"):
        out.append(f"entity_category {c.get('entity_category')}")
    if comp == "number":
        if not c.get("min", 1) < c.get("max", 100) or not c.get("step", 1) > 0:
            out.append("number needs min < max and step > 0")
        if c.get("mode", "auto") not in ("auto", "box", "slider"):
            out.append(f"mode {c['mode']}")
    if c.get("availability_mode", "latest") not in ("all", "any", "latest"):
        out.append("availability_mode")
    for a in c.get("availability", []):
        if "topic" not in a or set(a) - {"topic", "payload_available",
                                         "payload_not_available", "value_template"}:
            out.append(f"availability entry {a}")
    d = c.get("device")
    if d is not None:
        if set(d) - DEVICE_KEYS:
            out.append(f"unknown device keys {set(d) - DEVICE_KEYS}")
        if not d.get("identifiers") and not d.get("connections"):
            out.append("a device needs identifiers or connections")
        if "via_device" in d and not isinstance(d["via_device"], str):
            out.append("via_device is an identifier")
    if "origin" in c and not c["origin"].get("name"):
        out.append("origin needs a name")
    for key in ("value_template", "command_template", "json_attributes_template"):
        if key in c:
            try:
                ENV.parse(c[key])
            except jinja2.TemplateSyntaxError as e:
                out.append(f"{key}: {e}")
    return [f"{topic}: {p}" for p in out]


def state_problem(c: dict[str, Any], comp: str, payload: bytes) -> str | None:
    """Whether HA can take the state its template makes of `payload`."""
    v = render(c.get("value_template"), payload)
    if comp in ("sensor", "number"):
        if v == NONE:
            return None
        if c.get("device_class") == "enum":
            return None if v in c["options"] else f"{v!r} is not one of the options"
        if c.get("device_class") == "timestamp":
            try:
                datetime.fromisoformat(v)
                return None
            except ValueError:
                return f"{v!r} is not a timestamp"
        if "unit_of_measurement" in c or "state_class" in c or comp == "number":
            try:
                float(v)
            except ValueError:
                return f"{v!r} is not a number"
        return None if len(v) <= 255 else "a state longer than 255 characters"
    if comp == "binary_sensor":
        return None if v in (c.get("payload_on", "ON"), c.get("payload_off", "OFF")) else v
    if comp == "select":
        return None if v in c["options"] else f"{v!r} is not one of the options"
    if comp == "switch":
        return None if v in (c.get("state_on", "ON"), c.get("state_off", "OFF"), NONE) else v
    return None


def availability_problem(a: dict[str, str], payload: bytes) -> str | None:
    v = render(a.get("value_template"), payload)
    ok = (a.get("payload_available", "online"), a.get("payload_not_available", "offline"))
    return None if v in ok else f"availability {v!r} is neither of {ok}"
