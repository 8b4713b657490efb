"""`twcm master --broker`: the MQTT side of a master, on paho-mqtt.

The ESP32 (firmware/device/) and this module both serve docs/mqtt.md through
twc.hub.Hub, so that a Pi with a USB RS-485 adapter behaves as the device
does. paho's thread (loop_start) does all network I/O and runs the commands;
the bus loop calls publish_pending(), which never waits for the network.
"""
from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from twc import state
from twc.health import why
from twc.hub import mqtt_side
from twc.master import Master
from twc.ticks import ticks_ms

from twcm import __version__
from twcm.mqtt import BACKOFF_S, KEEPALIVE_S, Broker


class MqttLink:
    """The leases, schedule and MQTT contract of `master`, served on `broker`;
    log(line) reports connections, warnings and the leases' events."""

    def __init__(self, master: Master, broker: Broker, site: str, state_dir: Path,
                 log: Callable[[str], None]) -> None:
        self.broker = broker
        self.log = log
        # The Hub queues the events for MQTT and still calls the printer.
        self.hub = mqtt_side(master, site, __version__, self._store,
                             lambda kind, event: log("event: " + state.event_json(event)))
        self.leases = self.hub.leases
        self.contract = self.hub.contract
        self.health = self.hub.health  # the state's network, ntp and mqtt
        self.health.host()
        self.schedule_file = state_dir / "schedule.json"
        self._restore()
        self.connected = False
        self._started = time.monotonic()
        host = socket.gethostname().split(".")[0]
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"twcm-{site}-{host}")
        if broker.user is not None:
            c.username_pw_set(broker.user, broker.password)
        if broker.tls:
            c.tls_set(ca_certs=broker.ca)  # or the system's CA store; host name checked
        c.will_set(self.contract.online_topic, "false", qos=1, retain=True)
        c.reconnect_delay_set(*BACKOFF_S)
        c.on_connect = self._on_connect
        c.on_connect_fail = self._on_connect_fail
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self.client = c

    def start(self) -> None:
        """Connect in paho's thread, retrying until it works."""
        self.log(f"MQTT: broker {self.broker}, topics {self.contract.prefix}...")
        self.client.connect_async(self.broker.host, self.broker.port, KEEPALIVE_S)
        self.client.loop_start()

    def close(self) -> None:
        """A clean stop: say `false` ourselves, as a DISCONNECT drops the will."""
        if self.connected:
            self.connected = False
            info = self.client.publish(self.contract.online_topic, "false", qos=1, retain=True)
            try:
                info.wait_for_publish(2)
            except (RuntimeError, ValueError):
                pass  # the connection broke just now: the broker sends the will
        self.client.disconnect()
        self.client.loop_stop()

    def publish_pending(self, now_ms: int) -> None:
        """Publish the Hub's events and state; never waits. Offline, events
        wait in the Hub (at most hub.MAX_EVENTS) and no state is built."""
        if not self.connected:
            return
        items = self.hub.outbox(now_ms, int(time.monotonic() - self._started), None)
        for i, (topic, text, retain) in enumerate(items):
            if self.client.publish(topic, text, 0, retain).rc != mqtt.MQTT_ERR_SUCCESS:
                self.hub.requeue(items[i:])
                return
            if topic == self.contract.state_topic:
                self.hub.sent(now_ms)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, _: Any) -> None:
        if reason.is_failure:
            self.health.mqtt_error = f"the broker refused: {reason}"
            self.log(f"warning: broker {self.broker} refused the connection ({reason}); "
                     "check the user in --broker and the password; retrying")
            return
        client.subscribe([(t, 1) for t in self.contract.subscriptions()])
        client.publish(self.contract.online_topic, "true", qos=1, retain=True)
        self.health.mqtt_connects += 1
        self.hub.connected()
        self.connected = True
        self.log(f"MQTT: connected to {self.broker}")

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        # Each failed try (1 s, 2 s, 4 s ... 60 s). paho passes no reason, but calls this
        # while it handles the OSError of the try, so that is the exception in hand.
        e = sys.exc_info()[1]
        self.health.mqtt_error = "cannot connect" if e is None else why(e)
        hint = "is it up, its certificate valid?" if self.broker.tls else "is it up?"
        self.log(f"warning: cannot reach broker {self.broker} ({hint}); the master goes on "
                 f"without it (mode {self.leases.mode}) and retries")

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, _: Any) -> None:
        if self.connected:
            self.connected = False
            self.health.mqtt_error = f"lost the connection: {reason}"
            self.log(f"warning: lost broker {self.broker} ({reason}); reconnecting")

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.hub.command(msg.topic, msg.payload, ticks_ms(), int(time.time()))

    def _store(self, text: str) -> None:
        tmp = self.schedule_file.with_suffix(".tmp")
        try:
            self.schedule_file.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(text)
            os.replace(tmp, self.schedule_file)  # never half a file
        except OSError as e:
            self.log(f"warning: schedule not stored in {self.schedule_file} ({e}); "
                     "it is followed, but not after a restart")

    def _restore(self) -> None:
        try:
            text = self.schedule_file.read_text()
        except OSError as e:
            if not isinstance(e, FileNotFoundError):
                self.log(f"warning: cannot read the schedule {self.schedule_file} ({e})")
            return
        if self.leases.restore(text):
            self.log(f"schedule restored from {self.schedule_file}")
