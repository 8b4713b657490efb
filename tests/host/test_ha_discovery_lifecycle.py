"""Home Assistant discovery over time, on a real mosquitto: a TWC that the device stops
listing is removed from HA (empty retained configs) after forget_twc_after_s; configs an
earlier run left that are no longer made are cleared at the next start; a clean stop says
`offline`, a killed `twcm run` gets it said by its will; unique_ids are the same after a
restart; `[home_assistant]` keys are used and checked."""
from __future__ import annotations

import json
import signal
import time

import paho.mqtt.client as mqtt
import pytest

from mqtt_helpers import PASSWORD, USER, Watcher
from test_devicelink_mqtt import LinkThread, Proc, until
from test_ha_discovery_demo import configs, latest
from test_site_twcs import STATE, site
from twcm.service.config_load import load
from twcm.service.config import ConfigError
from twcm.service.status.ha_discovery import HaDiscovery
from twcm.service.status.options import HomeAssistantConfig

ONLINE = "twcm/home/host/online"


def retained(broker, prefix: str) -> dict[str, bytes]:
    """The retained messages under `prefix`, as a new subscriber gets them."""
    got: dict[str, bytes] = {}
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.username_pw_set(USER, PASSWORD)
    c.on_message = lambda cl, u, m: got.__setitem__(m.topic, m.payload) if m.retain else None
    c.connect(broker.host, broker.port)
    c.subscribe(prefix + "#", qos=1)
    c.loop_start()
    time.sleep(0.5)  # retained messages come at once after the subscription
    c.loop_stop()
    c.disconnect()
    return got


def objects(found: dict) -> set[str]:
    return {t.split("/")[-2] for t in found}


def test_a_gone_twc_and_stale_configs_are_cleared_and_a_stop_says_offline(
        mosquitto, monkeypatch):
    monkeypatch.setenv("TWCM_MQTT_PASSWORD", PASSWORD)
    url = f"mqtt://{USER}@127.0.0.1:{mosquitto.port}"
    loop = site(twc_start_stop=True)
    options = HomeAssistantConfig().model_copy(update={"forget_twc_after_s": 1.0})
    w = Watcher(mosquitto, ["homeassistant/#", "twcm/#"])
    lt = LinkThread(HaDiscovery(url, [loop], options).run)
    try:
        lt.call(loop.link.receive, "state", json.dumps(STATE).encode(), time.monotonic())
        until(lambda: {"twc_1a2b_charging", "twc_32c4_charging"} <= objects(configs(w)), 10,
              "both TWCs with their start/stop switch")
        assert latest(w, ONLINE) == b"true"
        first = {c["unique_id"] for _, c in configs(w).values()}
        one = {**STATE, "slaves": STATE["slaves"][:1]}  # 32C4 is released
        lt.call(loop.link.receive, "state", json.dumps(one).encode(), time.monotonic())
        until(lambda: not {o for o in objects(configs(w)) if o.startswith("twc_32c4")}, 10,
              "32C4's configs cleared")
        left = retained(mosquitto, "homeassistant/")
        assert left and not [t for t in left if "twc_32c4" in t]
        assert "twcm/home/host/ha/twc/32C4" not in retained(mosquitto, "twcm/home/host/ha/")
        assert [t for t in left if "twc_1a2b" in t]
        lt.stop()
        until(lambda: latest(w, ONLINE) == b"false", 5, "offline at a clean stop")

        # An earlier run's configs: one of a source no longer configured, one of a TWC
        # the device no longer lists.
        old = {"homeassistant/binary_sensor/twcm_home/source_old_problem/config",
               "homeassistant/sensor/twcm_home/twc_0c0c_power/config"}
        for topic in old:
            w.c.publish(topic, json.dumps({"unique_id": "x", "state_topic": "x"}), qos=1,
                        retain=True).wait_for_publish(5)
        lt = LinkThread(HaDiscovery(url, [loop], options).run)
        until(lambda: not old & set(retained(mosquitto, "homeassistant/")), 10,
              "the old configs cleared")
        now = {c["unique_id"] for _, c in configs(w).values()}
        assert now == {u for u in first if "32c4" not in u}  # stable across the restart
    finally:
        lt.stop()
        w.close()


def test_twcm_run_announces_under_its_prefix_and_its_will_says_offline(tmp_path, mosquitto):
    path = tmp_path / "twcm.toml"
    path.write_text(f"""
[[site]]
name = "home"
max_amps = 24
interval_s = 0.5
[site.source]
type = "static"
generation_w = 300
consumption_w = 800
[broker]
url = "mqtt://{USER}@127.0.0.1:{mosquitto.port}"
password_env = "TWCM_MQTT_PASSWORD"
[database]
sqlite = "{tmp_path / 'twcm.db'}"
[api]
enabled = false
[home_assistant]
prefix = "ha/test"
""")
    w = Watcher(mosquitto, ["ha/#", "twcm/#"])
    w.c.publish("twcm/home/state", json.dumps(STATE), qos=1, retain=True).wait_for_publish(5)
    service = Proc(["run", "--config", str(path)], PASSWORD)
    try:
        until(lambda: latest(w, "ha/test/sensor/twcm_home/twc_1a2b_power/config"), 20,
              "the configs under [home_assistant] prefix")
        assert not [t for t in objects(latest_configs(w)) if t.endswith("_charging")]
        assert latest(w, ONLINE) == b"true"
        service.p.send_signal(signal.SIGKILL)  # no clean disconnect: the broker's will
        service.p.wait(5)
        until(lambda: latest(w, ONLINE) == b"false", 60, "the will: offline")
    finally:
        w.close()
        service.stop()


def latest_configs(w: Watcher) -> dict[str, bytes]:
    with w.lock:
        return {t: p for _, t, p, _ in w.messages if t.endswith("/config") and p}


@pytest.mark.parametrize("table, words", [
    ('prefix = "home/#"', "home_assistant.prefix"),
    ("state_every_s = 0", "home_assistant.state_every_s"),
    ('discoveri = true', "discoveri"),
])
def test_bad_home_assistant_keys_are_named(tmp_path, table, words):
    path = tmp_path / "twcm.toml"
    path.write_text('[[site]]\nname = "home"\nmax_amps = 16\n[site.source]\ntype = "static"\n'
                    f"generation_w = 0\n[home_assistant]\n{table}\n")
    with pytest.raises(ConfigError) as e:
        load(path)
    assert words in str(e.value)
