"""SiteLink without a broker: clamping, lease timing and seq, schedules, parsing the
device's messages (garbage never raises), and a site's health."""
from __future__ import annotations

import json
import logging
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twcm.service.devicelink import SiteLink, parse_state

# The example of docs/mqtt.md, plus a field that a later firmware might add.
STATE = {
    "version": "0.1.0", "uptime_s": 86400, "mode": "lease", "source": "lease",
    "limit_amps": 16, "lease_left_s": 55, "schedule_windows": 0, "time_valid": True,
    "wiring_max_amps_all": 40, "wiring_max_amps_per_twc": 32, "fallback_amps": 6,
    "min_amps": 0, "free_heap": None, "loop_max_ms": 14, "added_later": {"x": 1},
    "slaves": [
        {"id": "1A2B", "link": "linked", "protocol": 2, "max_amps": 32, "offered_amps": 16,
         "actual_amps": 15.87, "state": "charging", "volts": [231, 0, 0],
         "lifetime_kwh": 6843, "vin": "5YJ3E1EA7JF000001", "cap_amps": None},
        {"id": "32C4", "link": "linked", "protocol": 2, "max_amps": 32, "offered_amps": 0,
         "actual_amps": 0, "state": "ready", "volts": [230, 0, 0], "lifetime_kwh": None,
         "vin": None, "cap_amps": 10}]}
NOW = 1_800_000_000  # Unix seconds, for schedules


def state(**changes: object) -> bytes:
    return json.dumps({**STATE, **changes}).encode()


def leases(out: list[tuple[str, bytes]]) -> list[dict]:
    return [json.loads(p) for t, p in out if t.endswith("/limit/set")]


def test_the_docs_state_is_parsed_and_unknown_fields_are_ignored():
    s = parse_state(json.loads(state()))
    assert (s.mode, s.source, s.limit_amps, s.wiring_max_amps_all, s.free_heap) == (
        "lease", "lease", 16, 40, None)
    a, b = s.slaves
    assert (a.id, a.offered_amps, a.actual_amps, a.volts, a.vin, a.lifetime_kwh) == (
        "1A2B", 16, 15.87, (231, 0, 0), "5YJ3E1EA7JF000001", 6843)
    assert (b.actual_amps, b.cap_amps, b.vin) == (0, 10, None)
    minimal = {k: STATE[k] for k in ("mode", "source", "limit_amps", "wiring_max_amps_all",
                                     "wiring_max_amps_per_twc")}
    assert parse_state({**minimal, "slaves": []}).version is None  # optional ones may be absent


def test_want_is_clamped_to_whole_amps_max_amps_and_the_devices_wiring():
    s = SiteLink("home", max_amps=48)
    assert [s.want(a, "test") for a in (12.9, -3, 100, math.inf, 0)] == [12, 0, 48, 48, 0]
    assert leases(s.outbox(0.0)) == [{"amps": 0, "ttl_s": 60, "seq": s.seq}]
    s.want(45, "test")
    assert leases(s.outbox(1.0))[0]["amps"] == 45  # the wiring is not known yet
    s.receive("state", state(), 2.0)  # wiring_max_amps_all 40: lowered, sent at once
    assert s.next_due(2.0) == 2.0 and leases(s.outbox(2.0))[0]["amps"] == 40
    assert s.want(50, "test") == 40 and s.outbox(2.5) == []  # the same lease: not resent
    for bad in (True, None, "16", math.nan):
        with pytest.raises(TypeError):
            s.want(bad, "test")  # type: ignore[arg-type]


def test_a_lease_is_sent_at_once_renewed_every_third_of_its_ttl_and_seq_grows():
    s = SiteLink("home", max_amps=32, ttl_s=60)
    assert s.next_due(0.0) == math.inf and s.outbox(0.0) == []  # nothing wanted: nothing sent
    s.want(16, "test")
    sent = []
    for tenth in range(0, 1001):  # 100 s, polled every 0.1 s
        t = tenth / 10
        if tenth == 500:
            s.want(10, "test")
        sent += [(t, x) for x in leases(s.outbox(t))]
    times = [t for t, _ in sent]
    assert times == pytest.approx([0, 20, 40, 50, 70, 90])  # a new value at once
    assert [x["amps"] for _, x in sent] == [16, 16, 16, 10, 10, 10]
    assert {x["ttl_s"] for _, x in sent} == {60}
    seqs = [x["seq"] for _, x in sent]
    assert seqs == list(range(seqs[0], seqs[0] + 6)) and seqs[0] > 1_700_000_000_000
    s.release("test")
    assert s.outbox(200.0) == [] and s.next_due(200.0) == math.inf


