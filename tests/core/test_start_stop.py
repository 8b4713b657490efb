# Start / stop charging (FC B1 / FC B2): the encoder, the master that sends
# a command once without delaying a heartbeat, and the MQTT command that is
# refused unless the device config enabled it.
from binascii import unhexlify

from twc import frame, leases, master, proto, share
from twc.contract import CHARGING, Contract
from fakebus import FakeSlave, Harness

A, B = 0x1A2B, 0x2C3D


def _linked(h, *fakes):
    for s in fakes:
        h.linkready(s)
    h.run(3000)


def _commands(h, since=0):
    return [(t, f) for (t, f) in h.sent if t >= since and proto.code(f) in
            (proto.START_CHARGING, proto.STOP_CHARGING)]


def test_the_encoder_builds_twcmanagers_frames():
    buf = bytearray(frame.MAX_LEN)
    n = proto.start_stop(buf, True, 0x7777, 0x2433)
    assert bytes(buf[:n]) == unhexlify("FCB177772433000000000000000000F6")
    n = proto.start_stop(buf, False, 0x7777, 0x2433)
    assert bytes(buf[:n]) == unhexlify("FCB277772433000000000000000000F7")


def test_the_master_refuses_it_unless_enabled():
    h = Harness()
    _linked(h, FakeSlave(A))
    assert h.m.charging(A, False, h.now()) == master.START_STOP_OFF
    h.run(12000)
    assert _commands(h) == []


def test_a_command_is_sent_once_and_acknowledged():
    h = Harness()
    h.m.start_stop_enabled = True
    s = FakeSlave(A)
    _linked(h, s)
    t0 = h.t
    assert h.m.charging(A, False, h.now()) is None
    h.run(3000)
    sent = _commands(h, t0)
    assert len(sent) == 1
    assert proto.code(sent[0][1]) == proto.STOP_CHARGING and proto.receiver(sent[0][1]) == A
    assert len(sent[0][1]) == proto.LEN_P2 and not s.contactor
    assert (master.STOP_SENT, A) in h.events and (master.STOP_ACKED, A) in h.events


def test_refusals_name_the_reason():
    h = Harness()
    h.m.start_stop_enabled = True
    _linked(h, FakeSlave(A), FakeSlave(B, protocol=1))
    assert "no TWC with id 3333" in h.m.charging(0x3333, True, h.now())
    assert "protocol 1" in h.m.charging(B, True, h.now())
    assert h.m.charging(A, False, h.now()) is None
    h.run(9000)
    assert "less than 10 s ago" in h.m.charging(A, True, h.now())
    h.run(1100)
    assert h.m.charging(A, True, h.now()) is None
    h.run(1000)
    assert [proto.code(f) for t, f in _commands(h)] == [proto.STOP_CHARGING,
                                                        proto.START_CHARGING]


def test_commands_never_delay_a_heartbeat():
    h = Harness()
    h.m.start_stop_enabled = True
    fakes = [FakeSlave(A), FakeSlave(B), FakeSlave(0x3C3C)]
    _linked(h, *fakes)
    start = h.t
    for k in range(6):
        for s in fakes:
            assert h.m.charging(s.id, k % 2 == 1, h.now()) is None
        h.run(10001)
    assert len(_commands(h, start)) == 18
    for s in fakes:
        times = [t for t in s.heartbeats if t >= start]
        gaps = [times[i] - times[i - 1] for i in range(1, len(times))]
        assert max(gaps) <= 1100, (s.id, max(gaps))


def test_a_command_for_a_twc_that_left_is_dropped():
    h = Harness()
    h.m.start_stop_enabled = True
    s = FakeSlave(A)
    _linked(h, s)
    h.m.charging(A, False, h.now())
    h.m.slots[0].clear()  # released before the bus was free
    h.run(2000)
    assert _commands(h) == []


class _Rig:
    def __init__(self, enabled):
        self.m = master.Master(lambda view: None, share.Limits(40, 32, 6), start_stop=enabled)
        self.events = []
        self.lv = leases.Leases(self.m, lambda kind, event: self.events.append(event))
        self.c = Contract("home", self.lv)
        s = self.m.slots[0]
        s.status, s.id, s.protocol, s.max_ca = 1, A, 2, 3200  # linked

    def send(self, payload, twc="1A2B"):
        return self.c.handle("twcm/home/twc/" + twc + "/charging/set", payload, 0, None)


def test_the_mqtt_command_is_refused_unless_enabled():
    r = _Rig(False)
    assert r.send('{"charging": false}') is None
    assert r.events == [{"event": "rejected", "topic": "twc/1A2B/charging/set",
                         "reason": master.START_STOP_OFF, "twc": "1A2B"}]
    assert r.m._cmd == [0, 0, 0]


def test_the_mqtt_command_is_checked_then_handed_to_the_master():
    r = _Rig(True)
    for payload, twc, reason in (('{"charging": 0}', "1A2B", "like {\"charging\": false}"),
                                 ('[true]', "1A2B", "like {\"charging\": false}"),
                                 ('nope', "1A2B", "not valid JSON"),
                                 ('{"charging": true}', "12", "4 hex digits"),
                                 ('{"charging": true}', "3C3C", "no TWC with id 3C3C")):
        assert r.send(payload, twc) is None
        assert r.events[-1]["reason"].find(reason) >= 0, (payload, r.events[-1])
    assert r.m._cmd == [0, 0, 0]
    assert r.send(b'{"charging": true}', "1a2b") == CHARGING
    assert r.m._cmd[0] == proto.START_CHARGING and len(r.events) == 5
    assert r.send('{"charging": false}') is None  # within 10 s
    assert "less than 10 s ago" in r.events[-1]["reason"]
