"""SimSlave against hand-built master frames: no bus, no master."""
import pytest

from twc import proto
from twc.frame import MAX_LEN, MAX_WIRE, Reader, escape_into, seal
from twcm.sim.car import Car
from twcm.sim.slave import SimSlave

M = 0x7777  # the master's ID
S = 0x1839  # the slave's ID


def _wire(buf, n):
    out = bytearray(MAX_WIRE)
    return bytes(out[:escape_into(buf, n, out)])


def wire(encoder, *args):
    """The wire form of a frame built by a proto encoder."""
    buf = bytearray(MAX_LEN)
    return _wire(buf, encoder(buf, *args))


def heartbeat(cmd=0, ca=0, to=S):
    """A master heartbeat; also with the commands the encoder refuses (02, 06, 07)."""
    buf = bytearray(MAX_LEN)
    n = proto.master_heartbeat(buf, M, to, proto.CMD_NONE, 0)
    buf[6] = cmd
    buf[7], buf[8] = ca >> 8, ca & 0xFF
    return _wire(buf, seal(buf, n))


class Rig:
    """A slave, what it sent (time, raw bytes) and a clock to tick it with."""

    def __init__(self, **options):
        options.setdefault("twc_id", S)
        options.setdefault("first_linkready_ms", 500)
        self.sent = []
        self.now = 0
        self.slave = SimSlave(lambda data: self.sent.append((self.now, data)), **options)

    def feed(self, data):
        self.slave.handle_bytes(data, self.now)

    def run(self, ms, step=5):
        end = self.now + ms
        while self.now < end:
            self.now += step
            self.slave.tick(self.now)

    def frames(self, since=0):
        """(time, frame) for every good frame sent at or after `since`."""
        got = []
        for t, data in self.sent:
            if t < since:
                continue
            r = Reader()
            for b in data:
                n = r.push(b)
                if n:
                    got.append((t, bytes(r.buf[:n])))
        return got

    def ask(self, data, wait=100, step=5):
        """Feed a frame, wait, and return the frames sent meanwhile."""
        t = self.now
        self.feed(data)
        self.run(wait, step)
        return [f for _, f in self.frames(since=t + 1)]


def code(f):
    return proto.code(f)


def charging_rig(protocol=2, amps=20, **options):
    rig = Rig(protocol=protocol, car=Car(vin=options.pop("vin", None)), **options)
    rig.slave.car.plug()
    cmd = proto.CMD_LIMIT_P2 if protocol == 2 else proto.CMD_LIMIT_P1
    rig.ask(heartbeat(cmd, amps * 100))
    for _ in range(20):
        rig.ask(heartbeat(), wait=1000)
    return rig


# -- linkready --------------------------------------------------------------

@pytest.mark.parametrize("protocol,length", [(1, 14), (2, 16)])
def test_unmastered_it_sends_linkready_every_10_s(protocol, length):
    rig = Rig(protocol=protocol, sign=0x52, max_amps=80)
    rig.run(35_000)
    got = rig.frames()
    assert [t for t, _ in got] == [500, 10_500, 20_500, 30_500]
    for _, f in got:
        assert len(f) == length and code(f) == proto.SLAVE_LINKREADY
        assert proto.is_slave_linkready(f, len(f))
        assert proto.sender(f) == S and proto.linkready_sign(f) == 0x52
        assert proto.linkready_max_ca(f) == 8000


def test_first_linkready_offset_differs_per_seed():
    firsts = set()
    for seed in range(5):
        rig = Rig(seed=seed, first_linkready_ms=None)
        rig.run(2000)
        firsts.add(rig.frames()[0][0])
    assert len(firsts) > 1 and max(firsts) <= 1505  # 100-1500 ms, 5 ms ticks


def test_trailer_byte_follows_the_closing_c0():
    for trailer, tail in ((0xFE, b"\xc0\xfe"), (0xFC, b"\xc0\xfc"), (None, b"\xc0")):
        rig = Rig(trailer=trailer)
        rig.run(600)
        (_, data), = rig.sent
        assert data.endswith(tail) and data[-len(tail) - 1] != 0xC0


