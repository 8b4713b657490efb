"""What the tests of the sources that listen to MQTT (mqtt, dsmr_reader) share."""
from __future__ import annotations

import asyncio
import time
from typing import Any

from mqtt_helpers import PASSWORD, USER, Mosquitto, Watcher

from twcm.service.sources import Reading, SourceError


def broker_url(broker: Mosquitto, password: str = PASSWORD) -> str:
    return f"mqtt://{USER}:{password}@{broker.host}:{broker.port}"


async def heard(src: Any, pub: Watcher, topic: str, payload: Any,
                timeout: float = 5.0) -> Reading:
    """Publish `payload` on `topic` until the source (listening from its first read) has
    it; its reading."""
    end = time.monotonic() + timeout
    while True:
        try:
            return await src.read()
        except SourceError as e:
            if "nothing received" not in str(e) or time.monotonic() > end:
                raise
        pub.publish(topic, payload)
        await asyncio.sleep(0.05)
