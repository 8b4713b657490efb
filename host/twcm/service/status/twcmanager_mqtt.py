"""TWCManager's MQTT status topics (its Status/MQTTStatus module), for dashboards and
automations written for TWCManager: `<prefix>/<TWCID>/<key>`, `<prefix>/all/<key>` and
`<prefix>/config/<key>`, plain payloads, retained, QoS 0, each topic at most once per
every_s (TWCManager's `ratelimit`, 60 s by default) and only when its value changed.
Off by default ([twcmanager_mqtt], docs/home-assistant.md#twcmanager-compatible-mqtt).

Not filled (twcm has no such figure): `<TWCID>/ampsDesired` (TWCManager's wish before
the slave agrees; twcm's device offers what its sharing decides, `ampsOffered`), and the
`power` topic TWCManager dropped in 1.4.0.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import aiomqtt

from twc import proto
from twcm.mqtt import PASSWORD_ENV, keep_session, parse_broker
from twcm.service.site import SiteLoop
from twcm.service.status.ha_state import slave_power_w
from twcm.service.status.options import TwcManagerMqttConfig

log = logging.getLogger("twcm.twcmanager_mqtt")

CHECK_EVERY_S = 1.0
CHARGING_AMPS = 1.0  # a car drawing this much or more is charging (carsCharging 1)
CODES = {name: code for code, name in proto.STATE_NAMES.items()}
# The claim that set the limit, as TWCManager names its policies.
POLICIES = {"safety": "Safety", "manual": "Charge Now", "schedule": "Scheduled Charging",
            "green": "Track Green Energy", "default": "Non Scheduled Charging"}


def _text(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return "" if v is None else str(v)


def state_code(state: str) -> int | None:
    """The wire code of a slave's state name: charging -> 1, "0x1f" -> 31."""
    if state in CODES:
        return CODES[state]
    try:
        return int(state, 16) if state.startswith("0x") else None
    except ValueError:
        return None


class TwcManagerMqtt:
    """One site's status as TWCManager's topic tree."""

    def __init__(self, broker_url: str, loop: SiteLoop, options: TwcManagerMqttConfig) -> None:
        self.broker = parse_broker(broker_url, os.environ.get(PASSWORD_ENV))
        self.loop = loop
        self.options = options
        self._last_vin: dict[str, str] = {}  # TWC id -> the VIN it last reported
        self._sent: dict[str, tuple[float, str]] = {}  # topic -> (monotonic, payload)

    def topics(self) -> dict[str, str]:
        """Each topic (after the prefix) with its payload now."""
        status = self.loop.status()
        state = status["device"]["state"]
        out: dict[str, str] = {}
        for s in state["slaves"] if state else []:
            twc = s["id"]
            charging = s["actual_amps"] >= CHARGING_AMPS
            if s["vin"]:
                self._last_vin[twc] = s["vin"]
            values = {
                "ampsMax": s["max_amps"], "ampsInUse": s["actual_amps"] if charging else 0.0,
                "state": state_code(s["state"]), "carsCharging": int(charging),
                "currentVehicleVIN": s["vin"], "lastVehicleVIN": self._last_vin.get(twc),
                "lifetimekWh": s["lifetime_kwh"], "chargerLoadInW": slave_power_w(s),
                "ampsOffered": s["offered_amps"]}
            for phase, volts in zip("ABC", s["volts"]):
                values[f"voltagePhase{phase}"] = volts
            out |= {f"{twc}/{k}": _text(v) for k, v in values.items() if v is not None}
        d = status["decision"]
        if state is not None:
            out["all/totalAmpsInUse"] = _text(round(sum(
                s["actual_amps"] for s in state["slaves"] if s["actual_amps"] >= CHARGING_AMPS),
                2))
            out["all/maxAmpsForSlaves"] = _text(state["limit_amps"])
        if d is not None and d["set_by"]:
            out["all/currentPolicy"] = POLICIES.get(d["set_by"], d["set_by"])
        out["config/minAmpsPerTWC"] = _text(status["settings"]["min_amps"]["value"])
        return out

    async def run(self) -> None:
        await keep_session(self.broker, self._session, self._lost)

    def _lost(self, e: Exception, delay: float) -> None:
        log.warning("TWCManager MQTT status link: %s; retrying in %.0f s", e, delay)

    async def _session(self, client: aiomqtt.Client) -> None:
        self._sent.clear()  # publish everything again: the broker may have lost it
        while True:
            await self.step(client)
            await asyncio.sleep(CHECK_EVERY_S)

    async def step(self, client: aiomqtt.Client) -> None:
        now = time.monotonic()
        for key, payload in self.topics().items():
            topic = f"{self.options.prefix}/{key}"
            last = self._sent.get(topic)
            if last is None or last[1] != payload and now - last[0] >= self.options.every_s:
                await client.publish(topic, payload, qos=0, retain=True)
                self._sent[topic] = (now, payload)