def test_first_master_linkready_2_is_ignored_the_second_brings_5_linkreadies():
    rig = Rig(first_linkready_ms=60_000)
    lr1 = wire(proto.master_linkready, 1, M, 0x77)
    lr2 = wire(proto.master_linkready, 2, M, 0x77)
    assert rig.ask(lr1, wait=200) == []
    assert rig.ask(lr2, wait=1000) == []
    t2 = rig.now
    rig.feed(lr2)
    rig.run(2000)
    got = rig.frames(since=t2)
    assert len(got) == 5
    assert all(code(f) == proto.SLAVE_LINKREADY for _, f in got)
    assert 200 <= got[0][0] - t2 <= 260  # about 0.2 s after the second one
    assert got[-1][0] - t2 < 1000


# -- heartbeats -------------------------------------------------------------

def test_answers_its_heartbeat_10_to_40_ms_later_echoing_the_limit():
    rig = Rig()
    rig.slave.car.plug()
    t = rig.now
    rig.feed(heartbeat(proto.CMD_LIMIT_P2, 2000))
    rig.run(100, step=1)
    (when, f), = rig.frames(since=t)
    assert 10 <= when - t <= 40
    assert code(f) == proto.SLAVE_HEARTBEAT and len(f) == 16
    assert proto.sender(f) == S and proto.receiver(f) == M
    assert proto.hb_limit_ca(f) == 2000
    assert proto.hb_state(f) == proto.STATE_STARTING
    assert rig.slave.applied_amps == 20
    assert rig.slave.mastered and rig.slave.heartbeats == 1
    assert list(rig.slave.heartbeat_times) == [t]


def test_ignores_heartbeats_for_others_and_talks_only_when_asked():
    rig = Rig(first_linkready_ms=60_000)
    assert rig.ask(heartbeat(to=0x4085), wait=500) == []
    assert not rig.slave.mastered and rig.slave.heartbeats == 0


def test_states_from_plug_in_to_charging():
    rig = Rig()
    (f,) = rig.ask(heartbeat())
    assert proto.hb_state(f) == proto.STATE_READY and proto.hb_actual_ca(f) == 25
    rig.slave.car.plug()
    rig.run(10)
    (f,) = rig.ask(heartbeat())
    assert proto.hb_state(f) == proto.STATE_ASKING and proto.hb_limit_ca(f) == 0
    (f,) = rig.ask(heartbeat(proto.CMD_LIMIT_P2, 3200))
    assert proto.hb_state(f) == proto.STATE_STARTING
    rig.run(20_000)
    (f,) = rig.ask(heartbeat())
    assert proto.hb_state(f) == proto.STATE_CHARGING
    assert proto.hb_actual_ca(f) == round(rig.slave.car.amps * 100)
    assert 3000 < proto.hb_actual_ca(f) < 3200
    (f,) = rig.ask(heartbeat(proto.CMD_LIMIT_P2, 0))
    assert proto.hb_state(f) == proto.STATE_PLUGGED and proto.hb_limit_ca(f) == 0
    rig.run(5000)
    assert rig.slave.car.amps == 0


def test_protocol_1_reply_is_14_bytes_and_05_works_while_charging():
    rig = charging_rig(protocol=1, amps=20)
    (f,) = rig.ask(heartbeat(proto.CMD_LIMIT_P1, 1000))
    assert len(f) == 14 and proto.hb_limit_ca(f) == 1000
    (f,) = rig.ask(heartbeat(proto.CMD_LIMIT_P2, 1600))
    assert proto.hb_limit_ca(f) == 1000  # 09 is protocol 2 only


def test_protocol_2_ignores_05_while_a_car_charges():
    rig = charging_rig(amps=20)
    (f,) = rig.ask(heartbeat(proto.CMD_LIMIT_P1, 1000))
    assert proto.hb_limit_ca(f) == 2000
    (f,) = rig.ask(heartbeat(proto.CMD_ACK, 1200))
    assert proto.hb_limit_ca(f) == 1200
    (f,) = rig.ask(heartbeat(proto.CMD_LIMIT_P2, 1000))
    assert proto.hb_limit_ca(f) == 1000


def test_echoes_even_absurd_limits():
    rig = Rig()
    (f,) = rig.ask(heartbeat(proto.CMD_LIMIT_P2, 0xFFFF))
    assert proto.hb_limit_ca(f) == 0xFFFF and rig.slave.applied_amps == 655.35


