"""Every setting over MQTT (docs/mqtt.md, "Host topics"): `twcm run` against a real
mosquitto (with a password). Each `twcm/home/host/<path>/set` changes its setting, and the
value in force is published retained under `twcm/home/host/<path>`; a bad payload is
rejected on `host/event` with a reason and changes nothing. One service serves all the
tests of this module (no device: these are the host's own topics); the device and
restarts are in test_mqtt_control_device.py."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import paho.mqtt.client as mqtt

from mqtt_helpers import PASSWORD, USER, Mosquitto, Watcher
from test_devicelink_mqtt import Proc, until
from test_service_control import SITE
from twcm.service.control.mqtt_topics import setting_paths

HOST = "twcm/home/host/"
WINDOWS = [{"days": ["Sat", "Sun"], "start": "09:00", "end": "17:00", "amps": 20}]
OFFSETS = [{"name": "heat pump", "value": 800.0, "unit": "W"},
           {"name": "sauna", "value": 2.5, "unit": "A"}]

# (path, payload sent to <path>/set, payload then published retained on <path>)
CHANGES = [
    ("non_scheduled", "fixed", "fixed"),
    ("non_scheduled_amps", "10", "10"),
    ("min_amps", "8", "8"),
    ("volts", "240", "240.0"),
    ("phases", "3", "3"),
    ("main_fuse_amps", "25", "25.0"),
    ("battery_min_soc", "20", "20.0"),
    ("battery_charge_w", "2000", "2000.0"),
    ("max_reading_age_s", "60", "60.0"),
    ("charge_off_grid", "true", "true"),
    ("windows", json.dumps(WINDOWS), json.dumps(WINDOWS)),
    ("consumption_offsets", json.dumps(OFFSETS), json.dumps(OFFSETS)),
    ("green/style", "no_grid", "no_grid"),  # a preset: it moves the green keys too
    ("green/subtract_charger_load", "on", "true"),  # Home Assistant's switch words
    ("green/offset_w", "-150", "-150.0"),
    ("green/offset_amps", "1.5", "1.5"),
    ("green/flex_w", "200", "200.0"),
    ("green/start_delay_s", "30", "30.0"),
    ("green/stop_delay_s", "120", "120.0"),
    ("green/change_interval_s", "15", "15.0"),
    ("green/deadband_amps", "0.5", "0.5"),
    ("green/lower_wh", "20", "20.0"),
    ("green/raise_wh", "80", "80.0"),
    ("green/grid_share", "0.05", "0.05"),
    ("green/grid_allowance_wh", "300", "300.0"),
]


class Service:
    """`twcm run` for site "home" on a mosquitto of its own, and a watcher of its topics."""

    def __init__(self, workdir: Any, broker: Mosquitto | None = None) -> None:
        self.broker = broker or Mosquitto(workdir)
        path = workdir / "twcm.toml"
        path.write_text(SITE + f"""
