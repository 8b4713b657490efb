"""Control and status of `twcm run` over MQTT, for home automation (docs/mqtt.md, "Host
topics"). Beside the device contract, under each site's own prefix:

    twcm/<site>/host/status            → retained JSON, on change and every 30 s
    twcm/<site>/host/charge_now/set    ← {"amps": 16, "minutes": 60}, or {"amps": null}
                                         (or an empty payload) to end Charge Now
    twcm/<site>/host/event             → {"event": "rejected", "topic": ..., "reason": ...}
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from typing import Any

import aiomqtt

from twc.contract import prefix
from twcm.mqtt import PASSWORD_ENV, keep_session, parse_broker
from twcm.service.control.requests import Control, Rejected

log = logging.getLogger("twcm.mqtt_control")

# The host's topics, after the site's prefix twcm/<site>/ (the device's are in twc.contract).
STATUS_TOPIC = "host/status"
CHARGE_NOW_TOPIC = "host/charge_now/set"
EVENT_TOPIC = "host/event"
STATUS_EVERY_S = 30.0
CHECK_EVERY_S = 1.0
_VOLATILE = ("time", "age_s")  # fields that change on their own: not a "change"


def _steady(d: Any) -> Any:
    """`d` without the fields that change every second, to tell real changes."""
    if isinstance(d, dict):
        return {k: _steady(v) for k, v in d.items() if k not in _VOLATILE}
    if isinstance(d, list):
        return [_steady(v) for v in d]
    return d


class MqttControl:
    def __init__(self, broker_url: str, control: Control) -> None:
        self.broker = parse_broker(broker_url, os.environ.get(PASSWORD_ENV))
        self.control = control
        self._sent: dict[str, tuple[float, Any]] = {}

    async def run(self) -> None:
        """Serve until cancelled, reconnecting after 1, 2, 4 ... 60 s."""
        await keep_session(self.broker, self._session, self._lost)

    async def _session(self, client: aiomqtt.Client) -> None:
        await client.subscribe([(prefix(s) + CHARGE_NOW_TOPIC, 1)
                                for s in self.control.sites])
        self._sent.clear()  # publish everything again
        await asyncio.gather(self._receive(client), self._publish(client))

    def _lost(self, e: Exception, delay: float) -> None:
        log.warning("control link to %s: %s; retrying in %.0f s", self.broker, e, delay)

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for msg in client.messages:
            topic = msg.topic.value
            site = topic.split("/")[1]
            raw = msg.payload if isinstance(msg.payload, bytes) else b""
            try:
                self.handle(site, raw)
            except Rejected as e:
                log.warning("site %s: %s rejected: %s", site, topic, e)
                await client.publish(prefix(site) + EVENT_TOPIC, json.dumps(
                    {"event": "rejected", "topic": topic, "reason": str(e)}), qos=1)
            await self._publish_site(client, site, force=True)

    def handle(self, site: str, raw: bytes) -> None:
        """One charge_now/set payload; Rejected if it is not allowed."""
        if not raw.strip():
            self.control.cancel_charge_now(site)
            return
        try:
            body = json.loads(raw)
        except ValueError:
            raise Rejected("the payload is not JSON") from None
        if isinstance(body, dict) and "amps" in body and body["amps"] is None:
            self.control.cancel_charge_now(site)
            log.info("site %s: Charge Now ended over MQTT", site)
            return
        self.control.charge_now(site, body)
        log.info("site %s: Charge Now over MQTT: %s", site, body)

    async def _publish(self, client: aiomqtt.Client) -> None:
        while True:
            for site in self.control.sites:
                await self._publish_site(client, site)
            await asyncio.sleep(CHECK_EVERY_S)

    async def _publish_site(self, client: aiomqtt.Client, site: str,
                            force: bool = False) -> None:
        status = self.control.status(site)
        steady = _steady(status)
        now = time.monotonic()
        last = self._sent.get(site)
        if force or last is None or last[1] != steady or now - last[0] >= STATUS_EVERY_S:
            self._sent[site] = (now, steady)
            await client.publish(prefix(site) + STATUS_TOPIC, json.dumps(status), qos=1,
                                 retain=True)
