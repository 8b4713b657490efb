"""Home Assistant discovery end to end: `twcm demo --broker` on a real mosquitto (with a
password). Every discovery config follows HA's rules (ha_rules.py), every topic a config
names is published, its templates make states HA takes from what is published, the
unique_ids differ; and a command on each control entity's command_topic, made as HA makes
it, changes the simulated device."""
from __future__ import annotations

import json
import time

from ha_rules import availability_problem, command, problems, state_problem
from mqtt_helpers import PASSWORD, USER, Watcher
from test_devicelink_mqtt import Proc, until

PREFIX = "homeassistant/"


def configs(w: Watcher) -> dict[str, tuple[str, dict]]:
    """The latest config per topic: (component, payload), without cleared ones."""
    out: dict[str, tuple[str, dict]] = {}
    with w.lock:
        for _, topic, payload, _ in w.messages:
            if topic.startswith(PREFIX) and topic.endswith("/config"):
                if payload:
                    out[topic] = (topic.split("/")[1], json.loads(payload))
                else:
                    out.pop(topic, None)
    return out


def latest(w: Watcher, topic: str) -> bytes | None:
    with w.lock:
        hits = [p for _, t, p, _ in w.messages if t == topic]
    return hits[-1] if hits else None


def device(w: Watcher) -> dict:
    return json.loads(latest(w, "twcm/demo/state") or b"null")


def twcs(w: Watcher) -> dict[str, dict]:
    state = device(w)
    return {s["id"]: s for s in state["slaves"]} if state else {}


def test_the_demo_is_discovered_and_each_control_changes_the_simulated_device(mosquitto):
    demo = Proc(["demo", "--broker", f"mqtt://{USER}@127.0.0.1:{mosquitto.port}",
                 "--slaves", "2", "--speed", "1", "--every", "5"], PASSWORD)
    w = Watcher(mosquitto, ["homeassistant/#", "twcm/#"])
    try:
        until(lambda: len(twcs(w)) == 2, 30, "the demo's two TWCs")
        ids = sorted(twcs(w))
        want = {f"twc_{i.lower()}_{k}" for i in ids for k in ("power", "energy", "cap")}
        found = until(lambda: (c := configs(w)) and want <= {t.split("/")[-2] for t in c}
                      and c, 20, "the TWCs' configs")
        time.sleep(1.5)  # one more round: configs that change once the state is known
        found = configs(w)
        # HA's rules, for every config.
        assert [p for t, (_, c) in found.items() for p in problems(t, c)] == []
        uids = [c["unique_id"] for _, c in found.values()]
        assert len(uids) == len(set(uids))
        devices = {i for _, c in found.values() for i in c["device"]["identifiers"]}
        assert {c["device"].get("via_device") for _, c in found.values()} <= devices | {None}
        site_dev = found[PREFIX + "sensor/twcm_demo/power/config"][1]["device"]
        assert site_dev["sw_version"] not in (None, "unknown")  # the device's firmware
        twc_dev = found[PREFIX + f"sensor/twcm_demo/twc_{ids[0].lower()}_power/config"][1]
        assert twc_dev["device"]["serial_number"] == ids[0]
        assert twc_dev["device"]["via_device"] == "twcm_demo"
        by_key = {t.split("/")[-2]: c for t, (_, c) in found.items()}
        energy = by_key[f"twc_{ids[0].lower()}_energy"]
        assert (energy["device_class"], energy["state_class"], energy["unit_of_measurement"]) \
            == ("energy", "total_increasing", "kWh")
        state = by_key[f"twc_{ids[0].lower()}_state"]
        assert state["device_class"] == "enum" and "charging" in state["options"]
        assert {"source_sim_generation_w", "source_sim_problem", "claim", "lease",
                "device_health", "non_scheduled", "charge_now_amps", "charge_now_start",
                "charge_now_cancel", "non_scheduled_amps"} <= set(by_key)

        # Every topic named is published, and HA can take what its templates make of it.
        for topic, (comp, c) in found.items():
            for key in ("state_topic", "json_attributes_topic"):
                if key in c:
                    payload = until(lambda: latest(w, c[key]), 10, c[key])
                    if key == "state_topic":
                        assert state_problem(c, comp, payload) is None, (topic, payload)
            for a in c["availability"]:
                payload = until(lambda: latest(w, a["topic"]), 10, a["topic"])
                assert availability_problem(a, payload) is None, (topic, a, payload)
        assert latest(w, "twcm/demo/host/online") == b"true"

        # Each control, as HA sends it, changes the simulated device.
        def send(key: str, value: object = None) -> None:
            c = by_key[key]
            w.publish(c["command_topic"], command(c, value))

        def limit() -> tuple[str, int]:
            return device(w)["source"], device(w)["limit_amps"]

        send("non_scheduled", "fixed")
        send("non_scheduled_amps", 10.0)  # HA's number sends a float
        until(lambda: limit() == ("lease", 10), 15, "fixed 10 A on the device")
        send("charge_now_amps", 14.0)
        until(lambda: limit() == ("lease", 14), 15, "Charge Now 14 A on the device")
        send("charge_now_cancel")
        until(lambda: limit() == ("lease", 10), 15, "back to 10 A")
        send("charge_now_start")
        until(lambda: limit() == ("lease", 40), 15, "Charge Now at the site's 40 A")
        send(f"twc_{ids[0].lower()}_cap", 8.0)
        until(lambda: twcs(w)[ids[0]]["cap_amps"] == 8, 15, "the cap in force on the device")
        until(lambda: twcs(w)[ids[0]]["offered_amps"] <= 8, 15, "its offer within the cap")
        send(f"twc_{ids[0].lower()}_cap_remove")
        until(lambda: twcs(w)[ids[0]]["cap_amps"] is None, 15, "the cap removed")
        assert not [e for e in w.json_of("twcm/demo/host/event")]  # nothing was refused

        # HA's birth message: everything is announced again.
        since = time.monotonic()
        w.publish("homeassistant/status", "online")
        until(lambda: {topic for at, topic, payload, _ in list(w.messages) if payload
                       and topic.endswith("/config") and at >= since} >= set(found),
              10, "every config again")
        assert demo.p.poll() is None
    finally:
        w.close()
        demo.stop()
