"""The firmware, unchanged, on the MicroPython unix port: a real mosquitto
(with a password file), simulated slave TWCs on a pty, and the MQTT contract
of docs/mqtt.md end to end."""
from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from firmware_rig import ROOT, FirmwareRig, device_config
from mqtt_helpers import Watcher

P = "twcm/test/"


def wait_until(pred: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def is_event(kind: str) -> Callable[[str, bytes], bool]:
    return lambda t, p: t == P + "event" and json.loads(p)["event"] == kind


def state_has(**want) -> Callable[[str, bytes], bool]:
    def pred(t: str, p: bytes) -> bool:
        if t != P + "state":
            return False
        s = json.loads(p)
        return all(s.get(k) == v for k, v in want.items())
    return pred


@pytest.fixture
def rig(tmp_path, mosquitto):
    watcher = Watcher(mosquitto, [P + "#"])
    r = FirmwareRig(tmp_path, device_config(mosquitto))
    r.watcher = watcher
    r.broker = mosquitto
    r.start()
    assert watcher.wait_for(lambda t, p: t == P + "online" and p == b"true", 10), r.console()
    assert wait_until(lambda: r.applied() == [6.0, 6.0], 10), (r.applied(), r.console())
    yield r
    r.close()
    watcher.close()


def test_state_shows_the_slaves_on_the_fallback(rig):
    got = rig.watcher.wait_for(lambda t, p: t == P + "state"
                               and len(json.loads(p)["slaves"]) == 2, 5)
    assert got
    s = json.loads(got[2])
    assert s["mode"] == "fallback" and s["limit_amps"] == 12
    assert s["wiring_max_amps_all"] == 40 and s["wiring_max_amps_per_twc"] == 32
    assert {x["id"] for x in s["slaves"]} == {"1A00", "1A01"}
    assert all(x["protocol"] == 2 and x["max_amps"] == 32 for x in s["slaves"])
    assert s["free_heap"] > 0 and s["version"]


def test_a_lease_is_honoured_then_expires_to_the_fallback(rig):
    w = rig.watcher
    sent = time.monotonic()
    w.publish(P + "limit/set", {"amps": 20, "ttl_s": 5})
    assert wait_until(lambda: rig.applied() == [10.0, 10.0], 5), rig.applied()
    assert w.wait_for(state_has(mode="lease", limit_amps=20), 3, since=sent)
    got = w.wait_for(is_event("fallback_entered"), 8, since=sent)
    assert got, rig.console()
    assert got[0] - sent <= 5 + 1.0  # within ttl + 1 s
    assert w.wait_for(state_has(mode="fallback", limit_amps=12), 3, since=got[0])
    assert wait_until(lambda: rig.applied() == [6.0, 6.0], 4), rig.applied()


def test_a_schedule_is_followed_without_a_lease(rig):
    w = rig.watcher
    now = int(time.time())
    sent = time.monotonic()
    w.publish(P + "schedule/set", [{"start": now - 60, "end": now + 600, "amps": 16}])
    assert w.wait_for(state_has(mode="schedule", limit_amps=16), 5, since=sent), rig.console()
    assert wait_until(lambda: rig.applied() == [8.0, 8.0], 5), rig.applied()
    # A lease beats the schedule while it lasts.
    w.publish(P + "limit/set", {"amps": 30, "ttl_s": 60})
    assert wait_until(lambda: rig.applied() == [15.0, 15.0], 5), rig.applied()


BAD = [
    ("limit/set", "not json", "JSON"),
    ("limit/set", {"amps": 41, "ttl_s": 60}, "amps"),
    ("limit/set", {"amps": -1, "ttl_s": 60}, "amps"),
    ("limit/set", {"amps": 10, "ttl_s": 2}, "ttl_s"),
    ("limit/set", {"amps": "10", "ttl_s": 60}, "amps"),
    ("twc/BEEF/limit/set", {"amps": 10, "ttl_s": 60}, "BEEF"),
    ("schedule/set", [{"start": 1000, "end": 2000, "amps": 10}], "ended"),
    ("schedule/set", [{"start": 1000, "end": 4000000000, "amps": 10}], "48 h"),
]


def test_bad_payloads_are_rejected_with_a_reason_and_change_nothing(rig):
    w = rig.watcher
    first = time.monotonic()
    for topic, payload, reason in BAD:
        sent = time.monotonic()
        w.publish(P + topic, payload)
        got = w.wait_for(is_event("rejected"), 5, since=sent)
        assert got, (topic, payload, rig.console())
        ev = json.loads(got[2])
        assert reason.lower() in ev["reason"].lower() and ev["topic"] == topic, ev
    time.sleep(1.5)
    assert rig.applied() == [6.0, 6.0]
    states = w.json_of("state", since=first)
    assert states and all(s["mode"] == "fallback" and s["limit_amps"] == 12 for s in states)


def test_broker_lost_mid_charge_bus_keeps_going_and_link_recovers(rig):
    w = rig.watcher
    w.publish(P + "limit/set", {"amps": 30, "ttl_s": 600})
    assert wait_until(lambda: rig.applied() == [15.0, 15.0], 5)
    rig.broker.kill()
    time.sleep(4)
    rig.broker.start()
    # The firmware reconnects (back-off 1-2 s) and subscribes again.
    w2 = Watcher(rig.broker, [P + "#"], client_id="watcher2")
    assert w2.wait_for(lambda t, p: t == P + "online" and p == b"true", 15), rig.console()
    time.sleep(0.5)
    w2.publish(P + "limit/set", {"amps": 24, "ttl_s": 60})
    assert wait_until(lambda: rig.applied() == [12.0, 12.0], 5), rig.applied()
    # Through it all the slaves were heartbeated (sim clock, ms), the lease held.
    for times in rig.heartbeat_times():
        gaps = [b - a for a, b in zip(times[2:], times[3:])]
        assert len(gaps) > 8 and max(gaps) <= 2000, max(gaps)
    w2.close()


def test_the_last_will_says_offline_when_the_device_dies(rig):
    w = rig.watcher
    killed = time.monotonic()
    rig.kill()
    got = w.wait_for(lambda t, p: t == P + "online" and p == b"false", 10, since=killed)
    assert got


def test_a_bad_config_is_reported_and_no_current_is_offered(tmp_path):
    cfg = device_config(None, wiring_max_amps_per_twc=120)
    r = FirmwareRig(tmp_path, cfg)
    try:
        r.start()
        assert wait_until(lambda: all(s.mastered for s in r.slaves), 10), r.console()
        time.sleep(2)
        assert r.applied() == [0.0, 0.0]
        out = r.console()
        assert "wiring_max_amps_per_twc" in out and "no current offered" in out
    finally:
        r.close()


def test_without_a_broker_the_device_runs_on_its_fallback(tmp_path):
    r = FirmwareRig(tmp_path, device_config(None, fallback_amps=20))
    try:
        r.start()
        assert wait_until(lambda: r.applied() == [10.0, 10.0], 10), (r.applied(), r.console())
    finally:
        r.close()


def test_without_a_config_the_only_board_is_used_and_no_current_offered(tmp_path):
    boards = tmp_path / "boards"
    boards.mkdir()
    (boards / "sim.json").write_text((ROOT / "boards" / "sim.json").read_text())
    r = FirmwareRig(tmp_path, {}, boards_dir=boards)
    r.config_path.unlink()  # no config at all
    try:
        r.start()
        assert wait_until(lambda: all(s.mastered for s in r.slaves), 10), r.console()
        time.sleep(2)
        assert r.applied() == [0.0, 0.0]
        out = r.console()
        assert "config.json: not found" in out and "no current offered" in out
    finally:
        r.close()


def test_mqtt_failures_are_reported_in_the_state_once_the_broker_is_back(tmp_path, mosquitto):
    """Down at start, then killed: the state says how often the device connected and why
    it last failed. On the unix port the network and the clock are the host's."""
    mosquitto.kill()
    r = FirmwareRig(tmp_path, device_config(mosquitto))
    try:
        r.start()
        assert wait_until(lambda: r.applied() == [6.0, 6.0], 10), (r.applied(), r.console())
        time.sleep(1.5)  # a try or two, refused
        mosquitto.start()
        w = Watcher(mosquitto, [P + "state"])
        try:
            got = w.wait_for(lambda t, p: True, 15)
            assert got, r.console()
            s = json.loads(got[2])
            assert s["mqtt"]["connects"] == 1, s["mqtt"]
            assert "ECONNREFUSED" in s["mqtt"]["last_error"], s["mqtt"]
            assert s["network"] == {"up": True, "connects": 1, "last_error": None}
            assert s["ntp"] == {"synced": True, "last_error": None}
            assert s["events_dropped"] == 0
        finally:
            w.close()
        mosquitto.kill()
        time.sleep(2)
        mosquitto.start()
        w = Watcher(mosquitto, [P + "state"], client_id="watcher2")
        try:
            got = w.wait_for(lambda t, p: json.loads(p)["mqtt"]["connects"] == 2, 15)
            assert got, r.console()
            assert json.loads(got[2])["mqtt"]["last_error"], got
        finally:
            w.close()
    finally:
        r.close()
