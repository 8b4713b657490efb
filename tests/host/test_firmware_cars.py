"""[[site.car]] rules hold on the device with the host down: the firmware, unchanged, on
the MicroPython unix port (simulated slaves whose cars tell their VIN, on a pty), a real
mosquitto, and the host's own SiteLink and DeviceLink pushing the rules and a lease. Then
the host goes away, the lease runs out, and the device, on its fallback, still keeps the
car with max_amps 10 at 10 A at most and the denied car at 0 A."""
from __future__ import annotations

import json
import time

import pytest

from firmware_rig import FirmwareRig, device_config
from mqtt_helpers import PASSWORD, USER, Watcher
from test_devicelink_mqtt import LinkThread, until
from twcm.service.cars import device_rules
from twcm.service.config import CarConfig
from twcm.service.devicelink import DeviceLink, SiteLink

P = "twcm/test/"
CAPPED, DENIED = "1M8GDM9AXKP042788", "5YJYGDEE2LF000002"


@pytest.fixture
def rig(tmp_path, mosquitto):
    watcher = Watcher(mosquitto, [P + "#"])
    r = FirmwareRig(tmp_path, device_config(mosquitto, fallback_amps=30))
    r.slaves[0].car.vin = CAPPED
    r.slaves[1].car.vin = DENIED
    r.start()
    yield r, watcher, mosquitto
    r.close()
    watcher.close()


def test_rules_hold_with_the_host_down(rig, monkeypatch):
    r, watcher, broker = rig
    monkeypatch.setenv("TWCM_MQTT_PASSWORD", PASSWORD)
    site = SiteLink("test", max_amps=40, ttl_s=5)
    site.cars(device_rules([CarConfig(vin=CAPPED, name="Model 3", max_amps=10),
                            CarConfig(vin=DENIED, name="guest", allow=False)]))
    host = LinkThread(DeviceLink(f"mqtt://{USER}@127.0.0.1:{broker.port}", [site]).run)
    try:
        until(lambda: site.state is not None and site.state.car_rules == 2, 15,
              f"the rules on the device ({r.console()})")
        host.call(site.want, 24, "test")

        def rules_in_force() -> bool:
            s = site.state
            return s is not None and len(s.slaves) == 2 and all(
                x.car_rule is not None for x in s.slaves)
        until(rules_in_force, 20, "both VINs read and their rules applied")
        until(lambda: r.applied() == [10.0, 0.0], 5, f"10 A and 0 A, not {r.applied()}")
    finally:
        host.stop()  # the host is gone: no more renewals
    sent = time.monotonic()
    got = watcher.wait_for(lambda t, p: t == P + "event"
                           and json.loads(p)["event"] == "fallback_entered", 10, since=sent)
    assert got, r.console()
    # On the fallback (30 A for all): the rules still hold, for as long as we watch.
    end = time.monotonic() + 8
    while time.monotonic() < end:
        a, b = r.applied()
        assert a <= 10 and b == 0, (a, b)
        time.sleep(0.05)
    assert r.applied() == [10.0, 0.0]
    state = json.loads(watcher.wait_for(lambda t, p: t == P + "state", 5, since=got[0])[2])
    assert state["mode"] == "fallback" and state["car_rules"] == 2
    rules = {x["id"]: x["car_rule"] for x in state["slaves"]}
    assert rules == {"1A00": {"vin": CAPPED, "max_amps": 10, "min_amps": 0, "priority": 0},
                     "1A01": {"vin": DENIED, "max_amps": 0, "min_amps": 0, "priority": 0}}
    # The capped car draws on one phase of its single-phase Wall Connector.
    charging = next(x for x in state["slaves"] if x["id"] == "1A00")
    assert charging["phase_amps"][0] > 5 and charging["phase_amps"][1:] == [0, 0]
