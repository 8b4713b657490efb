# Fuzz the master core with random and mutated bus frames, on CPython or MicroPython.
#
#   .venv/bin/python bench/fuzz/bus_frames.py [CASES] [SEED]
#   node tools/mpy-wasm/run.mjs --lib firmware bench/fuzz/bus_frames.py [CASES] [SEED]
#
# Each case feeds the master one burst of bytes: pure noise, a valid slave frame
# (linkready, heartbeat, meter or VIN reply, start/stop ack, a second master), or one
# mutated (bytes changed, cut, grown; resealed with a valid checksum half the time, so
# that mutations get past the checksum); the clock moves on and the master ticks; now
# and then the site limit is set to a value that may be out of range. Every frame the
# master sends is decoded and checked:
#   - a checksum-valid frame of a code the master may send (never FC B1/B2, as
#     start/stop is off; never a heartbeat command outside proto.COMMANDS);
#   - a heartbeat only to a slave it has linked;
#   - no offer above the slave's own rating nor the per-TWC wiring, and the offers in
#     force together never above the all-TWC wiring.
# Prints the counts; exits 1 if any crash or bad frame was seen. The same seed gives the
# same cases on both interpreters (its own xorshift, not `random`).
import sys

try:
    from twc import frame, master, proto, share
except ImportError:  # CPython from the checkout: the firmware is not installed there
    sys.path.insert(0, __file__.rsplit("/", 3)[0] + "/firmware")
    from twc import frame, master, proto, share
from twc.slot import FREE
from twc.ticks import PERIOD

IDS = (0x1A2B, 0x32C4, 0x0F0F, 0x4444)  # one more than the master may link
WIRING_ALL = 40
PER_TWC = 32
ALLOWED = (proto.MASTER_LINKREADY1, proto.MASTER_LINKREADY2, proto.MASTER_HEARTBEAT,
           proto.METER_REQUEST, proto.VIN1_REQUEST, proto.VIN2_REQUEST, proto.VIN3_REQUEST)


class Rng:
    """xorshift32: the same numbers on every interpreter."""

    def __init__(self, seed):
        self.x = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1

    def below(self, n):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x % n


def _templates():
    """Valid slave (and foreign master) frames, unescaped, as bytes."""
    buf = bytearray(frame.MAX_LEN)
    out = []
    for i in IDS:
        for protocol in (1, 2):
            out.append(bytes(buf[:proto.slave_linkready(buf, i, i & 0xFF, 3200, protocol)]))
            for state in (0, 1, 3, 4, 2):
                n = proto.slave_heartbeat(buf, i, master.MASTER_ID, state, 1600, 1280, protocol)
                out.append(bytes(buf[:n]))
        out.append(bytes(buf[:proto.meter_reply(buf, i, 1234, (230, 231, 229), (26, 0, 0))]))
        for part in (0, 1, 2):
            out.append(bytes(buf[:proto.vin_reply(buf, part, i, b"5YJ3E1EA7KF000001")]))
        out.append(bytes(buf[:proto.charge_ack(buf, proto.START_ACK, i)]))
    out.append(bytes(buf[:proto.master_linkready(buf, 1, 0x5555, 0x55)]))  # a second master
    return out


