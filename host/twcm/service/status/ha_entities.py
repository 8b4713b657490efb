"""The Home Assistant entities of a site and of its Wall Connectors, as MQTT discovery
configs (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery): one retained
config per entity on `<prefix>/<component>/twcm_<site>/<object_id>/config`.

Sensors read the state JSON of ha_state.py; controls send to the host's existing `/set`
topics (docs/mqtt.md, "Host topics"), which MqttControl carries out as any other MQTT
command, and read back the retained values it publishes. Keys are written out in full
(no abbreviations). `unique_id` is `twcm_<site>_<object_id>`: the same on every start.
"""
from __future__ import annotations

import json
from typing import Any

from twc.contract import prefix
from twcm.service.control.mqtt_topics import CHARGE_NOW, SET
from twcm.service.policy.engine import NonScheduled
from twcm.service.site import SiteLoop
from twcm.service.status.ha_state import (DEVICE_HEALTH, PHASES, ROLE_VALUES, TWC_STATES,
                                          online_topic, site_topic, twc_topic)

ORIGIN = {"name": "twcm"}  # who made the config, for HA's MQTT info page
# What each kind of reading is to HA: (device_class, unit, name).
READINGS = {
    "generation_w": ("power", "W", "Solar power"),
    "consumption_w": ("power", "W", "House consumption"),
    "grid_import_w": ("power", "W", "Grid import"),
    "battery_w": ("power", "W", "Battery discharge"),
    "battery_soc": ("battery", "%", "Battery charge"),
    "volts": ("voltage", "V", "Mains voltage"),
}
NULL_AS_NONE = "{{ 'None' if value == 'null' else value }}"  # a host value null: unknown


def node(site: str) -> str:
    return f"twcm_{site}"


def twc_object(twc: str, key: str) -> str:
    return f"twc_{twc.lower()}_{key}"


def twc_of(object_id: str) -> str | None:
    """The TWC id of a TWC entity's object_id (twc_1a2b_power -> 1A2B), else None."""
    parts = object_id.split("_")
    return parts[1].upper() if len(parts) >= 3 and parts[0] == "twc" else None


def _avail(topic: str, template: str | None = None) -> dict[str, str]:
    a = {"topic": topic, "payload_available": "true", "payload_not_available": "false"}
    return a | ({"value_template": template} if template else {})


def _value(key: str) -> str:
    return "{{ value_json.%s }}" % key


def _host(site: str, path: str) -> str:
    return prefix(site) + "host/" + path


