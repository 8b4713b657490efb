# The state and event messages (twc/state.py) and when a state is due.
import json

from twc import health, leases, master, proto, share, state
from twc.slot import LINKED, LOST
from twc.ticks import PERIOD

A, B = 0x1A2B, 0x00CD
VIN = b"5YJ3E1EA7JF000001"  # check digit 7 is right


def _send(view):
    pass


def _rig(wiring_all=40, per_twc=32, fallback=6, min_amps=0):
    m = master.Master(_send, share.Limits(wiring_all, per_twc, fallback, min_amps))
    return m, leases.Leases(m)


def _state(m, lv, uptime_s, version, heap, loop_max_ms=None, h=None, dropped=0):
    """The state's text, with a Health as the Hub's starts (unless h)."""
    return state.state_json(m, lv, uptime_s, version, heap, loop_max_ms,
                            health.Health() if h is None else h, dropped)


def _link(m, index, twc_id, status=LINKED):
    s = m.slots[index]
    s.status = status
    s.id = twc_id
    s.protocol = 2
    s.max_ca = 3200
    return s


def test_state_of_a_master_without_slaves():
    m, lv = _rig(fallback=6, min_amps=8)
    lv.tick(0, None)
    d = json.loads(_state(m, lv, 3600, "0.1.0", 81234))
    assert d == {
        "version": "0.1.0", "uptime_s": 3600, "mode": "fallback",
        "source": "fallback", "limit_amps": 6, "lease_left_s": None,
        "schedule_windows": 0, "time_valid": False,
        "wiring_max_amps_all": 40, "wiring_max_amps_per_twc": 32,
        "fallback_amps": 6, "min_amps": 8, "car_rules": 0, "free_heap": 81234,
        "loop_max_ms": None,
        "network": {"up": False, "connects": 0, "last_error": None},
        "ntp": {"synced": False, "last_error": None},
        "mqtt": {"connects": 0, "last_error": None},
        "events_dropped": 0, "slaves": []}
    d = json.loads(_state(m, lv, 3600, "0.1.0", 81234, 37))
    assert d["loop_max_ms"] == 37


def test_state_shows_the_lease_and_the_slaves():
    m, lv = _rig()
    a = _link(m, 0, A)
    a.offer = 10
    a.actual_ca = 987
    a.state = proto.STATE_CHARGING
    a.volts[0], a.volts[1], a.volts[2] = 230, 231, 229
    a.half_amps[0], a.half_amps[1], a.half_amps[2] = 31, 0, 2
    a.kwh = 4321
    a.vin[:] = VIN
    a.vin_known = True
    a.wanting = True
    b = _link(m, 2, B, LOST)
    b.protocol = 1
    b.max_ca = 1650
    b.actual_ca = 1000
    b.state = 0x0B  # not a known state
    lv.site_lease(b'{"amps": 20, "ttl_s": 90}', 500)
    lv.twc_lease("1A2B", b'{"amps": 16, "ttl_s": 90}', 500)
    lv.tick(1000, 1767225600)
    text = _state(m, lv, 12, "0.1.0", None)
    d = json.loads(text)
    assert (d["mode"], d["source"], d["limit_amps"]) == ("lease", "lease", 20)
    assert d["lease_left_s"] == 90 and d["time_valid"] is True
    assert d["free_heap"] is None
    assert d["slaves"] == [
        {"id": "1A2B", "link": "linked", "protocol": 2, "max_amps": 32,
         "offered_amps": 10, "actual_amps": 9.87, "state": "charging",
         "volts": [230, 231, 229], "phase_amps": [15.5, 0, 1], "lifetime_kwh": 4321,
         "vin": "5YJ3E1EA7JF000001", "cap_amps": 16, "car_rule": None, "wanting": True},
        {"id": "00CD", "link": "lost", "protocol": 1, "max_amps": 16.5,
         "offered_amps": 0, "actual_amps": 10.0, "state": "0x0B",
         "volts": [0, 0, 0], "phase_amps": None, "lifetime_kwh": None, "vin": None,
         "cap_amps": None, "car_rule": None, "wanting": False}]
    assert '"actual_amps":9.87,' in text and '"actual_amps":10.00,' in text


