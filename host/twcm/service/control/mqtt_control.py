"""Control and status of `twcm run` over MQTT, for home automation (docs/mqtt.md, "Host
topics"). Beside the device contract, under each site's own prefix twcm/<site>/host/:

    status              → retained JSON, on change and every 30 s
    <path>              → retained, each setting's value in force (mqtt_topics.py), on
                          change and after each (re)connect
    <path>/set          ← a new value: charge_now, non_scheduled_amps, green/flex_w ...
    event               → {"event": "rejected", "topic": ..., "reason": ...}

A retained message on a `/set` topic is ignored (and reported on `event`): it is an old
command the broker replays at every connect, not a wish of now.
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
from twcm.service.control import mqtt_topics
from twcm.service.control.requests import Control, Rejected

log = logging.getLogger("twcm.mqtt_control")

# The host's topics, after the site's prefix twcm/<site>/ (the device's are in twc.contract).
HOST = "host/"
STATUS_TOPIC = HOST + "status"
EVENT_TOPIC = HOST + "event"
STATUS_EVERY_S = 30.0
CHECK_EVERY_S = 1.0
_VOLATILE = ("time", "age_s")  # fields that change on their own: not a "change"
RETAINED = ("a retained command is ignored (the broker would replay it at every "
            "connect): publish it without retain, and clear it with "
            "mosquitto_pub -r -n -t {topic}")


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
        self._sent: dict[str, tuple[float, Any]] = {}  # site -> (when, steady status)
        self._values: dict[str, str] = {}  # topic -> retained payload sent

    async def run(self) -> None:
        """Serve until cancelled, reconnecting after 1, 2, 4 ... 60 s."""
        await keep_session(self.broker, self._session, self._lost)

    async def _session(self, client: aiomqtt.Client) -> None:
        self._sent.clear()  # publish everything again
        self._values.clear()
        await client.subscribe([(prefix(s) + HOST + f, 1) for s in self.control.sites
                                for f in mqtt_topics.SET_FILTERS])
        await asyncio.gather(self._receive(client), self._publish(client))

    def _lost(self, e: Exception, delay: float) -> None:
        log.warning("control link to %s: %s; retrying in %.0f s", self.broker, e, delay)

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for msg in client.messages:
            topic = msg.topic.value
            site = topic.split("/")[1]
            path = topic[len(prefix(site) + HOST):-len(mqtt_topics.SET)]
            raw = msg.payload if isinstance(msg.payload, bytes) else b""
            try:
                if msg.retain:
                    raise Rejected(RETAINED.format(topic=topic))
                done = mqtt_topics.apply(self.control, site, path, raw)
                log.info("site %s: over MQTT: %s", site, done)
            except Rejected as e:
                log.warning("site %s: %s rejected: %s", site, topic, e)
                await self._reject(client, site, topic, str(e))
            except Exception:  # a bug or a full disk must not end MQTT control
                log.exception("site %s: %s failed", site, topic)
                await self._reject(client, site, topic, "twcm could not carry it out: "
                                   "see its log")
            await self._publish_site(client, site, force=True)

    async def _reject(self, client: aiomqtt.Client, site: str, topic: str,
                      reason: str) -> None:
        await client.publish(prefix(site) + EVENT_TOPIC, json.dumps(
            {"event": "rejected", "topic": topic, "reason": reason}), qos=1)

    async def _publish(self, client: aiomqtt.Client) -> None:
        while True:
            for site in self.control.sites:
                await self._publish_site(client, site)
            await asyncio.sleep(CHECK_EVERY_S)

    async def _publish_site(self, client: aiomqtt.Client, site: str,
                            force: bool = False) -> None:
        """The status when it changed (or `force`, or every STATUS_EVERY_S), and each
        setting's value when it changed."""
        status = self.control.status(site)
        steady = _steady(status)
        now = time.monotonic()
        last = self._sent.get(site)
        if force or last is None or last[1] != steady or now - last[0] >= STATUS_EVERY_S:
            self._sent[site] = (now, steady)
            await client.publish(prefix(site) + STATUS_TOPIC, json.dumps(status), qos=1,
                                 retain=True)
        for path, payload in mqtt_topics.values(status).items():
            topic = prefix(site) + HOST + path
            if self._values.get(topic) != payload:
                await client.publish(topic, payload, qos=1, retain=True)
                self._values[topic] = payload