class Entities:
    """The discovery configs of one site: `configs()` -> {config topic: payload dict}."""

    def __init__(self, loop: SiteLoop, discovery_prefix: str, charge_now_minutes: int) -> None:
        self.loop = loop
        self.site = loop.config.name
        self.prefix = discovery_prefix
        self.minutes = charge_now_minutes
        self.host_up = [_avail(online_topic(self.site))]
        self.device_up = self.host_up + [_avail(prefix(self.site) + "online")]

    def _add(self, out: dict[str, dict[str, Any]], component: str, object_id: str,
             device: dict[str, Any], availability: list[dict[str, str]],
             **config: Any) -> None:
        topic = f"{self.prefix}/{component}/{node(self.site)}/{object_id}/config"
        out[topic] = {"unique_id": f"{node(self.site)}_{object_id}", **config,
                      "availability": availability, "availability_mode": "all",
                      "device": device, "origin": ORIGIN}

    def site_device(self, version: str | None) -> dict[str, Any]:
        return {"identifiers": [node(self.site)], "name": f"twcm {self.site}",
                "manufacturer": "twcm", "model": "twcm site (Wall Connector master)",
                "sw_version": version or "unknown"}

    def configs(self, known_twcs: list[str], version: str | None,
                twc_amps: dict[str, int]) -> dict[str, dict[str, Any]]:
        """Every entity of the site, and of each TWC in `known_twcs` (its cap at most
        twc_amps[id], else the site's max_amps). `version`: the device's firmware."""
        out: dict[str, dict[str, Any]] = {}
        dev = self.site_device(version)
        self._site_sensors(out, dev)
        self._site_controls(out, dev)
        for twc in known_twcs:
            self._twc(out, twc, twc_amps.get(twc, self.loop.config.max_amps))
        return out

    def _site_sensors(self, out: dict[str, dict[str, Any]], dev: dict[str, Any]) -> None:
        st = site_topic(self.site)
        common = {"state_topic": st}
        amps = {"device_class": "current", "state_class": "measurement",
                "unit_of_measurement": "A", "suggested_display_precision": 1}
        self._add(out, "sensor", "power", dev, self.device_up, name="Charging power",
                  value_template=_value("power_w"), device_class="power",
                  state_class="measurement", unit_of_measurement="W", **common)
        self._add(out, "sensor", "current", dev, self.device_up, name="Charging current",
                  value_template=_value("amps"), **amps, **common)
        self._add(out, "sensor", "lease", dev, self.host_up, name="Lease",
                  value_template=_value("lease_amps"), icon="mdi:handshake", **amps, **common)
        self._add(out, "sensor", "limit", dev, self.device_up, name="Limit in force",
                  value_template=_value("limit_amps"), **amps, **common)
        self._add(out, "sensor", "limit_source", dev, self.device_up, name="Limit from",
                  value_template=_value("limit_source"), icon="mdi:source-branch", **common)
        self._add(out, "sensor", "claim", dev, self.host_up, name="Claim",
                  value_template=_value("claim"), icon="mdi:gavel",
                  json_attributes_topic=st, json_attributes_template=(
                      "{{ {'reason': value_json.reason, 'capped_by': value_json.capped_by, "
                      "'claims': value_json.claims} | tojson }}"), **common)
        self._add(out, "sensor", "reason", dev, self.host_up, name="Reason",
                  value_template=_value("reason"), icon="mdi:text", **common)
        self._add(out, "sensor", "device_health", dev, self.host_up, name="Device health",
                  value_template=_value("device_health"), device_class="enum",
                  options=list(DEVICE_HEALTH), entity_category="diagnostic", **common)
        self._add(out, "sensor", "charge_now_until", dev, self.host_up,
                  name="Charge Now until", state_topic=_host(self.site, CHARGE_NOW),
                  value_template="{{ value_json.until if value_json else 'None' }}",
                  device_class="timestamp")
        roles = {r for src in self.loop.config.sources() for r in src.role_list()}
        for role in sorted(roles):
            for key in ROLE_VALUES.get(role, ()):
                cls, unit, name = READINGS[key]
                self._add(out, "sensor", key, dev, self.host_up, name=name,
                          value_template=_value(key), device_class=cls,
                          state_class="measurement", unit_of_measurement=unit, **common)
        for feed in self.loop.meters.feeds:
            src = "source_" + feed.name
            base = "value_json.sources['%s']" % feed.name
            for role in feed.roles:
                for key in ROLE_VALUES.get(role, ()):
                    cls, unit, name = READINGS[key]
                    self._add(out, "sensor", f"{src}_{key}", dev, self.host_up,
                              name=f"{feed.name}: {name}", device_class=cls,
                              value_template="{{ %s.%s }}" % (base, key),
                              state_class="measurement", unit_of_measurement=unit,
                              entity_category="diagnostic", **common)
            self._add(out, "binary_sensor", f"{src}_problem", dev, self.host_up,
                      name=f"{feed.name}: problem", device_class="problem",
                      value_template="{{ 'OFF' if %s.ok else 'ON' }}" % base,
                      json_attributes_topic=st, json_attributes_template=(
                          "{{ {'stale': %s.stale, 'error': %s.error} | tojson }}"
                          % (base, base)), entity_category="diagnostic", **common)

    def _site_controls(self, out: dict[str, dict[str, Any]], dev: dict[str, Any]) -> None:
        site, top = self.site, self.loop.config.max_amps
        charge_now = {"command_topic": _host(site, CHARGE_NOW + SET)}
        self._add(out, "number", "charge_now_amps", dev, self.host_up, name="Charge Now amps",
                  state_topic=_host(site, CHARGE_NOW),
                  value_template="{{ value_json.amps if value_json else 'None' }}",
                  command_template='{"amps": {{ value | int }}, "minutes": %d}' % self.minutes,
                  min=0, max=top, step=1, mode="box", unit_of_measurement="A",
                  device_class="current", icon="mdi:ev-station", **charge_now)
        self._add(out, "button", "charge_now_start", dev, self.host_up,
                  name="Charge Now start", icon="mdi:play",
                  payload_press=json.dumps({"amps": top, "minutes": self.minutes}),
                  **charge_now)
        self._add(out, "button", "charge_now_cancel", dev, self.host_up,
                  name="Charge Now cancel", icon="mdi:stop",
                  payload_press=json.dumps({"amps": None}), **charge_now)
        self._add(out, "number", "non_scheduled_amps", dev, self.host_up,
                  name="Non-scheduled amps", state_topic=_host(site, "non_scheduled_amps"),
                  command_topic=_host(site, "non_scheduled_amps" + SET), min=0, max=top,
                  step=1, mode="slider", unit_of_measurement="A", device_class="current")
        self._add(out, "select", "non_scheduled", dev, self.host_up, name="Non-scheduled",
                  state_topic=_host(site, "non_scheduled"),
                  command_topic=_host(site, "non_scheduled" + SET), icon="mdi:solar-power",
                  options=[m.value for m in NonScheduled])

    def _twc(self, out: dict[str, dict[str, Any]], twc: str, max_amps: int) -> None:
        site, st = self.site, twc_topic(self.site, twc)
        dev = {"identifiers": [f"{node(site)}_{twc.lower()}"], "name": f"Wall Connector {twc}",
               "manufacturer": "Tesla", "model": "Wall Connector (gen 2)",
               "serial_number": twc, "via_device": node(site)}
        up = self.device_up + [_avail(st, "{{ 'true' if value_json.listed else 'false' }}")]
        amps = {"device_class": "current", "state_class": "measurement",
                "unit_of_measurement": "A", "state_topic": st}

        def add(component: str, key: str, **config: Any) -> None:
            self._add(out, component, twc_object(twc, key), dev, up, **config)

        add("sensor", "power", name="Power", value_template=_value("power_w"),
            device_class="power", state_class="measurement", unit_of_measurement="W",
            state_topic=st)
        add("sensor", "energy", name="Lifetime energy", value_template=_value("lifetime_kwh"),
            device_class="energy", state_class="total_increasing",
            unit_of_measurement="kWh", state_topic=st)
        add("sensor", "current", name="Current", value_template=_value("amps"), **amps)
        add("sensor", "offered", name="Offered", value_template=_value("offered_amps"), **amps)
        add("sensor", "cap_in_force", name="Cap in force", value_template=_value("cap_amps"),
            entity_category="diagnostic", **amps)
        for i in range(1, PHASES + 1):
            add("sensor", f"current_l{i}", name=f"Current L{i}",
                value_template=_value(f"current_l{i}"), **amps)
            add("sensor", f"voltage_l{i}", name=f"Voltage L{i}",
                value_template=_value(f"voltage_l{i}"), device_class="voltage",
                state_class="measurement", unit_of_measurement="V", state_topic=st)
        add("sensor", "state", name="State", value_template=_value("state"),
            device_class="enum", options=list(TWC_STATES), state_topic=st)
        add("sensor", "vin", name="VIN", value_template=_value("vin"), icon="mdi:car",
            state_topic=st)
        cap = _host(site, f"twc/{twc}/cap")
        add("number", "cap", name="Cap", state_topic=cap, command_topic=cap + SET,
            value_template=NULL_AS_NONE, min=0, max=max_amps, step=1, mode="box",
            unit_of_measurement="A", device_class="current")
        add("button", "cap_remove", name="Remove cap", command_topic=cap + SET,
            payload_press="null", icon="mdi:close")
        if self.loop.config.twc_start_stop:
            charging = _host(site, f"twc/{twc}/charging")
            add("switch", "charging", name="Charging", state_topic=charging,
                command_topic=charging + SET, value_template=NULL_AS_NONE,
                payload_on="true", payload_off="false", state_on="true", state_off="false",
                icon="mdi:ev-plug-type2")