def test_state_reports_the_network_the_clock_and_the_mqtt_link():
    m, lv = _rig()
    lv.tick(0, None)
    h = health.Health()
    h.seen_network(True)
    h.seen_network(False)
    h.net_error = "wifi: no AP found"
    h.seen_network(True)  # back: up, and the error of the outage is still there
    h.ntp_error = "OSError: -202"
    h.mqtt_connects = 3
    h.mqtt_error = 'the broker said "no"\\'
    text = _state(m, lv, 1, "x", 1, 5, h, 7)
    d = json.loads(text)
    assert d["network"] == {"up": True, "connects": 2, "last_error": "wifi: no AP found"}
    assert d["ntp"] == {"synced": False, "last_error": "OSError: -202"}
    assert d["mqtt"] == {"connects": 3, "last_error": 'the broker said "no"\\'}
    assert d["events_dropped"] == 7
    # The keys in the order docs/mqtt.md shows them.
    keys = ('"loop_max_ms":5,"network":{"up":true,"connects":2,"last_error":',
            '"ntp":{"synced":false,', '"mqtt":{"connects":3,', '"events_dropped":7,"slaves":[')
    at = [text.find(k) for k in keys]
    assert -1 not in at and at == sorted(at), at
    h.mqtt_error = "e" * 300
    assert json.loads(_state(m, lv, 1, "x", 1, None, h))["mqtt"]["last_error"] == \
        "e" * state.ERROR_MAX


def test_health_counts_the_times_the_network_came_up():
    h = health.Health()
    assert (h.net_up, h.net_connects, h.ntp_synced) == (False, 0, False)
    for up in (False, True, True, False, False, True):
        h.seen_network(up)
    assert (h.net_up, h.net_connects) == (True, 2)
    h = health.Health()
    h.host()
    assert (h.net_up, h.net_connects, h.ntp_synced) == (True, 1, True)


def test_state_mode_stopped_and_schedule():
    m, lv = _rig()
    lv.site_lease(b'{"amps": 0, "ttl_s": 60}', 0)
    lv.tick(0, None)
    d = json.loads(_state(m, lv, 1, "x", 1))
    assert (d["mode"], d["source"], d["limit_amps"]) == ("stopped", "lease", 0)
    m, lv = _rig()
    lv.schedule(b'[{"start": 1767225600, "end": 1767229200, "amps": 18}]',
                0, 1767225600)
    lv.tick(0, 1767225600)
    d = json.loads(_state(m, lv, 1, "x", 1))
    assert (d["mode"], d["source"], d["limit_amps"]) == ("schedule", "schedule", 18)
    assert d["schedule_windows"] == 1


def test_state_version_is_escaped():
    m, lv = _rig()
    d = json.loads(_state(m, lv, 0, 'v1 "dev"\\', 0))
    assert d["version"] == 'v1 "dev"\\'


def test_master_events():
    cases = (
        (master.JOINED, A, {"event": "slave_joined", "twc": "1A2B"}),
        (master.LOST_EVENT, A, {"event": "slave_lost", "twc": "1A2B"}),
        (master.RELEASED, B, {"event": "slave_released", "twc": "00CD"}),
        (master.SECOND_MASTER, 0x32AB, {"event": "second_master", "twc": "32AB"}),
        (master.TOO_MANY, A, {"event": "too_many_slaves", "twc": "1A2B"}),
        (master.ID_CONFLICT, 0x7777, {"event": "id_conflict", "twc": "7777"}),
        (master.VIN_READ, A, {"event": "vin_read", "twc": "1A2B"}),
        (master.SESSION_END, A, {"event": "session_end", "twc": "1A2B"}),
    )
    for kind, twc_id, want in cases:
        text = state.event_json(kind, twc_id)
        assert json.loads(text) == want, text
        assert text.startswith('{"event":'), text


def test_lease_events_pass_through_with_the_kind_first():
    events = []
    m, _ = _rig()
    lv = leases.Leases(m, lambda kind, e: events.append(e))
    lv.site_lease(b"{", 0)
    text = state.event_json(events[0])
    assert text == ('{"event":"rejected","reason":"payload is not valid JSON",'
                    '"topic":"limit/set"}')
    lv.site_lease(b'{"amps": 8, "ttl_s": 5}', 0)
    lv.tick(0, None)
    assert state.event_json(events[1]) == (
        '{"event":"fallback_left","amps":8,"previous":"fallback","source":"lease"}')
    assert state.event_json({"event": "lease_expired"}) == '{"event":"lease_expired"}'


