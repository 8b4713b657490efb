"""aiomqtt clients of the host service (device link, control, MQTT meter sources) for a
broker parsed by twcm.mqtt_link.parse_broker."""
from __future__ import annotations

import ssl
from typing import Any

import aiomqtt

from twcm.mqtt_link import Broker


def client(broker: Broker, **kw: Any) -> aiomqtt.Client:
    """A client for `broker`: its credentials, and TLS for mqtts://."""
    return aiomqtt.Client(broker.host, broker.port, username=broker.user,
                          password=broker.password,
                          tls_context=ssl.create_default_context() if broker.tls else None,
                          **kw)
