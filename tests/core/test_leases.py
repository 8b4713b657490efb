# Leases, schedule and fallback (twc/leases.py): what sets the site limit
# and the per-TWC caps, and every reason a command is refused.
from twc import leases, master, proto, share
from twc.slot import FREE, LINKED, LOST
from twc.ticks import PERIOD, ticks_add
from fakebus import FakeSlave, Harness

A, B = 0x1A2B, 0x2C3D
UTC = 1767225600  # 2026-01-01T00:00:00Z


class Rig:
    """A master without a bus, its Leases and the events they emitted."""

    def __init__(self, wiring_all=40, per_twc=32, fallback=6):
        self.limits = share.Limits(wiring_all, per_twc, fallback)
        self.m = master.Master(self._send, self.limits)
        self.events = []
        self.lv = leases.Leases(self.m, self._event)

    def _send(self, view):
        pass

    def _event(self, kind, event):
        assert event["event"] == kind
        self.events.append(event)

    def link(self, index, twc_id, status=LINKED):
        s = self.m.slots[index]
        s.status = status
        s.id = twc_id
        s.protocol = 2
        s.max_ca = 3200
        return s

    def kinds(self):
        return [e["event"] for e in self.events]

    def last_reason(self):
        e = self.events[-1]
        assert e["event"] == "rejected", e
        return e["reason"]


def _lease(amps, ttl=60, seq=None):
    if seq is None:
        return b'{"amps": %d, "ttl_s": %d}' % (amps, ttl)
    return b'{"amps": %d, "ttl_s": %d, "seq": %d}' % (amps, ttl, seq)


def _windows(*specs):
    """specs: (start, end, amps) in seconds from UTC."""
    return ("[" + ",".join('{"start": %d, "end": %d, "amps": %s}'
                           % (UTC + a, UTC + b, amps)
                           for a, b, amps in specs) + "]").encode()


