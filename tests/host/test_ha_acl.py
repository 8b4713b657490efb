"""docs/mqtt.md's mosquitto ACL lets Home Assistant do what discovery needs: `twcm run`
(user twcm) announces its entities, HA (user homeassistant) reads them and their states
and steers twcm through a control entity's command_topic; a read-only user cannot."""
from __future__ import annotations

import json
import time

import paho.mqtt.client as mqtt

from ha_rules import command
from test_devicelink_mqtt import until
from test_mqtt_control import HOST, Service
from test_mqtt_control_acl import USERS, acl_broker, send

NUMBER = "homeassistant/number/twcm_home/non_scheduled_amps/config"


def read_as(broker, user: str, topic: str) -> bytes | None:
    got: list[bytes] = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.username_pw_set(user, USERS[user])
    c.on_connect = lambda client, *_: client.subscribe(topic, qos=1)
    c.on_message = lambda client, userdata, msg: got.append(msg.payload)
    c.connect(broker.host, broker.port)
    c.loop_start()
    try:
        until(lambda: got, 5, f"{topic} for {user}")
    finally:
        c.loop_stop()
        c.disconnect()
    return got[0]


def test_home_assistant_reads_the_configs_and_steers_through_them(tmp_path):
    broker = acl_broker(tmp_path)
    service = Service(tmp_path, broker)
    try:
        config = json.loads(until(lambda: read_as(broker, "homeassistant", NUMBER), 20,
                                  "the config, read by homeassistant"))
        assert read_as(broker, "homeassistant", config["state_topic"]) == b"12"
        assert read_as(broker, "homeassistant", "twcm/home/host/ha/site")
        since = time.monotonic()
        send(broker, "viewer", config["command_topic"], command(config, 15.0))
        send(broker, "homeassistant", config["command_topic"], command(config, 16.0))
        assert service.value("non_scheduled_amps", since) == b"16"  # the viewer's dropped
        send(broker, "homeassistant", "homeassistant/status", "online")  # HA's birth
        assert service.proc.p.poll() is None
    finally:
        service.close()
