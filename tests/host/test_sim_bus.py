"""The in-process bus: wire time, collisions, and the real master with three
simulated slaves for a simulated minute."""
import statistics

import pytest

from twc import master as tm
from twc import proto
from twc.frame import Reader
from twc.master import Master
from twc.share import Limits
from twc.slot import LINKED
from twc.ticks import PERIOD
from twcm.sim.bus import Bus, slot_end_us
from twcm.sim.car import Car


def valid_vin(stem):
    """stem (16 characters, position 9 left out) with its check digit put in."""
    for d in "0123456789X":
        vin = stem[:8] + d + stem[8:]
        if proto.vin_valid(vin.encode()):
            return vin
    raise AssertionError("no check digit")


VINS = [valid_vin(f"5YJ3E1EAKF31700{i}") for i in range(3)]


def make_bus(n=3, start_ms=0):
    """The real master (wiring 40 A shared, 32 A per TWC) and n slaves."""
    bus = Bus(start_ms=start_ms)
    master = Master(bus.master_send, Limits(40, 32, 40), now=bus.master_now)
    bus.attach_master(master)
    for i in range(n):
        bus.add_slave(seed=i, car=Car(vin=VINS[i]))
    return bus, master


def _never_over(bus, total=40, per_twc=32):
    """A hook: the limits in force and the cars' draws stay within the wiring."""
    def check(now):
        applied = [s.applied_amps for s in bus.slaves]
        assert sum(applied) <= total and max(applied) <= per_twc, (now, applied)
        assert sum(s.car.amps for s in bus.slaves) <= total, now
    bus.hooks.append(check)


def test_frames_take_their_wire_time_and_reach_the_others_after_it():
    bus = Bus()
    got = []
    a = bus.add_slave(twc_id=0x1111, seed=1, first_linkready_ms=10)
    b = bus.add_slave(twc_id=0x2222, seed=2, first_linkready_ms=60_000)
    b.handle_bytes = lambda data, now: got.append((now, data))
    bus.advance(100)
    (f,) = bus.log
    assert f.sender == "slave0" and f.start_ms == 10
    assert len(f.wire) == 19  # C0, 16 bytes, C0, trailer
    assert f.end_ms - f.start_ms == pytest.approx(19 * 10 / 9.6, abs=0.01)
    assert b"".join(d for _, d in got) == f.wire
    assert got[0][0] == 12 and got[-1][0] == 30  # byte by byte, 1.04 ms each
    assert proto.code(f.frame) == proto.SLAVE_LINKREADY and not f.collided
    assert a.id == proto.sender(f.frame)


def test_overlapping_frames_are_both_lost():
    bus = Bus()
    for i in range(2):  # both due at the same instant
        bus.add_slave(twc_id=0x1111 * (i + 1), seed=i, first_linkready_ms=500)
    ear = bus.add_slave(twc_id=0x3333, first_linkready_ms=60_000)
    heard = []
    ear.handle_bytes = lambda data, now: heard.append(data)
    bus.advance(600)
    (c,) = bus.collisions
    assert (c.starter, c.others, c.heard) == ("slave1", ("slave0",), False)
    assert len(bus.log) == 2 and all(f.collided for f in bus.log)
    r = Reader()
    assert not any(r.push(b) for b in b"".join(heard))
    assert r.frames == 0


def test_a_late_starter_into_a_busy_line_is_named():
    bus = Bus()
    bus.add_slave(twc_id=0x1111, first_linkready_ms=60_000)
    bus.transmit("x", b"\xc0" + b"\x11" * 30 + b"\xc0")
    bus.advance(5)
    bus.transmit("y", b"\xc0" + b"\x22" * 30 + b"\xc0")
    (c,) = bus.collisions
    assert (c.starter, c.others, c.heard) == ("y", ("x",), True)
    assert slot_end_us(0, 0) == 1041