def _watch(start=0):
    m, lv = _rig()
    a = _link(m, 0, A)
    lv.tick(start, None)
    w = state.StateWatch(m, lv)
    return m, lv, a, w


def test_the_first_state_is_due_at_once_then_every_30_s():
    m, lv, a, w = _watch()
    assert w.due(0)
    w.published(0)
    assert not w.due(1000) and not w.due(29999)
    assert w.due(30000)
    w.published(30000)
    assert not w.due(31000)


def test_a_change_makes_the_state_due_after_a_second():
    m, lv, a, w = _watch()
    w.published(0)
    a.offer = 12
    assert not w.due(999)
    assert w.due(1000)
    w.published(1000)
    assert not w.due(2000)
    for change in ("state", "kwh", "vin", "volts", "lease", "status", "cap", "wanting"):
        m, lv, a, w = _watch()
        w.published(0)
        if change == "state":
            a.state = proto.STATE_CHARGING
        elif change == "kwh":
            a.kwh = 100
        elif change == "vin":
            a.vin_known = True
        elif change == "volts":
            a.volts[2] = 230
        elif change == "lease":
            lv.site_lease(b'{"amps": 8, "ttl_s": 60}', 0)
            lv.tick(10, None)
        elif change == "status":
            a.status = LOST
        elif change == "wanting":
            a.wanting = True
        else:
            lv.twc_lease("1A2B", b'{"amps": 8, "ttl_s": 60}', 0)
            lv.tick(10, None)
        assert w.due(1500), change


def test_small_changes_of_the_draw_are_not_worth_a_state():
    m, lv, a, w = _watch()
    a.actual_ca = 1000
    w.published(0)
    a.actual_ca = 1099
    assert not w.due(5000)
    a.actual_ca = 901
    assert not w.due(5000)
    a.actual_ca = 1100
    assert w.due(5000)
    w.published(5000)
    a.actual_ca = 1150
    assert not w.due(10000)
    # The lease countdown is no change either.
    lv.site_lease(b'{"amps": 8, "ttl_s": 60}', 10000)
    lv.tick(10000, None)
    w.published(10000)
    lv.tick(15000, None)
    assert lv.lease_left_s == 55 and not w.due(15000)


def test_the_watch_works_across_a_wrap_of_the_ticks():
    t0 = PERIOD - 500
    m, lv, a, w = _watch(t0)
    w.published(t0)
    assert not w.due(100)
    a.offer = 12
    assert w.due(500)
    assert w.due(30000 - 500)


def test_due_allocates_nothing():
    m, lv, a, w = _watch()
    a.actual_ca = 1000
    w.published(0)
    a.actual_ca = 1050  # compared, and found too small a change

    def check():
        n = 0
        for t in range(1000, 20000, 10):
            if w.due(t):
                n += 1
        return n

    try:
        import micropython
    except ImportError:
        assert check() == 0
        return
    micropython.heap_lock()
    try:
        n = check()
    finally:
        micropython.heap_unlock()
    assert n == 0


def test_state_in_pieces_is_the_state_and_no_piece_is_big():
    m, lv = _rig()
    for i, twc_id in enumerate((A, B, 0x1C00)):
        s = _link(m, i, twc_id)
        s.vin[:] = VIN
        s.vin_known = True
        s.kwh = 123456
    lv.tick(0, None)
    h = health.Health()
    h.net_error = h.ntp_error = h.mqtt_error = "OSError: " + "x" * 200  # cut to ERROR_MAX
    parts = state.state_parts(m, lv, 86400, "0.1.0", 81234, 14, h, 0)
    whole = _state(m, lv, 86400, "0.1.0", 81234, 14, h)
    assert "".join(parts) == whole
    assert len(parts) == 6  # head, health, three slaves, tail
    assert len(json.loads(whole)["slaves"]) == 3
    assert max(len(p) for p in parts) < 450 < len(whole)
    m2, lv2 = _rig()
    assert "".join(state.state_parts(m2, lv2, 1, "0.1.0", None, None, health.Health(), 0)) \
        == _state(m2, lv2, 1, "0.1.0", None)
