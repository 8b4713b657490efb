"""The host's MQTT link to its devices: one aiomqtt client for all sites.

DeviceLink subscribes to each site's state, event and online, feeds them to the
SiteLinks, publishes their leases and schedules as they fall due (QoS 1, never
retained), reconnects with back-off, and logs each change of a site's health (online,
offline, silent), and once, what to check when a site's device is never heard from.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time

import aiomqtt

from twc.contract import EVENT_TOPIC, ONLINE_TOPIC, STATE_TOPIC, prefix
from twcm.mqtt import KEEPALIVE_S, PASSWORD_ENV, keep_session, parse_broker
from twcm.service.wait import wake_or_timeout

from .site import SiteLink, log

HEALTH_EVERY_S = 1.0  # how often silence is checked when nothing else happens
UNHEARD_AFTER_S = 60.0  # connected this long without a word from a device: say what to check
KINDS = (STATE_TOPIC, EVENT_TOPIC, ONLINE_TOPIC)  # what the devices publish
LOCAL = ("127.0.0.1", "localhost", "::1")


class DeviceLink:
    """`await DeviceLink(url, sites).run()` serves the sites until cancelled.

    broker_url is mqtt://[user[:password]@]host[:port] (mqtts:// for TLS); without a
    password in it, $TWCM_MQTT_PASSWORD is used. `health` has each site's latest
    SiteLink.health(): online, offline, silent (or unknown). Call the SiteLinks' want(),
    release() and schedule() in run()'s event loop.
    """

    def __init__(self, broker_url: str, sites: list[SiteLink],
                 unheard_after_s: float = UNHEARD_AFTER_S) -> None:
        self.broker = parse_broker(broker_url, os.environ.get(PASSWORD_ENV))
        names = [s.site for s in sites]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"give one SiteLink per site, at least one, not {names}")
        self.sites = {s.site: s for s in sites}
        self.health = {name: "unknown" for name in names}
        self.connected = False
        self.unheard_after_s = unheard_after_s
        self._connected_at = 0.0  # monotonic start of the broker session
        self._unheard: set[str] = set()  # sites warned about: never heard from
        self._wake = asyncio.Event()
        for s in sites:
            s.notify = self._wake.set

    async def run(self) -> None:
        """Connect, serve, and reconnect after 1, 2, 4 ... 60 s; returns only by cancel."""
        await keep_session(self.broker, self._session, self._lost, keepalive=KEEPALIVE_S)

    async def _session(self, client: aiomqtt.Client) -> None:
        # A lease and a schedule per site may be on their way at once: not worth
        # aiomqtt's warning about pending publishes.
        client.pending_calls_threshold = max(10, 2 * len(self.sites))
        await client.subscribe([(prefix(name) + kind, 1)
                                for name in self.sites for kind in KINDS])
        self.connected = True
        log.info("connected to broker %s for sites %s", self.broker, ", ".join(self.sites))
        now = self._connected_at = time.monotonic()
        for s in self.sites.values():
            s.reconnected(now)
        await self._serve(client)

    def _lost(self, e: Exception, delay: float) -> None:
        was = "lost broker" if self.connected else "cannot connect to broker"
        log.warning("%s %s (%s); retrying in %.0f s", was, self.broker, e, delay)
        self.connected = False

    async def _serve(self, client: aiomqtt.Client) -> None:
        """Receive and send until one of them fails (the connection is lost)."""
        tasks = [asyncio.create_task(self._receive(client)),
                 asyncio.create_task(self._send(client))]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for t in done:
            t.result()

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for msg in client.messages:
            parts = msg.topic.value.split("/")
            site = self.sites.get(parts[1]) if len(parts) == 3 else None
            if site is None:
                log.warning("ignored a message on %s: not a topic of ours", msg.topic)
                continue
            payload = msg.payload if isinstance(msg.payload, bytes) else b""  # always bytes
            site.receive(parts[2], payload, time.monotonic())

    async def _send(self, client: aiomqtt.Client) -> None:
        while True:
            self._wake.clear()
            now = time.monotonic()
            # All due messages at once: each QoS 1 publish waits for the broker's ack,
            # and one after the other would cap the leases per second (many sites).
            await asyncio.gather(*(client.publish(topic, payload, qos=1, retain=False)
                                   for s in self.sites.values()
                                   for topic, payload in s.outbox(now)))
            self._report(now)
            due = min(s.next_due(now) for s in self.sites.values())
            await wake_or_timeout(self._wake, min(due - time.monotonic(), HEALTH_EVERY_S))

    def _report(self, now: float) -> None:
        for name, s in self.sites.items():
            health = s.health(now)
            if health == "unknown":
                if name not in self._unheard and now - self._connected_at >= \
                        self.unheard_after_s:
                    self._unheard.add(name)
                    log.warning("site %s: %s", name, self._unheard_advice(name))
                continue
            if health == self.health[name]:
                continue
            first = self.health[name] == "unknown"
            self.health[name] = health
            level = logging.INFO if health == "online" else logging.WARNING
            why = {"offline": "its broker connection is gone",
                   "silent": f"no state for {s.silent_after_s:.0f} s"}.get(health, "")
            if first and name in self._unheard:
                why = "heard from at last" + (why and f"; {why}")
            log.log(level, "site %s: device %s%s", name, health, why and f" ({why})")

    def _unheard_advice(self, name: str) -> str:
        """Why a device may never have spoken, and what to check (log once)."""
        p = prefix(name)
        text = (f"no word from its device in {self.unheard_after_s:g} s on broker "
                f"{self.broker}: check that the device is powered, that its config names "
                f"this broker and site \"{name}\", and that it publishes {p}{STATE_TOPIC} "
                f"and {p}{ONLINE_TOPIC} (mosquitto_sub -v -t '{p}#'); until then no lease "
                f"reaches it")
        if self.broker.host in LOCAL:
            text += (f"; {self.broker.host} is this computer only: a device on the network "
                     "needs a broker it can reach ([broker] in docs/config.md)")
        return text
