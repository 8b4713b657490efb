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


def test_a_twc_cap_over_mqtt_reaches_the_device_and_start_stop_is_refused_unless_enabled(
        tmp_path, mosquitto, device):
    service = start_service(tmp_path, mosquitto, device, free_port(), """
[site.policy]
non_scheduled = "fixed"
""")
    watcher = Watcher(mosquitto, ["twcm/home/#"])

    def slaves() -> dict:
        states = watcher.json_of("twcm/home/state")
        return {s["id"]: s for s in states[-1]["slaves"]} if states else {}

    def value(path: str, since: float) -> bytes | None:
        hit = watcher.wait_for(lambda t, p: t == HOST + path, 5, since)
        return None if hit is None else hit[2]

    try:
        until(lambda: len(slaves()) == 2, 20, "the device's two TWCs")
        twc = sorted(slaves())[0]
        assert value(f"twc/{twc}/cap", 0) == b"null"  # no cap yet
        until(lambda: watcher.wait_for(
            lambda t, p: t == HOST + f"twc/{twc}/charging" and p in (b"true", b"false"),
            0.1), 5, "its charging value")

        since = time.monotonic()
        watcher.publish(HOST + f"twc/{twc}/cap/set", "8")
        assert value(f"twc/{twc}/cap", since) == b"8"
        until(lambda: slaves()[twc]["cap_amps"] == 8, 10, "the cap in force on the device")
        until(lambda: slaves()[twc]["offered_amps"] <= 8, 10, "its offer within the cap")

        since = time.monotonic()
        for payload, reason in (("99", f"TWC {twc}: amps must be a whole number 0-32"),
                                ("lots", "must be a whole number of amps, or empty")):
            watcher.publish(HOST + f"twc/{twc}/cap/set", payload)
            until(lambda: any(reason in e["reason"]
                              for e in watcher.json_of(HOST + "event", since)), 5, reason)
        watcher.publish(HOST + f"twc/{twc}/charging/set", "false")
        until(lambda: any("starting and stopping a TWC is off" in e["reason"]
                          for e in watcher.json_of(HOST + "event", since)), 5, "refused")
        assert slaves()[twc]["cap_amps"] == 8  # the refusals changed nothing

        since = time.monotonic()
        watcher.publish(HOST + f"twc/{twc}/cap/set", "")
        assert value(f"twc/{twc}/cap", since) == b"null"
        until(lambda: slaves()[twc]["cap_amps"] is None, 10, "the cap gone on the device")
    finally:
        watcher.close()
        service.stop()