def test_a_device_that_comes_back_online_gets_the_lease_and_schedule_at_once():
    s = SiteLink("home", max_amps=32, ttl_s=30)
    s.want(16, "test")
    s.schedule([{"start": NOW - 60, "end": NOW + 600, "amps": 8},
                {"start": NOW + 600, "end": NOW + 900, "amps": 12}], unix_now=NOW)
    first = s.outbox(0.0, unix_now=NOW)
    assert [t for t, _ in first] == ["twcm/home/schedule/set", "twcm/home/limit/set"]
    assert s.outbox(1.0, unix_now=NOW) == []
    s.receive("online", b"true", 2.0)
    s.receive("online", b"false", 3.0)
    s.receive("online", b"true", 4.0)  # a new device session: what it had is gone
    again = dict(s.outbox(4.0, unix_now=NOW + 700))
    assert json.loads(again["twcm/home/schedule/set"]) == [  # the ended window is left out
        {"start": NOW + 600, "end": NOW + 900, "amps": 12}]
    assert leases(list(again.items()))[0]["amps"] == 16


@pytest.mark.parametrize("windows, reason", [
    ([{"start": NOW - 600, "end": NOW - 60, "amps": 8}], "windows[0]: has already ended"),
    ([{"start": NOW, "end": NOW + 48 * 3600 + 1, "amps": 8}], "ends more than 48 h from now"),
    ([{"start": NOW, "end": NOW + 60, "amps": 41}], "amps 41 is above the wiring limit"),
    ([{"start": NOW, "end": NOW + 60, "amps": 8}, {"start": NOW + 30, "end": NOW + 90,
                                                    "amps": 8}], "overlaps"),
    ({"start": NOW}, "must be a JSON list"),
])
def test_a_schedule_the_device_would_refuse_is_refused_here(windows, reason):
    s = SiteLink("home", max_amps=48)
    s.receive("state", state(), 0.0)  # the wiring limit 40 applies to windows too
    with pytest.raises(ValueError, match=re.escape(reason)):
        s.schedule(windows, unix_now=NOW)
    assert s.outbox(0.0) == []


GARBAGE = [
    ("state", b"not json", "not UTF-8 JSON"),
    ("state", b"\xff\xfe", "not UTF-8 JSON"),
    ("state", b"", "state must be a JSON object"),
    ("state", b"[" * 100_000, "not UTF-8 JSON"),
    ("state", b"[]", "state must be a JSON object"),
    ("state", state(mode=1), "mode must be str, not 1"),
    ("state", state(limit_amps="20"), 'limit_amps must be int, not "20"'),
    ("state", state(limit_amps=True), "limit_amps must be int, not true"),
    ("state", state(wiring_max_amps_all=None), "wiring_max_amps_all is null"),
    ("state", state(slaves=[1]), "slaves[0]: must be a JSON object"),
    ("state", state(slaves=[{"id": "1A2B"}]), "slaves[0]: link is missing"),
    ("state", state(slaves=[{**STATE["slaves"][0], "volts": ["a"]}]),  # type: ignore[dict-item]
     "slaves[0]: volts must be a list of integers"),
    ("state", json.dumps({k: v for k, v in STATE.items() if k != "mode"}).encode(),
     "mode is missing"),
    ("online", b"yes", "not UTF-8 JSON"),
    ("online", b"1", "must be true or false"),
    ("online", b"", "must be true or false"),
    ("event", b'{"event": 3}', 'a string "event"'),
    ("event", b'["slave_lost"]', 'a string "event"'),
    ("other", b"{}", "unknown topic"),
]


@pytest.mark.parametrize("kind, payload, reason", GARBAGE)
def test_garbage_is_counted_logged_and_ignored(kind, payload, reason, caplog):
    s = SiteLink("home", max_amps=32)
    s.receive("state", state(), 0.0)
    s.receive("online", b"true", 0.0)
    before = s.state
    with caplog.at_level(logging.WARNING, "twcm.devicelink"):
        s.receive(kind, payload, 1.0)
    assert s.garbage == 1 and reason in (s.last_garbage or "")
    assert s.state is before and s.state_at == 0.0 and s.online is True
    assert f"site home: ignored a garbled {kind} message" in caplog.text and reason in caplog.text


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids), max_leaves=5)


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(["state", "event", "online"]), data=JSON,
       changes=st.dictionaries(st.sampled_from(list(STATE)), JSON, max_size=3),
       slave=st.dictionaries(st.sampled_from(list(STATE["slaves"][0])), JSON, max_size=2),
       raw=st.binary(max_size=50))
