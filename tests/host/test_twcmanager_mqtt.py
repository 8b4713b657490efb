"""TWCManager's MQTT status topics (landscape.md §1.11) on a real mosquitto: each
topic twcm has data for, retained, with TWCManager's payloads; at most one message per
topic per every_s, and only when its value changed."""
from __future__ import annotations

import asyncio
import json
import time

from mqtt_helpers import PASSWORD, USER, Watcher
from test_devicelink_mqtt import LinkThread, until
from test_ha_discovery_lifecycle import retained
from test_site_twcs import SLAVE, STATE, site
from twcm.service.status import twcmanager_mqtt
from twcm.service.status.options import TwcManagerMqttConfig
from twcm.service.status.twcmanager_mqtt import TwcManagerMqtt

CHARGING = {**SLAVE, "id": "1A2B", "state": "charging", "actual_amps": 15.87,
            "offered_amps": 16, "volts": [231, 229, 232], "lifetime_kwh": 6843,
            "vin": "5YJ3E1EA7JF000001"}
IDLE = {**SLAVE, "id": "32C4", "max_amps": 16, "actual_amps": 0.25}
DEVICE = {**STATE, "limit_amps": 20, "slaves": [CHARGING, IDLE]}


def test_twcmanagers_topics_are_published_retained(mosquitto, monkeypatch):
    monkeypatch.setenv("TWCM_MQTT_PASSWORD", PASSWORD)
    loop = site()
    loop.turn()  # a decision: the policy in force (no readings yet: the default)
    loop.link.receive("state", json.dumps(DEVICE).encode(), time.monotonic())
    w = Watcher(mosquitto, ["TWC/#"])
    out = TwcManagerMqtt(f"mqtt://{USER}@127.0.0.1:{mosquitto.port}", loop,
                         TwcManagerMqttConfig(enabled=True))
    lt = LinkThread(out.run)
    try:
        want = {
            "TWC/1A2B/ampsMax": b"32", "TWC/1A2B/ampsInUse": b"15.87", "TWC/1A2B/state": b"1",
            "TWC/1A2B/carsCharging": b"1", "TWC/1A2B/currentVehicleVIN": b"5YJ3E1EA7JF000001",
            "TWC/1A2B/lastVehicleVIN": b"5YJ3E1EA7JF000001", "TWC/1A2B/lifetimekWh": b"6843",
            "TWC/1A2B/voltagePhaseA": b"231", "TWC/1A2B/voltagePhaseB": b"229",
            "TWC/1A2B/voltagePhaseC": b"232", "TWC/1A2B/chargerLoadInW": b"10982",
            "TWC/1A2B/ampsOffered": b"16",
            "TWC/32C4/ampsMax": b"16", "TWC/32C4/ampsInUse": b"0", "TWC/32C4/state": b"0",
            "TWC/32C4/carsCharging": b"0", "TWC/32C4/ampsOffered": b"0",
            "TWC/all/totalAmpsInUse": b"15.87", "TWC/all/maxAmpsForSlaves": b"20",
            "TWC/all/currentPolicy": b"Non Scheduled Charging", "TWC/config/minAmpsPerTWC": b"6",
        }
        until(lambda: want.keys() <= {t for _, t, _, _ in w.messages}, 10, "every topic")
        got = retained(mosquitto, "TWC/")
        assert {t: got.get(t) for t in want} == want
        assert "TWC/32C4/currentVehicleVIN" not in got  # no car: nothing, as TWCManager
    finally:
        lt.stop()
        w.close()


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bool]] = []

    async def publish(self, topic: str, payload: str, qos: int, retain: bool) -> None:
        self.sent.append((topic, payload, retain))


def test_a_topic_goes_out_once_per_every_s_and_only_when_changed(monkeypatch):
    loop = site()
    now = [1000.0]
    monkeypatch.setattr(twcmanager_mqtt.time, "monotonic", lambda: now[0])
    out = TwcManagerMqtt("mqtt://127.0.0.1", loop, TwcManagerMqttConfig(enabled=True,
                                                                        every_s=60))
    client = Recorder()

    def amps(value: float) -> list[str]:
        state = {**DEVICE, "slaves": [{**CHARGING, "actual_amps": value}]}
        loop.link.receive("state", json.dumps(state).encode(), now[0])
        client.sent.clear()
        asyncio.run(out.step(client))  # type: ignore[arg-type]
        return [p for t, p, r in client.sent if t == "TWC/1A2B/ampsInUse" and r]

    assert amps(10.0) == ["10"]
    now[0] += 30
    assert amps(12.0) == []  # changed, but 30 s after the last: waits
    now[0] += 30
    assert amps(12.0) == ["12"]  # 60 s on: the change goes out
    now[0] += 120
    assert amps(12.0) == []  # unchanged: nothing (it is retained)
