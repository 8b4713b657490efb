"""`type = "mqtt"`: one value that a device or home automation publishes on an MQTT topic.

The payload is a number ("1234.5", or with a unit: "2.5 kW"), or JSON with the number at
`path`. `scale` turns it into W with twcm's sign, as in http_json. The source listens from
its first read on (twcm.service.sources.subscriber) and gives the latest message, dated when it
was received, so a device that goes quiet turns stale after max_age_s. One source reads
one topic whose meaning `role` gives, as hass.
"""
from __future__ import annotations

import json
from dataclasses import replace

from twcm.service.sources import Reading, SourceError, register
from twcm.service.sources.single import JsonPath, Role, Scale, single
from twcm.service.sources.integrations.http_json import value_at
from twcm.service.sources.subscriber import BrokerOptions, Subscriber
from twcm.service.sources.values import watts_with_unit


class MqttOptions(BrokerOptions):
    role: Role
    path: JsonPath | None = None  # where the number is in a JSON payload; None: the payload
    scale: Scale = 1.0


def parse(payload: bytes, topic: str, path: str | None) -> float:
    """The watts in a payload (before `scale`); SourceError naming the topic if none."""
    try:
        text = payload.decode()
    except UnicodeDecodeError:
        raise SourceError(f"the payload on {topic} is not text") from None
    if path is None:
        return watts_with_unit(text, f"the payload on {topic}")
    try:
        doc = json.loads(text)
    except ValueError:
        excerpt = " ".join(text.split())[:80]
        raise SourceError(f"the payload on {topic} is not JSON: {excerpt!r}") from None
    return value_at(doc, path, f"the payload on {topic}")


class Mqtt:
    def __init__(self, o: MqttOptions) -> None:
        self.o = o
        self.sub = Subscriber(o.broker_of(), o.topic, o.retained)

    async def read(self) -> Reading:
        payload, at = self.sub.latest()
        watts = parse(payload, self.o.topic, self.o.path) * self.o.scale
        return replace(single(self.o.role, watts), at=at)

    async def close(self) -> None:
        await self.sub.close()


register("mqtt", MqttOptions, Mqtt, interval_s=1.0, min_interval_s=0.1,
         roles=lambda o: (o.role,))