def test_no_payload_raises(kind, data, changes, slave, raw):
    """Anything at all, and the docs' state with a few fields changed to anything."""
    s = SiteLink("home", max_amps=32)
    for payload in (json.dumps(data).encode(), raw,
                    state(**changes), state(slaves=[{**STATE["slaves"][0], **slave}])):
        s.receive(kind, payload, 0.0)
    assert s.garbage <= 4


def test_events_are_logged_trouble_as_warnings_refusals_of_our_commands_as_errors(caplog):
    s = SiteLink("home", max_amps=32)
    with caplog.at_level(logging.INFO, "twcm.devicelink"):
        for event in ({"event": "slave_joined", "twc": "1A2B"},
                      {"event": "second_master", "twc": "32AB"},
                      {"event": "rejected", "topic": "limit/set", "reason": "r1"},
                      {"event": "rejected", "topic": "twc/1A2B/limit/set", "reason": "r2",
                       "twc": "1A2B"}):
            s.receive("event", json.dumps(event).encode(), 0)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "site home: device: slave_joined (twc 1A2B)"),
        ("WARNING", "site home: device: second_master (twc 32AB)"),
        ("ERROR", "site home: the device refused our limit/set: r1"),
        ("ERROR", "site home: the device refused our twc/1A2B/limit/set: r2")]
    assert s.garbage == 0


def test_health_unknown_online_silent_offline():
    s = SiteLink("home", max_amps=32, silent_after_s=90)
    assert s.health(0.0) == "unknown"
    s.receive("online", b"true", 0.0)
    assert s.health(90.0) == "online" and s.health(90.1) == "silent"  # not a word since
    s.receive("state", state(), 100.0)
    assert s.health(189.9) == "online" and s.health(190.1) == "silent"
    s.receive("state", state(), 191.0)
    assert s.health(191.0) == "online"
    s.receive("online", b"false", 192.0)
    assert s.health(192.0) == "offline"
    s.receive("online", b"true", 300.0)  # silence counts from when it came back
    assert s.health(389.0) == "online"


@pytest.mark.parametrize("args, message", [
    (("a/b", 32), "give 1-32 letters"),
    (("x" * 33, 32), "give 1-32 letters"),
    (("home", -1), "max_amps must not be negative"),
    (("home", 32, 4), "ttl_s must be 5-3600 s"),
    (("home", 32, 60, 1.0), "renew_fraction must be between 0 and 1"),
])
def test_bad_arguments_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        SiteLink(*args)


# The health of docs/mqtt.md's example (firmware 0.2 and later).
HEALTH = {"network": {"up": True, "connects": 2, "last_error": "wifi: status 200"},
          "ntp": {"synced": True, "last_error": None},
          "mqtt": {"connects": 3, "last_error": "the broker closed the connection"},
          "events_dropped": 0}


def test_the_devices_health_is_parsed_and_none_from_a_device_before_it():
    s = parse_state(json.loads(state(**HEALTH)))
    assert (s.network.up, s.network.connects, s.network.last_error) == (
        True, 2, "wifi: status 200")
    assert (s.ntp.synced, s.ntp.last_error) == (True, None)
    assert (s.mqtt.connects, s.mqtt.last_error) == (3, "the broker closed the connection")
    assert s.events_dropped == 0
    old = parse_state(json.loads(state()))  # STATE predates them
    assert (old.network, old.ntp, old.mqtt, old.events_dropped) == (None, None, None, None)
    # A later firmware's extra health field is ignored, as any unknown field.
    later = {**HEALTH, "mqtt": {**HEALTH["mqtt"], "added_later": 1}}
    assert parse_state(json.loads(state(**later))).mqtt.connects == 3


@pytest.mark.parametrize("changes, reason", [
    ({"network": "up"}, "network: must be a JSON object"),
    ({"network": {"connects": 1}}, "network: up is missing"),
    ({"network": {"up": 1, "connects": 1}}, "network: up must be bool, not 1"),
    ({"ntp": {"synced": True, "last_error": 5}}, "ntp: last_error must be str, not 5"),
    ({"mqtt": {"connects": True}}, "mqtt: connects must be int, not true"),
    ({"events_dropped": "0"}, 'events_dropped must be int, not "0"'),
])
def test_a_garbled_health_is_garbage(changes, reason):
    s = SiteLink("home", max_amps=32)
    s.receive("state", state(**{**HEALTH, **changes}), 0.0)
    assert s.garbage == 1 and reason in (s.last_garbage or ""), s.last_garbage
