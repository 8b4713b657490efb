# The bus loop's pass (twc/busloop.py): bytes to the master, its tick, the
# leases; the longest pass, the clock once a second, and no allocation.
from twc import frame, hub, master, proto, share
from twc.busloop import BusLoop
from twc.ticks import PERIOD, ticks_add

A = 0x1A2B
UTC = 1767225600  # 2026-01-01T00:00:00Z; a heap int on a 32-bit port, made once


def _wire(buf, n):
    out = bytearray(frame.MAX_WIRE)
    k = frame.escape_into(buf, n, out)
    return bytes(out[:k]) + b"\xfe"


class Rig:
    """One protocol-2 slave that answers each heartbeat and meter request
    at the next pass with a reply made beforehand (no allocation)."""

    def __init__(self, with_hub=True, clock=None):
        self.m = master.Master(self._send, share.Limits(40, 32, 40), now=0)
        self.hub = hub.mqtt_side(self.m, "home", "9.9") if with_hub else None
        self.reads = 0
        self.clock = UTC if clock is None else clock
        self.loop = BusLoop(self.m, self.hub, self._utc)
        buf = bytearray(frame.MAX_LEN)
        self.linkready = _wire(buf, proto.slave_linkready(buf, A, 1, 3200, 2))
        self.heartbeat = _wire(buf, proto.slave_heartbeat(buf, A, master.MASTER_ID, 1,
                                                          1300, 1280, 2))
        self.meter = _wire(buf, proto.meter_reply(buf, A, 1000, (230, 0, 0), (13, 0, 0)))
        self.pending = self.linkready
        self.now = 0

    def _utc(self):
        self.reads += 1
        return self.clock

    def _send(self, view):
        # Our frames have nothing escaped before the receiver's id.
        code = (view[1] << 8) | view[2]
        if (view[5] << 8) | view[6] != A:
            return
        if code == proto.MASTER_HEARTBEAT:
            self.pending = self.heartbeat
        elif code == proto.METER_REQUEST:
            self.pending = self.meter

    def run(self, ms, step=5):
        loop = self.loop
        end = ticks_add(self.now, ms)
        while self.now != end:
            self.now = ticks_add(self.now, step)
            data = self.pending
            self.pending = None
            loop.step(self.now, data, len(data) if data is not None else 0)


def test_a_pass_feeds_the_master_ticks_it_and_runs_the_leases():
    r = Rig()
    r.run(3000)
    s = r.m.slots[0]
    assert s.id == A and s.status != 0 and s.actual_ca == 1280
    assert r.loop.utc_s == UTC and r.hub.leases.time_valid
    assert r.hub.command("twcm/home/limit/set", b'{"amps": 20, "ttl_s": 60}', r.now, UTC)
    r.run(5)
    assert r.m.limits.site == 20 and r.hub.leases.source == "lease"


def test_the_longest_gap_between_passes_is_the_hubs_loop_max_ms():
    r = Rig()
    loop = r.loop
    loop.step(1000)  # the first pass: nothing to measure yet
    assert r.hub.loop_max_ms is None
    for t, want in ((1005, 5), (1010, 5), (1060, 50), (1065, 50), (1100, 50)):
        loop.step(t)
        assert r.hub.loop_max_ms == want, (t, r.hub.loop_max_ms)
    r = Rig()
    r.loop.step(PERIOD - 20)
    r.loop.step(ticks_add(PERIOD - 20, 80))  # across a wrap of the ticks
    assert r.hub.loop_max_ms == 80


def test_the_clock_is_read_once_a_second():
    r = Rig()
    r.run(3000)  # passes at 5 ... 3000 ms: reads at 5, 1005, 2005
    assert r.reads == 3
    r.run(10)
    assert r.reads == 4
    # A host's float time: the next read is when the next second begins.
    r = Rig(clock=float(UTC) + 0.25)
    r.loop.step(0)
    assert r.reads == 1 and r.loop.utc_s == UTC and isinstance(r.loop.utc_s, int)
    r.loop.step(745)
    assert r.reads == 1
    r.loop.step(750)
    assert r.reads == 2


def test_without_a_hub_only_the_master_runs():
    r = Rig(with_hub=False)
    r.run(3000)
    assert r.m.slots[0].id == A and r.reads == 0 and r.loop.utc_s is None


def test_a_steady_pass_allocates_nothing():
    r = Rig()
    r.hub.command("twcm/home/limit/set", b'{"amps": 20, "ttl_s": 3600}', 0, UTC)
    r.run(70000)  # every path of the steady state has run once (meter polls: 60 s)
    try:
        import micropython
    except ImportError:
        r.run(20000)
        return
    before = r.reads
    micropython.heap_lock()
    try:
        r.run(20000)
    finally:
        micropython.heap_unlock()
    assert r.reads - before == 20 and r.m.limits.site == 20
    assert r.m.slots[0].offer == 20