[site.policy]
non_scheduled_amps = 12
[broker]
url = "mqtt://{USER}@127.0.0.1:{self.broker.port}"
password_env = "TWCM_MQTT_PASSWORD"
[database]
sqlite = "{workdir / 'twcm.db'}"
[api]
enabled = false
""")
        self.proc = Proc(["run", "--config", str(path)], PASSWORD)
        self.watcher = Watcher(self.broker, [HOST + "#"])
        until(lambda: self.status(), 20, "the host status")

    def status(self) -> dict:
        published = self.watcher.json_of(HOST + "status")
        return published[-1] if published else {}

    def value(self, path: str, since: float) -> bytes | None:
        """The first payload published on host/<path> since `since`, waiting for it."""
        hit = self.watcher.wait_for(lambda t, p: t == HOST + path, 5, since)
        return None if hit is None else hit[2]

    def close(self) -> None:
        self.watcher.close()
        self.proc.stop()
        self.broker.kill()


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[Service]:
    s = Service(tmp_path_factory.mktemp("mqtt_control"))
    yield s
    s.close()


def retained(broker: Mosquitto, topic: str, user: str = USER,
             password: str = PASSWORD) -> tuple[bytes, bool] | None:
    """What a client that connects now gets first on `topic` (the retained message) and
    its retain flag; None if nothing comes within 2 s."""
    got: list[mqtt.MQTTMessage] = []
    done = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.username_pw_set(user, password)
    c.on_connect = lambda client, *_: client.subscribe(topic, qos=1)
    c.on_message = lambda client, userdata, msg: (got.append(msg), done.set())
    c.connect(broker.host, broker.port, keepalive=5)
    c.loop_start()
    try:
        done.wait(2)
    finally:
        c.disconnect()
        c.loop_stop()
    return (got[0].payload, bool(got[0].retain)) if got else None


def test_every_setting_has_a_case_here():
    assert sorted(p for p, _, _ in CHANGES) == sorted(setting_paths())


@pytest.mark.parametrize("path,payload,shown", CHANGES, ids=[c[0] for c in CHANGES])
def test_a_set_changes_the_setting_and_its_value_is_republished_retained(
        service, path, payload, shown):
    assert retained(service.broker, HOST + path) != (shown.encode(), True)  # not already so
    since = time.monotonic()
    service.watcher.publish(HOST + path + "/set", payload)
    assert service.value(path, since) == shown.encode()
    assert retained(service.broker, HOST + path) == (shown.encode(), True)
    key, value = path.replace("/", "."), shown if path in ("non_scheduled", "green/style") \
        else json.loads(shown)
    until(lambda: service.status()["settings"][key] == {"value": value,
                                                         "from": "runtime"}, 5, "the status")


def test_charge_now_set_starts_and_ends_it_and_its_value_is_retained(service):
    since = time.monotonic()
    service.watcher.publish(HOST + "charge_now/set", {"amps": 12, "minutes": 5})
    value = json.loads(service.value("charge_now", since))
    assert value["amps"] == 12 and "until" in value
    assert retained(service.broker, HOST + "charge_now") == (json.dumps(value).encode(), True)
    since = time.monotonic()
    service.watcher.publish(HOST + "charge_now/set", "")
    assert service.value("charge_now", since) == b"null"


def test_an_empty_payload_sets_a_key_back_to_the_config_file_value(service):
    since = time.monotonic()
    service.watcher.publish(HOST + "non_scheduled_amps/set", "20")
    assert service.value("non_scheduled_amps", since) == b"20"
    since = time.monotonic()
    service.watcher.publish(HOST + "non_scheduled_amps/set", "")
    assert service.value("non_scheduled_amps", since) == b"12"  # the file's
    until(lambda: service.status()["settings"]["non_scheduled_amps"]
          == {"value": 12, "from": "file"}, 5, "the file's value in the status")


BAD = [
    ("non_scheduled_amps", "99", 'site "home": policy.non_scheduled_amps: 99 is not '
     "allowed: must be a whole number of amps, 0 to max_amps"),
    ("non_scheduled_amps", "ten", "policy.non_scheduled_amps: \"ten\" is not allowed: must "
     "be a whole number"),
    ("non_scheduled", "sunny", "policy.non_scheduled: \"sunny\" is not allowed: must be "
     "'fixed', 'do_not_charge' or 'track_green'"),
    ("green/start_delay_s", "-1", "policy.green.start_delay_s: -1.0 is not allowed: must be "
     ">= 0"),
    ("green/grid_share", "2", "policy.green.grid_share: 2.0 is not allowed: must be 0 to 1"),
    ("battery_min_soc", "101", "policy.battery_min_soc: 101.0 is not allowed: must be 0 to "
     "100 %"),
    ("charge_off_grid", "maybe", "policy.charge_off_grid: \"maybe\" is not allowed: must be "
     "true or false"),
    ("volts", "NaN", "NaN is not a number: give a finite number"),
    ("min_amps", b"\xff", "the payload is not UTF-8 text"),
    ("windows", "[{", "the payload is not valid JSON"),
    ("windows", json.dumps([{**WINDOWS[0], "start": "25:00"}]),
     'policy.windows[0].start: "25:00" is not allowed: not a time of day'),
    ("consumption_offsets", json.dumps([{"name": "oven", "value": 2, "unit": "kW"}]),
     "policy.consumption_offsets[0].unit: \"kW\" is not allowed: must be 'W' or 'A'"),
    ("colour", "red", "no setting 'colour': give one of charge_now, "),
    ("charge_now", json.dumps({"amps": 40, "minutes": 5}), "amps must be 0-24, not 40"),
    ("charge_now", "16", 'give a JSON object such as {"amps": 16, "minutes": 60}'),
]


@pytest.mark.parametrize("path,payload,reason", BAD, ids=[f"{b[0]}={b[1]!r}" for b in BAD])
def test_a_bad_payload_is_rejected_with_a_reason_and_changes_nothing(
        service, path, payload, reason):
    before = service.status()["settings"]
    since = time.monotonic()
    service.watcher.publish(HOST + path + "/set", payload)
    hit = service.watcher.wait_for(lambda t, p: t == HOST + "event", 5, since)
    assert hit is not None, "no rejection"
    event = json.loads(hit[2])
    assert event["event"] == "rejected" and event["topic"] == HOST + path + "/set"
    assert reason in event["reason"]
    # The status is republished at once after each command: the same settings.
    until(lambda: service.watcher.json_of(HOST + "status", since), 5, "the status")
    assert service.status()["settings"] == before
    assert service.watcher.wait_for(lambda t, p: t == HOST + path, 0.3, since) is None
