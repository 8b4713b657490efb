"""An in-process MQTT broker (amqtt) for a host service that has no broker configured.

It listens on 127.0.0.1 only and lets anyone in without a password: only programs on this
computer can reach it. Devices on the network need a real broker (mosquitto) instead.
"""
from __future__ import annotations

import logging

from amqtt.broker import Broker

log = logging.getLogger("twcm.devicelink")

HOST = "127.0.0.1"


class EmbeddedBroker:
    """`async with EmbeddedBroker(port) as b:` runs a broker at b.url until the block ends."""

    def __init__(self, port: int = 1883) -> None:
        if not 0 < port < 65536:
            raise ValueError(f"port must be 1-65535, not {port}")
        self.port = port
        self.url = f"mqtt://{HOST}:{port}"
        self._broker: Broker | None = None

    async def start(self) -> None:
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{HOST}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin":
                        {"allow_anonymous": True}},
        }
        broker = Broker(config)
        await broker.start()  # amqtt.errors.BrokerError if the port is taken
        self._broker = broker
        log.info("embedded MQTT broker on %s (anonymous, loopback only)", self.url)

    async def stop(self) -> None:
        if self._broker is not None:
            broker, self._broker = self._broker, None
            await broker.shutdown()
            log.info("embedded MQTT broker on %s stopped", self.url)

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