def test_master_wraps_its_ticks():
    bus, master = make_bus(n=1, start_ms=PERIOD - 3000)
    bus.slaves[0].car.plug()
    bus.advance(8000)
    assert bus.master_now < 10_000 < bus.now
    assert bus.slaves[0].mastered and bus.slaves[0].applied_amps > 0


def test_real_master_and_three_slaves_for_a_minute():
    bus, master = make_bus(n=3, start_ms=PERIOD - 20_000)
    slaves = bus.slaves
    for s in slaves:
        s.car.plug()
    _never_over(bus)  # at every step
    t0 = bus.now
    bus.advance(5000)
    assert all(s.mastered for s in slaves)
    linked = max(s.heartbeat_times[0] for s in slaves)
    bus.advance(55_000)

    # Heartbeats about once a second each, none missing for long.
    for s in slaves:
        gaps = s.heartbeat_gaps(since=linked + 3000)
        assert 900 <= statistics.median(gaps) <= 1100
        assert max(gaps) < 2500
        assert len(s.heartbeat_times) >= 55
    # Cars share 40 A: 14/13/13 (in some order), each drawing a bit less.
    assert sorted(s.applied_amps for s in slaves) == [13, 13, 14]
    assert all(s.state() == proto.STATE_CHARGING for s in slaves)
    assert all(s.applied_amps - 1.5 < s.car.amps < s.applied_amps for s in slaves)
    # The master read each VIN and polled each meter.
    by_id = {s.id: s for s in slaves}
    for slot in master.slots:
        s = by_id[slot.id]
        assert slot.status == LINKED and slot.vin_known
        assert bytes(slot.vin).decode() == s.car.vin
        assert slot.kwh == int(s.kwh) and slot.volts[0] == 230
    assert bus.frames(proto.METER_REPLY) and bus.frames(proto.VIN3_REPLY)
    # The master never started into a frame it could hear, and slave frames
    # carry the trailer byte.
    assert not [c for c in bus.collisions if c.starter == "master" and c.heard]
    slave_frames = [f for f in bus.log if f.sender != "master" and not f.collided]
    assert slave_frames and all(f.wire.endswith(b"\xc0\xfe") for f in slave_frames)
    assert bus.now - t0 == 60_000


def test_a_slave_that_goes_quiet_is_lost_and_rejoins_within_the_limits():
    bus, master = make_bus(n=3)
    slaves = bus.slaves
    for s in slaves:
        s.car.plug()
    events = []
    master.on_event = lambda kind, twc_id, detail: events.append((kind, twc_id))
    _never_over(bus)
    bus.advance(20_000)
    quiet = slaves[0]
    quiet.silence(bus.now, 40_000)
    bus.advance(30_000)
    assert (tm.LOST_EVENT, quiet.id) in events
    # It heard heartbeats until the master gave up on it, so it still draws.
    assert quiet.car.amps > 0
    bus.advance(30_000)  # unmastered, it sends linkready again and is back
    assert quiet.mastered and quiet.car.amps > 0


def test_cars_plugged_in_one_by_one_and_unplugged():
    bus, master = make_bus(n=3)
    _never_over(bus)
    for s in bus.slaves:
        s.car.plug()
        bus.advance(20_000)
    assert sorted(s.applied_amps for s in bus.slaves) == [13, 13, 14]
    bus.slaves[0].car.unplug()
    bus.advance(20_000)
    assert [s.applied_amps for s in bus.slaves] == [0, 20, 20]


def test_a_restarted_master_takes_over_the_slaves():
    bus, _ = make_bus(n=3)
    _never_over(bus)
    for s in bus.slaves:
        s.car.plug()
    bus.advance(30_000)
    bus.attach_master(Master(bus.master_send, Limits(40, 32, 40), now=bus.master_now))
    bus.advance(20_000)  # unmastered after 10 s, the slaves send linkready
    assert all(s.mastered for s in bus.slaves)
    bus.advance(10_000)
    assert sorted(s.applied_amps for s in bus.slaves) == [13, 13, 14]
    assert all(s.car.amps > 10 for s in bus.slaves)