def _run(lv, start_ms, end_ms, step_ms, utc=None):
    """tick() every step_ms; utc advances with the ticks if given."""
    t = start_ms
    while t <= end_ms:
        lv.tick(t % PERIOD, None if utc is None else utc + (t - start_ms) // 1000)
        t += step_ms


# -- site lease -------------------------------------------------------------

def test_starts_on_the_fallback():
    r = Rig(fallback=6)
    r.lv.tick(0, None)
    assert (r.lv.source, r.lv.mode, r.lv.amps) == ("fallback", "fallback", 6)
    assert r.limits.site == 6 and r.lv.lease_left_s is None
    assert r.events == []


def test_a_site_lease_sets_the_limit_at_the_next_tick():
    r = Rig()
    assert r.lv.site_lease(_lease(20, 60), 1000)
    assert r.limits.site == 6  # not before the tick
    r.lv.tick(1005, None)
    assert r.limits.site == 20 and r.lv.amps == 20
    assert (r.lv.source, r.lv.mode) == ("lease", "lease")
    assert r.lv.lease_left_s == 60
    assert r.events == [{"event": "fallback_left", "source": "lease",
                         "previous": "fallback", "amps": 20}]


def test_fractional_amps_are_floored():
    r = Rig()
    assert r.lv.site_lease(b'{"amps": 12.9, "ttl_s": 30}', 0)
    r.lv.tick(0, None)
    assert r.limits.site == 12


def test_a_lease_expires_within_its_ttl():
    r = Rig()
    r.lv.site_lease(_lease(20, 5), 0)
    _run(r.lv, 0, 4990, 10)
    assert r.lv.source == "lease" and r.lv.lease_left_s == 1
    r.lv.tick(5000, None)
    assert r.lv.source == "fallback" and r.limits.site == 6
    assert r.kinds() == ["fallback_left", "lease_expired", "fallback_entered"]
    assert r.events[-1] == {"event": "fallback_entered", "source": "fallback",
                            "previous": "lease", "amps": 6}


def test_expiry_is_not_delayed_by_the_once_a_second_evaluation():
    r = Rig()
    r.lv.site_lease(_lease(20, 5), 300)
    r.lv.tick(300, None)
    r.lv.tick(4500, None)
    assert r.lv.source == "lease"
    r.lv.tick(5299, None)
    assert r.lv.source == "lease"
    r.lv.tick(5300, None)
    assert r.lv.source == "fallback"


def test_a_lease_expires_across_a_wrap_of_the_ticks():
    r = Rig()
    t0 = PERIOD - 2000
    r.lv.site_lease(_lease(20, 5), t0)
    _run(r.lv, t0, t0 + 4900, 100)
    assert r.lv.source == "lease"
    _run(r.lv, t0 + 5000, t0 + 5000, 100)
    assert r.lv.source == "fallback"


def test_a_renewal_replaces_the_lease():
    r = Rig()
    r.lv.site_lease(_lease(20, 5), 0)
    _run(r.lv, 0, 4000, 100)
    assert r.lv.site_lease(_lease(16, 5), 4000)
    _run(r.lv, 4000, 8900, 100)
    assert r.lv.source == "lease" and r.limits.site == 16
    _run(r.lv, 9000, 9000, 100)
    assert r.lv.source == "fallback"
    assert r.kinds().count("lease_expired") == 1


def test_a_zero_lease_stops_charging():
    r = Rig()
    r.lv.site_lease(_lease(0, 60), 0)
    r.lv.tick(0, None)
    assert (r.lv.source, r.lv.mode, r.limits.site) == ("lease", "stopped", 0)


def test_unknown_fields_are_ignored():
    r = Rig()
    assert r.lv.site_lease(b'{"amps": 10, "ttl_s": 30, "why": "solar", '
                           b'"seq": null}', 0)
    r.lv.tick(0, None)
    assert r.limits.site == 10


def test_site_lease_rejections():
    cases = (
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[16, 60]", "must be a JSON object"),
        (b'"16"', "must be a JSON object"),
        (b'{"ttl_s": 60}', "amps is missing"),
        (b'{"amps": "16", "ttl_s": 60}', "amps must be a number"),
        (b'{"amps": true, "ttl_s": 60}', "amps must be a number"),
        (b'{"amps": null, "ttl_s": 60}', "amps must be a number"),
        (b'{"amps": [16], "ttl_s": 60}', "amps must be a number"),
        (b'{"amps": -1, "ttl_s": 60}', "amps must not be negative"),
        (b'{"amps": -0.5, "ttl_s": 60}', "amps must not be negative"),
        (b'{"amps": 41, "ttl_s": 60}',
         "amps 41 is above the wiring limit for all TWCs (40 A)"),
        (b'{"amps": 40.5, "ttl_s": 60}', "above the wiring limit"),
        (b'{"amps": 1e400, "ttl_s": 60}', "above the wiring limit"),
        (b'{"amps": 16}', "ttl_s is missing"),
        (b'{"amps": 16, "ttl_s": 60.0}', "ttl_s must be a whole number"),
        (b'{"amps": 16, "ttl_s": "60"}', "ttl_s must be a whole number"),
        (b'{"amps": 16, "ttl_s": true}', "ttl_s must be a whole number"),
        (b'{"amps": 16, "ttl_s": 4}',
         "ttl_s must be between 5 and 3600 seconds, not 4"),
        (b'{"amps": 16, "ttl_s": 3601}', "between 5 and 3600"),
        (b'{"amps": 16, "ttl_s": 60, "seq": 1.5}', "seq must be a whole number"),
        (b'{"amps": 16, "ttl_s": 60, "seq": "7"}', "seq must be a whole number"),
        (b'{"amps": 16, "ttl_s": 60, "seq": -1}', "seq must not be negative"),
        (b" " * 4097, "larger than 4096 bytes"),
    )
    for payload, reason in cases:
        r = Rig()
        r.lv.site_lease(_lease(20, 60), 0)
        r.lv.tick(0, None)
        n = len(r.events)
        assert not r.lv.site_lease(payload, 100), payload
        assert len(r.events) == n + 1, payload
        e = r.events[-1]
        assert e["event"] == "rejected" and e["topic"] == "limit/set", e
        assert reason in e["reason"], (payload, e["reason"])
        r.lv.tick(200, None)  # nothing changed
        assert r.limits.site == 20 and r.lv.lease_left_s == 60, payload
        assert len(r.events) == n + 1


def test_nan_is_refused():
    # CPython's json reads NaN, MicroPython's does not: refused either way.
    r = Rig()
    assert not r.lv.site_lease(b'{"amps": NaN, "ttl_s": 60}', 0)
    assert r.last_reason() in ("amps must be a number", "payload is not valid JSON")


def test_only_a_lower_seq_is_refused():
    r = Rig()
    assert r.lv.site_lease(_lease(20, 60, seq=7), 0)
    assert not r.lv.site_lease(_lease(10, 60, seq=6), 100)
    assert r.last_reason() == "seq 6 is lower than the last accepted seq 7"
    assert r.lv.site_lease(_lease(16, 60, seq=7), 200)  # a repeat is fine
    assert r.lv.site_lease(_lease(15, 60), 300)  # so is no seq at all
    assert not r.lv.site_lease(_lease(10, 60, seq=3), 400)
    assert r.lv.site_lease(_lease(14, 60, seq=8), 500)
    r.lv.tick(500, None)
    assert r.limits.site == 14


def test_the_seq_is_forgotten_when_the_lease_expires():
    # A restarted host counting from 0 again is heard once its lease ended.
    r = Rig()
    r.lv.site_lease(_lease(20, 5, seq=1000), 0)
    _run(r.lv, 0, 5000, 100)
    assert r.lv.source == "fallback"
    assert r.lv.site_lease(_lease(10, 60, seq=1), 5100)
    r.lv.tick(5100, None)
    assert r.limits.site == 10


# -- per-TWC leases ----------------------------------------------------------

def test_a_twc_lease_caps_one_twc_until_it_expires():
    r = Rig()
    a = r.link(0, A)
    b = r.link(1, B)
    assert r.lv.twc_lease("1a2b", _lease(10, 5), 0)
    r.lv.tick(0, None)
    assert a.cap == 10 and b.cap == 80
    assert r.lv.cap_of(0) == 10 and r.lv.cap_of(1) is None
    assert r.lv.source == "fallback" and r.events == []
    _run(r.lv, 0, 4900, 100)
    assert a.cap == 10
    r.lv.tick(5000, None)
    assert a.cap == 80 and r.lv.cap_of(0) is None
    assert r.events == [{"event": "lease_expired", "twc": "1A2B"}]


def test_a_twc_lease_is_renewed_and_may_be_zero():
    r = Rig()
    a = r.link(2, A)
    r.lv.twc_lease("1A2B", _lease(10, 5), 0)
    _run(r.lv, 0, 4000, 100)
    r.lv.twc_lease("1A2B", _lease(0, 5), 4000)
    _run(r.lv, 4000, 8900, 100)
    assert a.cap == 0
    r.lv.tick(9000, None)
    assert a.cap == 80


def test_a_lost_twc_can_be_capped():
    r = Rig()
    a = r.link(0, A, LOST)
    assert r.lv.twc_lease("1A2B", _lease(8, 60), 0)
    r.lv.tick(0, None)
    assert a.cap == 8


def test_a_twc_cap_ends_when_its_slot_is_released():
    r = Rig()
    a = r.link(0, A)
    r.lv.twc_lease("1A2B", _lease(10, 60), 0)
    r.lv.tick(0, None)
    a.clear()  # what the master does 60 s after the slave's last word
    r.lv.tick(1000, None)
    assert r.lv.cap_of(0) is None and a.cap == 80
    # Another TWC in the same slot is not capped.
    r.link(0, B)
    r.lv.tick(2000, None)
    assert a.cap == 80 and r.events == []


def test_a_twc_cap_is_not_inherited_by_the_next_twc_in_the_slot():
    r = Rig()
    a = r.link(0, A)
    r.lv.twc_lease("1A2B", _lease(10, 60, seq=5), 0)
    r.lv.tick(0, None)
    a.clear()
    r.link(0, B)  # released and reused between two ticks
    r.lv.tick(1000, None)
    assert a.cap == 80 and r.lv.cap_of(0) is None
    assert r.lv.twc_lease("2C3D", _lease(12, 60, seq=1), 1000)  # its own seq
    r.lv.tick(1000, None)
    assert a.cap == 12


def test_twc_lease_rejections():
    r = Rig()
    r.link(0, A)
    r.link(1, B)
    cases = (
        ("1A2", _lease(10), "TWC id must be 4 hex digits"),
        ("01A2B", _lease(10), "TWC id must be 4 hex digits"),
        ("1G2B", _lease(10), "TWC id must be 4 hex digits"),
        ("+A2B", _lease(10), "TWC id must be 4 hex digits"),
        (" A2B", _lease(10), "TWC id must be 4 hex digits"),
        ("3E4F", _lease(10), "no TWC with id 3E4F is linked to this master"),
        ("1A2B", _lease(33), "amps 33 is above the wiring limit per TWC (32 A)"),
        ("1A2B", b'{"amps": 10, "ttl_s": 2}', "between 5 and 3600"),
        ("1A2B", b"{", "not valid JSON"),
    )
    for twc, payload, reason in cases:
        assert not r.lv.twc_lease(twc, payload, 0), twc
        e = r.events[-1]
        assert e["event"] == "rejected" and reason in e["reason"], e
        assert e["topic"] == "twc/" + twc + "/limit/set"
        assert e["twc"] == twc.upper()
    r.lv.tick(0, None)
    assert [s.cap for s in r.m.slots] == [80, 80, 80]
    assert r.lv.twc_lease("1A2B", _lease(10, 60, seq=4), 0)
    assert not r.lv.twc_lease("1A2B", _lease(10, 60, seq=3), 0)
    assert "lower than the last accepted seq 4" in r.last_reason()
    assert r.lv.twc_lease("2C3D", _lease(10, 60, seq=3), 0)  # seq is per TWC


def test_a_free_slot_with_a_matching_id_is_not_a_twc():
    r = Rig()
    s = r.m.slots[0]
    s.id = A
    s.status = FREE
    assert not r.lv.twc_lease("1A2B", _lease(10), 0)
    assert "no TWC with id 1A2B" in r.last_reason()


# -- schedule -------------------------------------------------------------------

def test_the_schedule_is_followed_without_a_lease():
    r = Rig()
    assert r.lv.schedule(_windows((10, 20, 16), (20, 30, 24)), 0, UTC)
    assert r.lv.windows == 2
    _run(r.lv, 0, 9000, 1000, UTC)
    assert r.lv.source == "fallback" and r.lv.time_valid
    _run(r.lv, 10000, 19000, 1000, UTC + 10)
    assert (r.lv.source, r.limits.site) == ("schedule", 16)
    _run(r.lv, 20000, 29000, 1000, UTC + 20)
    assert (r.lv.source, r.limits.site) == ("schedule", 24)
    assert r.lv.windows == 1  # the ended window is dropped
    _run(r.lv, 30000, 30000, 1000, UTC + 30)
    assert r.lv.source == "fallback" and r.lv.windows == 0
    assert r.events == [
        {"event": "fallback_left", "source": "schedule", "previous": "fallback",
         "amps": 16},
        {"event": "fallback_entered", "source": "fallback",
         "previous": "schedule", "amps": 6}]


def test_a_lease_beats_the_schedule_which_beats_the_fallback():
    r = Rig()
    r.lv.schedule(_windows((0, 100, 16)), 0, UTC)
    r.lv.site_lease(_lease(30, 5), 0)
    _run(r.lv, 0, 4900, 100, UTC)
    assert (r.lv.source, r.limits.site) == ("lease", 30)
    _run(r.lv, 5000, 5000, 100, UTC + 5)
    assert (r.lv.source, r.limits.site) == ("schedule", 16)
    _run(r.lv, 6000, 100000, 1000, UTC + 6)
    assert (r.lv.source, r.limits.site) == ("fallback", 6)
    assert r.kinds() == ["fallback_left", "lease_expired", "source_changed",
                         "fallback_entered"]
    assert r.events[2] == {"event": "source_changed", "source": "schedule",
                           "previous": "lease", "amps": 16}


def test_no_schedule_without_a_valid_time():
    r = Rig()
    assert not r.lv.schedule(_windows((0, 100, 16)), 0, None)
    assert "no valid time" in r.last_reason()
    assert r.events[-1]["topic"] == "schedule/set"
    assert not r.lv.schedule(_windows((0, 100, 16)), 0, 946684800 + 30)
    assert "no valid time" in r.last_reason()
    assert r.lv.windows == 0
    # A stored schedule is not followed while the clock is not valid.
    assert r.lv.schedule(_windows((0, 100, 16)), 0, UTC)
    r.lv.tick(0, None)
    assert r.lv.source == "fallback" and not r.lv.time_valid
    r.lv.tick(1000, 946684800 + 31)  # the ESP32's clock before NTP: 2000
    assert r.lv.source == "fallback" and not r.lv.time_valid
    r.lv.tick(2000, UTC + 2)
    assert r.lv.source == "schedule" and r.lv.time_valid
    r.lv.tick(3000, None)
    assert r.lv.source == "fallback"


def test_schedule_rejections():
    h = 3600
    cases = (
        (b"{", "not valid JSON"),
        (b'{"start": 1, "end": 2, "amps": 3}', "must be a JSON list of windows"),
        (("[" + ",".join(['{"start": %d, "end": %d, "amps": 6}'
                          % (UTC + 60 * i, UTC + 60 * i + 60) for i in range(49)])
          + "]").encode(), "schedule has 49 windows; at most 48 are allowed"),
        (b"[16]", "windows[0]: must be an object with start, end and amps"),
        (_windows((0, 10, 6))[:-1] + b', {"end": %d, "amps": 6}]' % (UTC + 20),
         "windows[1]: start is missing"),
        (b'[{"start": %d, "amps": 6}]' % UTC, "windows[0]: end is missing"),
        (b'[{"start": %d.5, "end": %d, "amps": 6}]' % (UTC, UTC + 9),
         "windows[0]: start must be a whole number"),
        (b'[{"start": %d, "end": "%d", "amps": 6}]' % (UTC, UTC + 9),
         "windows[0]: end must be a whole number"),
        (b'[{"start": %d, "end": %d}]' % (UTC, UTC + 9),
         "windows[0]: amps is missing"),
        (b'[{"start": %d, "end": %d, "amps": "6"}]' % (UTC, UTC + 9),
         "windows[0]: amps must be a number"),
        (_windows((10, 10, 6)), "windows[0]: end must be after start"),
        (_windows((20, 10, 6)), "windows[0]: end must be after start"),
        (_windows((-20, -10, 6)), "windows[0]: has already ended"),
        (_windows((-20, 0, 6)), "windows[0]: has already ended"),
        (_windows((0, 48 * h + 1, 6)), "windows[0]: ends more than 48 h from now"),
        (_windows((0, 10, 41)),
         "windows[0]: amps 41 is above the wiring limit for all TWCs (40 A)"),
        (_windows((0, 10, -1)), "windows[0]: amps must not be negative"),
        (_windows((30, 60, 6), (0, 20, 6), (19, 25, 6)),
         "windows[1] overlaps windows[2]"),
        (b"[" + b" " * 4096 + b"]", "larger than 4096 bytes"),
    )
    for payload, reason in cases:
        r = Rig()
        assert r.lv.schedule(_windows((0, 100, 16)), 0, UTC)
        assert not r.lv.schedule(payload, 0, UTC), reason
        e = r.events[-1]
        assert e["event"] == "rejected" and e["topic"] == "schedule/set", e
        assert reason in e["reason"], (reason, e["reason"])
        r.lv.tick(0, UTC)  # the stored schedule is untouched
        assert r.lv.windows == 1 and r.limits.site == 16, reason


def test_a_schedule_may_reach_48_h_and_windows_may_touch():
    r = Rig()
    assert r.lv.schedule(_windows((48 * 3600 - 60, 48 * 3600, 10),
                                  (0, 30, 12), (30, 60, 14)), 0, UTC)
    assert r.lv.windows == 3
    r.lv.tick(0, UTC + 29)
    assert r.limits.site == 12
    r.lv.tick(1000, UTC + 30)
    assert r.limits.site == 14


def test_an_empty_schedule_clears_it():
    r = Rig()
    r.lv.schedule(_windows((0, 100, 16)), 0, UTC)
    r.lv.tick(0, UTC)
    assert r.lv.source == "schedule"
    assert r.lv.schedule(b"[]", 500, UTC)
    r.lv.tick(500, UTC)
    assert r.lv.source == "fallback" and r.lv.windows == 0
    assert r.lv.persist() == "[]"


def test_a_window_that_has_begun_starts_now():
    r = Rig()
    assert r.lv.schedule(_windows((-3600, 60, 16)), 0, UTC)
    assert r.lv.persist() == '[{"start":%d,"end":%d,"amps":16}]' % (UTC, UTC + 60)
    r.lv.tick(0, UTC)
    assert r.limits.site == 16


def test_a_stored_schedule_survives_a_reboot():
    r = Rig()
    r.lv.schedule(_windows((3600, 7200, 20.9), (0, 60, 10)), 0, UTC)
    text = r.lv.persist()
    assert text == ('[{"start":%d,"end":%d,"amps":10},'
                    '{"start":%d,"end":%d,"amps":20}]'
                    % (UTC, UTC + 60, UTC + 3600, UTC + 7200))
    # After a reboot: no lease, the clock not set yet, then NTP answers.
    r2 = Rig()
    assert r2.lv.restore(text) and r2.lv.windows == 2
    assert r2.lv.persist() == text
    r2.lv.tick(0, None)
    assert r2.lv.source == "fallback"
    r2.lv.tick(1000, UTC + 3700)
    assert (r2.lv.source, r2.limits.site) == ("schedule", 20)
    assert r2.lv.windows == 1  # the first window has ended meanwhile
    assert r2.events == [{"event": "fallback_left", "source": "schedule",
                          "previous": "fallback", "amps": 20}]


def test_a_bad_stored_schedule_is_refused():
    for text, reason in (("", "not valid JSON"),
                         ("{}", "must be a JSON list"),
                         ('[{"start": 10, "end": 20, "amps": 6}]',
                          "windows[0]: start and end must be Unix seconds "
                          "from 2024 to 2057"),
                         ('[{"start": %d, "end": %d, "amps": 41}]'
                          % (UTC, UTC + 10), "above the wiring limit")):
        r = Rig()
        assert not r.lv.restore(text)
        assert r.lv.windows == 0
        assert r.events[-1]["event"] == "schedule_not_restored"
        assert reason in r.events[-1]["reason"], r.events[-1]


# -- no allocation in the steady state ---------------------------------------------

def _heap_locked(fn):
    """Run fn with the MicroPython heap locked: any allocation raises."""
    try:
        import micropython
    except ImportError:
        return fn()  # CPython: nothing to measure
    micropython.heap_lock()
    try:
        return fn()
    finally:
        micropython.heap_unlock()


def test_tick_allocates_nothing():
    r = Rig()
    r.link(0, A)
    r.lv.twc_lease("1A2B", _lease(10, 3000), 0)
    r.lv.site_lease(_lease(20, 3000), 0)
    r.lv.tick(0, UTC)
    lv = r.lv
    utc = UTC  # a heap int on a 32-bit port, made before the lock

    def ticks():
        t = 0
        for _ in range(2000):
            t = ticks_add(t, 7)
            lv.tick(t, utc)
        for _ in range(500):
            t = ticks_add(t, 7)
            lv.tick(t, None)

    _heap_locked(ticks)
    assert r.lv.source == "lease" and r.m.slots[0].cap == 10


def test_tick_on_the_fallback_allocates_nothing():
    r = Rig()
    r.lv.tick(0, UTC)
    lv = r.lv
    utc = UTC

    def ticks():
        t = 0
        for _ in range(2000):
            t = ticks_add(t, 7)
            lv.tick(t, utc)

    _heap_locked(ticks)
    assert r.lv.source == "fallback"


def test_following_a_schedule_reads_the_clock_only_at_boundaries():
    r = Rig()
    r.lv.schedule(_windows((0, 3600, 16)), 0, UTC)
    r.lv.tick(0, UTC)
    lv = r.lv
    utcs = [UTC + s for s in range(60)]  # heap ints on a 32-bit port

    def ticks():
        for t in range(10, 59000, 10):
            lv.tick(t, utcs[t // 1000])

    _heap_locked(ticks)
    assert r.lv.source == "schedule" and r.limits.site == 16


def test_the_schedule_follows_a_corrected_clock():
    r = Rig()
    r.lv.schedule(_windows((600, 700, 16)), 0, UTC)
    r.lv.tick(0, UTC)
    r.lv.tick(1000, UTC + 1)
    assert r.lv.source == "fallback"
    # NTP moves the clock ahead by 10 minutes: seen within a minute.
    _run(r.lv, 2000, 61000, 1000, UTC + 602)
    assert r.lv.source == "schedule"


# -- end to end, on the fake bus ----------------------------------------------

def _bus_run(h, lv, ms):
    end = h.t + ms
    while h.t < end:
        h.run(50)
        lv.tick(h.now(), None)


def test_a_lease_of_20_a_shared_by_two_cars_then_the_fallback():
    h = Harness(wiring_all=40, per_twc=32, fallback=12)
    events = []
    lv = leases.Leases(h.m, lambda kind, e: events.append(kind))
    a, b = FakeSlave(A), FakeSlave(B)
    a.state = b.state = proto.STATE_CHARGING
    a.actual_ca = b.actual_ca = 550
    h.linkready(a)
    h.linkready(b)
    _bus_run(h, lv, 5000)
    assert (a.applied, b.applied) == (6, 6)  # fallback 12 A
    assert lv.site_lease(b'{"amps": 20, "ttl_s": 30}', h.now())
    start = h.t
    _bus_run(h, lv, 5000)
    assert (a.applied, b.applied) == (10, 10)
    # A cap for one TWC leaves the rest to the other.
    assert lv.twc_lease("1A2B", _lease(7, 10), h.now())
    _bus_run(h, lv, 5000)
    assert (a.applied, b.applied) == (7, 13)
    _bus_run(h, lv, 10000)  # the cap has run out
    assert (a.applied, b.applied) == (10, 10)
    # The host falls silent: 30 s after the lease arrived, the fallback.
    _bus_run(h, lv, start + 29900 - h.t)
    assert lv.source == "lease"
    _bus_run(h, lv, 5000)
    assert lv.source == "fallback" and h.limits.site == 12
    assert (a.applied, b.applied) == (6, 6)
    assert events == ["fallback_left", "lease_expired", "lease_expired",
                      "fallback_entered"]