def test_07_lowers_by_2_a_for_10_s_then_reports_0a_once():
    rig = charging_rig(amps=20)
    (f,) = rig.ask(heartbeat(proto.CMD_LOWER))
    assert proto.hb_state(f) == proto.CMD_LOWER and proto.hb_limit_ca(f) == 1800
    rig.run(10_000)
    assert rig.slave.applied_amps == 20
    (f,) = rig.ask(heartbeat())
    assert proto.hb_state(f) == proto.CMD_LOWER
    rig.run(3000)
    states = [proto.hb_state(rig.ask(heartbeat())[0]) for _ in range(2)]
    assert states == [proto.STATE_ADJUSTED, proto.STATE_CHARGING]


def test_06_raises_by_2_a_and_reports_0a_after_44_s():
    rig = charging_rig(amps=20)
    (f,) = rig.ask(heartbeat(proto.CMD_RAISE))
    assert proto.hb_state(f) == proto.CMD_RAISE and proto.hb_limit_ca(f) == 2200
    for _ in range(43):
        (f,) = rig.ask(heartbeat(), wait=1000)
    assert proto.hb_state(f) == proto.CMD_RAISE
    rig.run(1000)
    (f,) = rig.ask(heartbeat())
    assert proto.hb_state(f) == proto.STATE_ADJUSTED and proto.hb_limit_ca(f) == 2200


# -- data requests ----------------------------------------------------------

VIN = "5YJ3E1EA7KF317000"


@pytest.mark.parametrize("req_len", [13, 15, 16])
def test_vin_parts(req_len):
    rig = charging_rig(vin=VIN)
    parts = []
    for part, req in enumerate(proto.VIN_REQUESTS):
        (f,) = rig.ask(wire(proto.request, req, M, S, req_len))
        assert code(f) == proto.VIN_REPLIES[part] and len(f) == 20
        assert proto.sender(f) == S
        parts.append(f[4:4 + proto.VIN_COUNT[part]])
        assert not any(f[4 + proto.VIN_COUNT[part]:19])
    assert b"".join(parts).decode() == VIN


def test_a_car_that_does_not_tell_gives_all_zero_vin_parts():
    rig = charging_rig(vin=None)
    for req in proto.VIN_REQUESTS:
        (f,) = rig.ask(wire(proto.request, req, M, S))
        assert len(f) == 20 and not any(f[4:19])


def test_meter_counts_what_the_car_drew():
    rig = Rig(kwh=1234, phases=3, volts=230, car=Car(battery_kwh=100, soc=0.1))
    rig.slave.car.plug()
    rig.ask(heartbeat(proto.CMD_LIMIT_P2, 1600))
    for _ in range(3600):  # an hour at ~15 A x 3 x 230 V: ~10.5 kWh
        rig.ask(heartbeat(), wait=1000, step=100)
    (f,) = rig.ask(wire(proto.request, proto.METER_REQUEST, M, S))
    assert code(f) == proto.METER_REPLY and len(f) == 20
    kwh = proto.meter_kwh(f)
    assert kwh == int(rig.slave.kwh)
    assert 1234 + 10 <= kwh <= 1234 + 11
    assert [proto.meter_volts(f, p) for p in range(3)] == [230, 230, 230]
    half = round(rig.slave.car.amps * 2)
    assert [proto.meter_half_amps(f, p) for p in range(3)] == [half] * 3


def test_single_phase_meter_reports_phase_a_only():
    rig = charging_rig(phases=1, volts=240)
    (f,) = rig.ask(wire(proto.request, proto.METER_REQUEST, M, S))
    assert [proto.meter_volts(f, p) for p in range(3)] == [240, 0, 0]
    assert proto.meter_half_amps(f, 0) > 0 and proto.meter_half_amps(f, 1) == 0


def test_protocol_1_does_not_answer_data_requests():
    rig = charging_rig(protocol=1)
    for req in proto.REQUESTS:
        assert rig.ask(wire(proto.request, req, M, S)) == []


def test_stop_and_start_charging():
    rig = charging_rig(amps=20)
    (f,) = rig.ask(wire(proto.request, proto.STOP_CHARGING, M, S))
    assert code(f) == proto.STOP_ACK and len(f) == 16 and proto.sender(f) == S
    assert rig.slave.car.amps == 0
    for _ in range(5):
        (f,) = rig.ask(heartbeat(), wait=1000)
        assert rig.slave.car.amps == 0
    assert proto.hb_state(f) == proto.STATE_PLUGGED
    assert proto.hb_limit_ca(f) == 2000  # the limit stays, the contactor is open
    (f,) = rig.ask(wire(proto.request, proto.START_CHARGING, M, S))
    assert code(f) == proto.START_ACK
    rig.run(3000)
    assert rig.slave.car.amps > 1


