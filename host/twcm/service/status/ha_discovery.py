"""Home Assistant MQTT discovery (docs/home-assistant.md): each site and each of its Wall
Connectors appears in HA as a device with its sensors and controls, with no YAML.

One broker session per site, whose will marks the site's entities unavailable when twcm
goes (twcm/<site>/host/online: retained `true`, will `false`). Each second the site's
status is turned into discovery configs (ha_entities.py, published retained when they
change) and state JSON (ha_state.py, retained, on change and at most every
state_every_s). HA's birth message (`<prefix>/status` = `online`) makes everything go out
again. A Wall Connector the device has not listed for forget_twc_after_s is gone for good:
its configs are cleared with empty retained messages, which removes it from HA. The
retained configs found at connect tell which TWCs an earlier run announced, so that one
removed while twcm was down is cleared too, and a config no longer made (a source taken
out of the config file) is cleared at once.

Nothing here changes the chargers: HA's commands go to the host's `/set` topics, which
MqttControl carries out through the site's public interface.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from typing import Any

import aiomqtt

from twcm.mqtt import PASSWORD_ENV, keep_session, parse_broker
from twcm.service.site import SiteLoop
from twcm.service.status.ha_entities import Entities, node, twc_of
from twcm.service.status.ha_state import (online_topic, site_state, site_topic, twc_state,
                                          twc_topic)
from twcm.service.status.options import HomeAssistantConfig

log = logging.getLogger("twcm.ha_discovery")

CHECK_EVERY_S = 1.0
BIRTH = "online"


def _object_id(config_topic: str) -> str:
    return config_topic.split("/")[-2]


class SiteDiscovery:
    """The discovery of one site, over its own broker session."""

    def __init__(self, loop: SiteLoop, options: HomeAssistantConfig) -> None:
        self.loop = loop
        self.site = loop.config.name
        self.options = options
        self.entities = Entities(loop, options.prefix, options.charge_now_minutes)
        self.configs_filter = f"{options.prefix}/+/{node(self.site)}/+/config"
        self.birth_topic = f"{options.prefix}/status"
        self._known: dict[str, float] = {}  # TWC id -> monotonic it was last listed
        self._twc_amps: dict[str, int] = {}  # TWC id -> the most its cap may be
        self._sent: dict[str, str] = {}  # topic -> retained payload sent this session
        self._state_at: dict[str, float] = {}  # state topic -> monotonic of its last send
        self._found: set[str] = set()  # config topics an earlier run left retained

    def will(self) -> aiomqtt.Will:
        return aiomqtt.Will(online_topic(self.site), "false", qos=1, retain=True)

    async def session(self, client: aiomqtt.Client) -> None:
        self._sent.clear()
        await client.publish(online_topic(self.site), "true", qos=1, retain=True)
        await client.subscribe([(self.birth_topic, 1), (self.configs_filter, 1)])
        try:
            await asyncio.gather(self._receive(client), self._publish(client))
        except asyncio.CancelledError:  # twcm stops: say so before the clean disconnect
            await asyncio.wait_for(client.publish(online_topic(self.site), "false", qos=1,
                                                  retain=True), 2)
            raise

    def lost(self, e: Exception, delay: float) -> None:
        log.warning("site %s: Home Assistant discovery link: %s; retrying in %.0f s",
                    self.site, e, delay)

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for msg in client.messages:
            topic = msg.topic.value
            if topic == self.birth_topic:
                if msg.payload == BIRTH.encode():
                    log.info("site %s: Home Assistant is online: announcing everything",
                             self.site)
                    self._sent.clear()
                    self._state_at.clear()
                continue
            if msg.retain and msg.payload:  # an earlier run's config
                self._found.add(topic)
                twc = twc_of(_object_id(topic))
                if twc is not None and twc not in self._known:
                    self._known[twc] = time.monotonic()  # its grace starts now

    async def _publish(self, client: aiomqtt.Client) -> None:
        while True:
            await self.step(client)
            await asyncio.sleep(CHECK_EVERY_S)

    async def _send(self, client: aiomqtt.Client, topic: str, payload: str) -> None:
        if self._sent.get(topic) != payload:
            await client.publish(topic, payload, qos=1, retain=True)
            self._sent[topic] = payload

    async def _clear(self, client: aiomqtt.Client, topics: set[str]) -> None:
        for topic in sorted(topics):
            await client.publish(topic, b"", qos=1, retain=True)
            self._sent.pop(topic, None)
            self._found.discard(topic)

    async def step(self, client: aiomqtt.Client) -> None:
        """Publish what changed: configs, then states (rate-limited)."""
        status = self.loop.status()
        state = status["device"]["state"]
        now = time.monotonic()
        slaves = {s["id"]: s for s in state["slaves"]} if state else {}
        for twc, slave in slaves.items():
            self._known[twc] = now
            self._twc_amps[twc] = min(int(slave["max_amps"] or state["wiring_max_amps_per_twc"]),
                                      state["wiring_max_amps_per_twc"])
        for twc, seen in list(self._known.items()):
            if now - seen > self.options.forget_twc_after_s:
                await self._forget(client, twc)
        configs = self.entities.configs(sorted(self._known),
                                        state["version"] if state else None, self._twc_amps)
        stale = self._found - configs.keys()
        if stale:
            log.info("site %s: clearing %d Home Assistant config(s) no longer made",
                     self.site, len(stale))
            await self._clear(client, stale)
        for topic, config in configs.items():
            await self._send(client, topic, json.dumps(config))
        states = {site_topic(self.site): site_state(self.loop, status)}
        states |= {twc_topic(self.site, twc): twc_state(slaves.get(twc))
                   for twc in self._known}
        for topic, value in states.items():
            payload = json.dumps(value)
            last = self._state_at.get(topic)
            if self._sent.get(topic) != payload and (
                    last is None or now - last >= self.options.state_every_s):
                await self._send(client, topic, payload)
                self._state_at[topic] = now

    async def _forget(self, client: aiomqtt.Client, twc: str) -> None:
        """The TWC is gone for good: clear its configs and its state."""
        mine = {t for t in {*self._sent, *self._found} if t.endswith("/config")
                and twc_of(_object_id(t)) == twc}
        log.info("site %s: TWC %s not listed for %.0f s: removing it from Home Assistant",
                 self.site, twc, self.options.forget_twc_after_s)
        await self._clear(client, mine | {twc_topic(self.site, twc)})
        del self._known[twc]
        self._twc_amps.pop(twc, None)
        self._state_at.pop(twc_topic(self.site, twc), None)


class HaDiscovery:
    """Discovery for every site, each on its own session (for its own will)."""

    def __init__(self, broker_url: str, sites: list[SiteLoop],
                 options: HomeAssistantConfig) -> None:
        self.broker = parse_broker(broker_url, os.environ.get(PASSWORD_ENV))
        self.sites = [SiteDiscovery(s, options) for s in sites]

    async def run(self) -> None:
        """Serve until cancelled, each site reconnecting after 1, 2, 4 ... 60 s."""
        await asyncio.gather(*(keep_session(self.broker, s.session, s.lost, will=s.will())
                               for s in self.sites))