class Checker:
    """The master's send callback: decodes and checks every frame it sends."""

    def __init__(self, limits):
        self.limits = limits
        self.m = None
        self.reader = frame.Reader()
        self.sent = 0
        self.bad = 0
        self.first_bad = None
        self.offers = {}  # slave id -> centiamps last offered

    def event(self, kind, twc_id, detail):
        """A released slave's car has stopped: its last offer is no longer in force."""
        if kind == master.RELEASED:
            self.offers.pop(twc_id, None)

    def fail(self, why):
        self.bad += 1
        if self.first_bad is None:
            self.first_bad = why

    def __call__(self, view):
        self.sent += 1
        r = self.reader
        k = 0
        for b in view:
            k = r.push(b) or k
        if not k:
            self.fail("a frame that does not decode: " + bytes(view).hex())
            return
        buf = r.buf
        c = proto.code(buf)
        if c not in ALLOWED:
            self.fail("code %04X sent" % c)
            return
        if c != proto.MASTER_HEARTBEAT:
            return
        to = proto.receiver(buf)
        slot = None
        for s in self.m.slots:
            if s.status != FREE and s.id == to:
                slot = s
        if slot is None:
            self.fail("a heartbeat to %04X, which is not linked" % to)
            return
        cmd = proto.hb_state(buf)
        if cmd not in proto.COMMANDS:
            self.fail("heartbeat command %02X" % cmd)
            return
        if cmd in (proto.CMD_LIMIT_P1, proto.CMD_ACK, proto.CMD_LIMIT_P2):
            ca = proto.hb_limit_ca(buf)
            rating = slot.max_ca if slot.max_ca else PER_TWC * 100
            if ca > PER_TWC * 100 or ca > rating:
                self.fail("%d cA offered to %04X (rating %d cA)" % (ca, to, slot.max_ca))
            self.offers[to] = ca
        linked = [s.id for s in self.m.slots if s.status != FREE]
        total = 0
        for i in linked:
            total += self.offers.get(i, 0)
        if total > WIRING_ALL * 100:
            self.fail("offers of %d cA together" % total)


def _wire(rng, body, seal):
    """An escaped frame of body (resealed if `seal`), framed as on the bus."""
    b = bytearray(body)
    if seal and len(b) > 2:
        frame.seal(b, len(b))
    out = bytearray(2 * len(b) + 2)
    k = frame.escape_into(b, len(b), out)  # C0 ... C0
    return bytes(out[:k]) + (b"\xfe" if rng.below(2) else b"")


def _mutate(rng, body):
    b = bytearray(body)
    for _ in range(1 + rng.below(4)):
        what = rng.below(5)
        if what == 0 and b:
            b[rng.below(len(b))] = rng.below(256)
        elif what == 1 and b:
            b[rng.below(len(b))] ^= 1 << rng.below(8)
        elif what == 2 and len(b) > 1:
            b = b[:rng.below(len(b))]
        elif what == 3:
            b.append(rng.below(256))
        elif what == 4 and len(b) > 8:  # a field set to its extremes
            i = 2 + rng.below(len(b) - 3)
            b[i] = (0x00, 0xFF, 0xC0, 0xDB)[rng.below(4)]
    return bytes(b)


def run(cases, seed, wiring=(WIRING_ALL, PER_TWC)):
    """(crashes, the first crash, the Checker) after `cases` cases; `wiring` is what the
    master is given (the checker always holds it to WIRING_ALL and PER_TWC)."""
    rng = Rng(seed)
    templates = _templates()
    limits = share.Limits(wiring[0], wiring[1], 10)
    check = Checker(limits)
    now = 0
    m = master.Master(check, limits, now=now, on_event=check.event)
    check.m = m
    crashes = 0
    first_crash = None
    for i in range(cases):
        kind = rng.below(8)
        if kind == 0:
            data = bytes(rng.below(256) for _ in range(rng.below(48)))
        elif kind < 4:
            data = _wire(rng, templates[rng.below(len(templates))], True)
        else:
            data = _wire(rng, _mutate(rng, templates[rng.below(len(templates))]),
                         rng.below(2) == 0)
        if rng.below(64) == 0:
            limits.set_site((-5, 0, 6, 17, 40, 41, 999)[rng.below(7)])
        try:
            m.handle_bytes(data, now)
            for _ in range(1 + rng.below(3)):
                now = (now + rng.below(400)) % PERIOD
                m.tick(now)
        except Exception as e:  # a crash of the core: counted, then a fresh master
            crashes += 1
            if first_crash is None:
                first_crash = "case %d: %r" % (i, e)
            m = master.Master(check, limits, now=now, on_event=check.event)
            check.m = m
            check.offers = {}
    return crashes, first_crash, check


def main():
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    crashes, first_crash, check = run(cases, seed)
    print("bus frames: %d cases (seed %d) on %s: %d crashes, %d frames sent, %d bad" % (
        cases, seed, sys.implementation.name, crashes, check.sent, check.bad))
    if first_crash:
        print("  first crash:", first_crash)
    if check.first_bad:
        print("  first bad frame:", check.first_bad)
    if crashes or check.bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
