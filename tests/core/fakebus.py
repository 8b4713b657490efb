# A small scripted bus for the master's tests, runnable on MicroPython:
# fake slaves answer heartbeats with what the test sets, after 20 ms.
# (The full slave simulator, with cars, is host/twcm/sim/.)
from twc import frame, master, proto, share
from twc.ticks import PERIOD

REPLY_DELAY = 20


class FakeSlave:
    def __init__(self, twc_id, protocol=2, max_ca=3200):
        self.id = twc_id
        self.protocol = protocol
        self.max_ca = max_ca
        self.state = 0
        self.actual_ca = 25
        self.applied = 0  # amps the master last set
        self.answer = True
        self.vin = None  # bytes to answer VIN requests with
        self.heartbeats = []  # times at which it heard a heartbeat
        self.contactor = True  # closed (charging allowed) until a FC B2


class Harness:
    def __init__(self, wiring_all=40, per_twc=32, fallback=40, start=0, min_amps=0):
        self.t = start  # unwrapped time of the test
        self.sent = []  # (time, frame) of everything the master sent
        self.events = []
        self.fakes = {}
        self.queue = []  # (time, wire bytes) to deliver to the master
        self.limits = share.Limits(wiring_all, per_twc, fallback, min_amps)
        self.m = master.Master(self._send, self.limits, on_event=self._event,
                               now=self.now())

    def now(self):
        return self.t % PERIOD

    def _event(self, kind, twc_id, detail):
        self.events.append((kind, twc_id))

    def _send(self, view):
        r = frame.Reader()
        for b in bytes(view):
            k = r.push(b)
            if k:
                f = bytes(r.buf[:k])
                self.sent.append((self.t, f))
                self._answer(f)

    def _answer(self, f):
        c = proto.code(f)
        if proto.sender(f) != master.MASTER_ID or c == proto.MASTER_LINKREADY1 \
                or c == proto.MASTER_LINKREADY2:
            return
        s = self.fakes.get(proto.receiver(f))
        if s is None or not s.answer:
            return
        buf = bytearray(frame.MAX_LEN)
        if c == proto.MASTER_HEARTBEAT:
            s.heartbeats.append(self.t)
            if f[6] in (proto.CMD_LIMIT_P1, proto.CMD_LIMIT_P2, proto.CMD_ACK):
                s.applied = proto.hb_limit_ca(f) // 100
            n = proto.slave_heartbeat(buf, s.id, master.MASTER_ID, s.state,
                                      s.applied * 100, s.actual_ca, s.protocol)
        elif c == proto.METER_REQUEST:
            n = proto.meter_reply(buf, s.id, 1234, (230, 231, 232), (2, 4, 6))
        elif c in proto.VIN_REQUESTS and s.vin is not None:
            n = proto.vin_reply(buf, proto.VIN_REQUESTS.index(c), s.id, s.vin)
        elif c in (proto.START_CHARGING, proto.STOP_CHARGING) and s.protocol == 2:
            s.contactor = c == proto.START_CHARGING
            n = proto.charge_ack(buf, proto.START_ACK if s.contactor else proto.STOP_ACK, s.id)
        else:
            return
        self.deliver(buf, n, REPLY_DELAY)

    def deliver(self, buf, n, delay=0):
        out = bytearray(frame.MAX_WIRE)
        k = frame.escape_into(buf, n, out)
        self.queue.append((self.t + delay, bytes(out[:k]) + b"\xfe"))

    def linkready(self, s, delay=0):
        self.fakes[s.id] = s
        buf = bytearray(frame.MAX_LEN)
        n = proto.slave_linkready(buf, s.id, 0x11, s.max_ca, s.protocol)
        self.deliver(buf, n, delay)

    def run(self, ms, step=5):
        end = self.t + ms
        while self.t < end:
            self.t += step
            due = [q for q in self.queue if q[0] <= self.t]
            self.queue = [q for q in self.queue if q[0] > self.t]
            for q in due:
                self.m.handle_bytes(q[1], self.now())
            self.m.tick(self.now())

    def frames(self, code, since=0):
        return [(t, f) for (t, f) in self.sent if proto.code(f) == code and t >= since]

    def heartbeats_to(self, twc_id, since=0):
        return [(t, f) for (t, f) in self.frames(proto.MASTER_HEARTBEAT, since)
                if proto.receiver(f) == twc_id]
