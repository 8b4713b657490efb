"""Settings over MQTT reach the device and survive a restart: `twcm run` on a real mosquitto
(with a password) driving a simulated device (`twcm master` on `twcm sim --pty`). A
retained command on a `/set` topic, found at connect, is ignored and reported."""
from __future__ import annotations

import json
import time

from mqtt_helpers import Watcher, free_port
from test_devicelink_mqtt import device, until  # noqa: F401  (device: a fixture)
from test_service_control import device_limit, start_service

HOST = "twcm/home/host/"


def test_a_setting_reaches_the_device_survives_a_restart_and_stale_retained_sets_are_ignored(
        tmp_path, mosquitto, device):
    service = start_service(tmp_path, mosquitto, device, free_port())
    watcher = Watcher(mosquitto, ["twcm/home/#"])
    try:
        until(lambda: device_limit(watcher) == ("stopped", 0), 20, "no surplus: a 0 A lease")
        watcher.publish(HOST + "non_scheduled/set", "fixed")  # at the default 16 A
        until(lambda: device_limit(watcher) == ("lease", 16), 5, "fixed 16 A on the device")
        watcher.publish(HOST + "non_scheduled_amps/set", "10")
        until(lambda: device_limit(watcher) == ("lease", 10), 5, "fixed 10 A on the device")

        service.stop()
        until(lambda: device_limit(watcher)[0] != "lease", 20, "the lease run out")
        # While twcm is down, someone leaves a retained command on a /set topic.
        stale = HOST + "non_scheduled_amps/set"
        watcher.c.publish(stale, "20", qos=1, retain=True).wait_for_publish(5)
        since = time.monotonic()
        service = start_service(tmp_path, mosquitto, lambda *a: None, free_port())

        hit = until(lambda: watcher.wait_for(lambda t, p: t == HOST + "event", 0.1, since),
                    20, "the stale command reported")
        event = json.loads(hit[2])
        assert event["event"] == "rejected" and event["topic"] == stale
        assert "a retained command is ignored" in event["reason"]
        assert f"mosquitto_pub -r -n -t {stale}" in event["reason"]
        # The settings made before the restart hold: 10 A, not the stale 20 A.
        hit = watcher.wait_for(lambda t, p: t == HOST + "non_scheduled_amps", 5, since)
        assert hit is not None and hit[2] == b"10"
        status = until(lambda: watcher.json_of(HOST + "status", since), 5, "the status")[-1]
        assert status["settings"]["non_scheduled_amps"] == {"value": 10, "from": "runtime"}
        assert status["settings"]["non_scheduled"] == {"value": "fixed", "from": "runtime"}
        until(lambda: device_limit(watcher) == ("lease", 10), 10,
              "the device at 10 A again after the restart")
        assert service.p.poll() is None
    finally:
        watcher.c.publish(HOST + "non_scheduled_amps/set", "", qos=1, retain=True)
        watcher.close()
        service.stop()