# -- identity and master loss -------------------------------------------------

def test_master_linkready_with_its_id_makes_it_pick_another():
    rigs = [Rig(sign=0x52, seed=7, first_linkready_ms=60_000) for _ in range(2)]
    for rig in rigs:
        rig.ask(wire(proto.master_linkready, 1, S, 0x77))
    a, b = (r.slave for r in rigs)
    assert a.id != S and (a.id, a.sign) == (b.id, b.sign)  # seeded
    assert rigs[0].ask(heartbeat(to=S)) == []
    new = a.id
    rigs[0].ask(wire(proto.master_linkready, 2, M, 0x77))
    assert a.id == new  # another master ID changes nothing


def test_without_heartbeats_it_falls_back_to_linkready_and_stops_the_car_at_25_s():
    rig = charging_rig(amps=20)
    slave = rig.slave
    last = slave.heartbeat_times[-1]
    rig.run(last + 9_900 - rig.now)
    assert slave.mastered and rig.frames(since=last + 100) == []
    rig.run(200)
    assert not slave.mastered
    rig.run(last + 24_900 - rig.now)
    assert slave.car.amps > 15 and slave.applied_amps == 20
    rig.run(200)
    assert slave.car.amps == 0 and slave.applied_amps == 0
    times = [t for t, f in rig.frames(since=last + 100) if code(f) == proto.SLAVE_LINKREADY]
    assert times[0] - last == 10_000 and times[1] - times[0] == 10_000
    # The master is back: the slave asks again in state 08, a limit restarts it.
    (f,) = rig.ask(heartbeat())
    assert proto.hb_state(f) == proto.STATE_STARTING and proto.hb_limit_ca(f) == 0
    rig.ask(heartbeat(proto.CMD_LIMIT_P2, 1600), wait=3000)
    assert slave.car.amps > 1 and slave.mastered


# -- faults ------------------------------------------------------------------

def test_corrupted_frames_are_rejected_by_the_reader():
    rig = charging_rig()
    rig.slave.corrupt_next(2)
    t = rig.now
    assert rig.ask(heartbeat()) == []
    assert rig.ask(wire(proto.request, proto.METER_REQUEST, M, S)) == []
    bad = [data for when, data in rig.sent if when > t]
    assert len(bad) == 2
    r = Reader()
    for b in b"".join(bad):
        assert r.push(b) == 0
    assert r.errors == 2
    (f,) = rig.ask(heartbeat())  # the next frame is good again
    assert code(f) == proto.SLAVE_HEARTBEAT


@pytest.mark.parametrize("n", [5, 13, 14, 16, 20, 60])
def test_garbage_is_no_frame_and_spoils_none(n):
    good = heartbeat()
    for seed in range(30):
        junk = []
        SimSlave(junk.append, seed=seed).send_garbage(n)
        assert len(junk[0]) == n
        r = Reader()
        found = []
        for b in good + junk[0] + good:
            k = r.push(b)
            if k:
                found.append(bytes(r.buf[:k]))
        assert len(found) == 2 and found[0] == found[1]
        alone = Reader()
        for b in b"\xc0" + junk[0] + b"\xc0":
            assert alone.push(b) == 0
        assert alone.errors == 1


def test_silence_drops_replies_but_it_still_obeys():
    rig = charging_rig(amps=20)
    rig.slave.silence(rig.now, 3000)
    assert rig.ask(heartbeat(proto.CMD_LIMIT_P2, 1000), wait=3000) == []
    assert rig.slave.applied_amps == 10
    (f,) = rig.ask(heartbeat())
    assert proto.hb_limit_ca(f) == 1000


def test_command_02_gives_state_02_then_silence_until_reset():
    rig = charging_rig()
    (f,) = rig.ask(heartbeat(proto.CMD_ERROR, 0x0400))
    assert proto.hb_state(f) == proto.STATE_ERROR
    assert rig.slave.car.amps == 0
    assert rig.ask(heartbeat(), wait=30_000) == []
    rig.slave.reset()
    (f,) = rig.ask(heartbeat())
    assert proto.hb_state(f) != proto.STATE_ERROR
